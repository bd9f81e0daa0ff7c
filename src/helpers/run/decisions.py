"""Decisions: the headlines a client acts on, for the report's first page.

A decision is a headline (``helpers.run.headlines``) that also says which of its figures are what it
earns over how many weeks, what it costs, the interval around the gain, and the kind of evidence
behind it. Every number on the decision page is one of the headline's figures, read from the
notebook's metrics.json like the body's, so the two cannot disagree. A decision may replace another
notebook's (the channel-mix plan replaces the unconstrained next-best-offer plan when both ran).
"""

from __future__ import annotations

from helpers.run.headlines import HeadlineError, compose, headline, lookup, render

EVIDENCE = {
    "test": "a randomised test",
    "model": "a model learned from past randomised campaigns",
    "forecast": "a purchase model checked on a held-out year",
    "observation": "what the customers' purchases show, not yet tested",
    "simulation": "a simulation of the customers, to be confirmed by a test",
    "assumption": "an assumption to be tested",
}
ROLES = ("earns", "cost", "low", "high", "weeks")


def decision(
    id: str,
    text: str,
    evidence: str,
    *,
    recommended: bool = True,
    replaces: tuple[str, ...] = (),
    times_a_year: int | None = None,
    **figures: tuple[str | tuple[str, ...], str],
) -> dict:
    """A headline the decision page shows. Among ``figures``, those named ``earns`` (money over
    ``weeks``), ``cost``, ``low`` and ``high`` (the interval of the gain) and ``weeks`` have a role
    on the page; ``evidence`` is one of EVIDENCE; ``replaces``: ``"<notebook>:<headline id>"``;
    ``times_a_year``: how often the action can be repeated in a year (a monthly campaign: 12), for
    the yearly figure; without it the page shows none rather than guess."""
    if evidence not in EVIDENCE:
        raise HeadlineError(f"decision {id!r}: evidence {evidence!r} is not one of {', '.join(EVIDENCE)}.")
    if ("low" in figures) != ("high" in figures) or ("earns" in figures) != ("weeks" in figures):
        raise HeadlineError(f"decision {id!r}: give low with high, and earns with weeks (its horizon).")
    quoted = headline(id, text, **{k: v for k, v in figures.items() if f"{{{k}}}" in text})
    roles = headline(id, "".join(f"{{{k}}}" for k in figures), **figures)["figures"]
    return {
        **quoted,
        "decision": {
            "recommended": recommended,
            "evidence": evidence,
            "replaces": list(replaces),
            "times_a_year": times_a_year,
        },
        "roles": {k: v for k, v in roles.items() if k in ROLES},
    }


def _found(metrics: dict[str, dict]) -> list[dict]:
    return [
        {"notebook": stem, "item": item, "values": {k: lookup(m, f["key"]) for k, f in item.get("roles", {}).items()}}
        for stem, m in metrics.items()
        for item in m.get("headlines", [])
        if "decision" in item and compose(item, m) is not None
    ]


def replaced(metrics: dict[str, dict]) -> set[str]:
    """``"<notebook>:<headline id>"`` of every decision a decision these metrics hold replaces."""
    return {r for d in _found(metrics) for r in d["item"]["decision"]["replaces"]}


def recorded_decisions(metrics: dict[str, dict]) -> list[dict]:
    """Every decision of every notebook whose figures its metrics hold, minus those another replaces,
    as {"notebook", "item", "values"} (values: role -> number), recommended ones first."""
    gone = replaced(metrics)
    kept = [d for d in _found(metrics) if f"{d['notebook']}:{d['item']['id']}" not in gone]
    return sorted(kept, key=lambda d: not d["item"]["decision"]["recommended"])


def per_year(found: dict) -> float | None:
    """A decision's yearly gain: its gain times how often it can be repeated in a year, or None when
    the notebook did not say how often (or there is no gain)."""
    times, earns = found["item"]["decision"].get("times_a_year"), found["values"].get("earns")
    return None if times is None or earns is None else earns * times


def role_text(found: dict, role: str, currency: str, language: str) -> str | None:
    """A role's figure as its headline formats it, or None when the decision has no such figure."""
    figure = found["item"].get("roles", {}).get(role)
    value = found["values"].get(role)
    return None if figure is None or value is None else render(value, figure["format"], currency, language)
