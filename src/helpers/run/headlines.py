"""Headlines: the sentences a notebook writes into its metrics.json for the report's executive summary.

A headline is a stable id, a template and the figures it quotes, each a key path into the notebook's
metrics and a format. The report composes the sentence from the metrics it is given and leaves out any
headline whose figures are missing (a section skipped on own data), never inventing one. Template and
figures stay apart, so a message catalogue can translate the template alone.

Formats, ``[+]kind[.decimals]`` (``+`` shows the sign):

    integer   13,319            number    10.4                  percent   63%
    money     €1,200 (the run's currency)                           count     how many items
    names     a, b (or "none")  text      the value as written  date      31 December 2025
    codes     CMP-1, CMP-2: the data's own codes (campaign ids), never translated

Numbers, money, percentages and dates are written as the report's language writes them
(``helpers.run.formats``: ``13 319``, ``1 200 €``, ``63 %`` in French). In a client report, names and
text figures are shown as its catalogue names them (``helpers.run.catalogue``).
"""

from __future__ import annotations

import re
import string
from typing import Any

from helpers.errors import RunInputError
from helpers.run import catalogue, formats

KINDS = ("integer", "number", "percent", "money", "count", "names", "codes", "text", "date")
FORMAT = re.compile(rf"(?P<sign>\+?)(?P<kind>{'|'.join(KINDS)})(?:\.(?P<decimals>\d))?")


class HeadlineError(RunInputError):
    """A headline that cannot be written: a template placeholder without its figure, an unknown format,
    or a key missing inside a section the metrics hold."""


def headline(id: str, text: str, **figures: tuple[str | tuple[str, ...], str]) -> dict:
    """One headline: ``text`` with ``{name}`` placeholders, each given as ``name=(key, format)`` (or ``name=key``
    for the text format); ``key``
    is a metrics key, a path into nested sections ("plan/contacts"), or a tuple of keys when a name
    holds a slash."""
    wanted = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    if wanted != set(figures):
        raise HeadlineError(
            f"headline {id!r}: the template quotes {sorted(wanted)} but the figures given are "
            f"{sorted(figures)}; give each placeholder one (key, format)."
        )
    figures = {name: (figure, "text") if isinstance(figure, str) else figure for name, figure in figures.items()}
    for name, (_, spec) in figures.items():
        if not FORMAT.fullmatch(spec):
            raise HeadlineError(
                f"headline {id!r}: figure {name!r} has the unknown format {spec!r}; formats are "
                f"[+]kind[.decimals] with kind one of {', '.join(KINDS)}."
            )
    return {
        "id": id,
        "text": text,
        "figures": {
            name: {"key": key.split("/") if isinstance(key, str) else list(key), "format": spec}
            for name, (key, spec) in figures.items()
        },
    }


def lookup(metrics: dict, key: list[str]) -> Any:
    """The value at ``key`` in ``metrics``; None where a section on the way is absent or None."""
    value = metrics
    for part in key:
        if not isinstance(value, dict) or value.get(part) is None:
            return None
        value = value[part]
    return value


def check_keys(headlines: list[dict], metrics: dict) -> None:
    """Refuse a headline that quotes a name missing inside a section the metrics hold (a strategy or a
    segment renamed on one side only); a top-level section left out, or None on the way, is a figure
    missing on this data and only leaves the headline out."""
    for item in headlines:
        for name, figure in item["figures"].items():
            value = metrics
            for depth, part in enumerate(figure["key"]):
                if value is None or (depth == 0 and part not in value):
                    break
                if not isinstance(value, dict) or part not in value:
                    raise HeadlineError(
                        f"headline {item['id']!r}: figure {name!r} quotes {figure['key']}, but "
                        f"{part!r} is not among {sorted(value) if isinstance(value, dict) else value}."
                    )
                value = value[part]


def render(value: Any, spec: str, currency: str = "EUR", language: str = "en", client: bool = False) -> str:
    """``value`` written in the format ``spec`` (see the module docstring) in ``language``; ``client``:
    names and text as the language's catalogue names them."""
    parts = FORMAT.fullmatch(spec)
    if parts is None:
        raise HeadlineError(f"unknown format {spec!r}: formats are [+]kind[.decimals], kind one of {', '.join(KINDS)}.")
    kind, sign, decimals = parts["kind"], bool(parts["sign"]), int(parts["decimals"] or 0)
    if kind == "integer":
        return formats.integer(value, language, sign)
    if kind == "number":
        return formats.number(value, language, decimals, sign)
    if kind == "percent":
        return formats.percent(value, language, decimals, sign)
    if kind == "money":
        return formats.money(value, currency, language, decimals, sign)
    if kind == "count":
        return formats.integer(len(value), language)
    if kind == "date":
        return formats.date(value, language)
    if kind == "codes":
        return ", ".join(map(str, value))
    shown = (lambda v: catalogue.name(v, language)) if client else str
    if kind == "names":
        return ", ".join(map(shown, value)) or (catalogue.gettext("none", language) if client else "none")
    return shown(value)


def compose(item: dict, metrics: dict, currency: str = "EUR", language: str = "en", client: bool = False) -> str | None:
    """The sentence of one headline on ``metrics``, or None when one of its figures is missing; a client
    report's sentence is the language's translation of the template."""
    values = {name: lookup(metrics, figure["key"]) for name, figure in item["figures"].items()}
    if any(value is None for value in values.values()):
        return None
    template = catalogue.gettext(item["text"], language) if client else item["text"]
    return template.format(
        **{
            name: render(values[name], figure["format"], currency, language, client)
            for name, figure in item["figures"].items()
        }
    )
