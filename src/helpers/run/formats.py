"""Numbers, money, percentages and dates as a reader of one language writes them (Babel, CLDR data):
``1 234,50 €``, ``53 %``, ``31 décembre 2025`` in French; ``€1,234.50``, ``53%``, ``31 December 2025``
in English. One layer for the report's sentences, tables and the files a CRM loads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, parse_pattern

from helpers.errors import RunInputError

LOCALES = {"en": "en_GB", "fr": "fr_FR"}  # the report's languages -> the CLDR locale of their formats


class LanguageError(RunInputError):
    """A report language the project has no formats or catalogue for."""


def locale(language: str) -> Locale:
    """The CLDR locale of a report language ("en", "fr")."""
    if language not in LOCALES:
        raise LanguageError(
            f"report language {language!r} is not known; languages: {', '.join(LOCALES)} "
            "(set report: {language: fr} in the playbook, or --set report.language=fr)."
        )
    return Locale.parse(LOCALES[language])


def _signed(text: str, value: float, sign: bool) -> str:
    return f"+{text}" if sign and value > 0 else text


def number(value: float, language: str, decimals: int = 0, sign: bool = False) -> str:
    """``value`` with the language's thousands mark and decimal sign, ``decimals`` places."""
    pattern = parse_pattern("#,##0" + ("." + "0" * decimals if decimals else ""))
    return _signed(pattern.apply(Decimal(repr(float(value))), locale(language)), value, sign)


def integer(value: int, language: str, sign: bool = False) -> str:
    """A whole number with the language's thousands mark (``13 319``, ``13,319``)."""
    return _signed(format_decimal(int(value), locale=locale(language)), value, sign)


def percent(share: float, language: str, decimals: int = 0, sign: bool = False) -> str:
    """A share (0.53) as a percentage in the language's way (``53 %``, ``53%``)."""
    pattern = parse_pattern(locale(language).percent_formats[None].pattern)
    pattern.frac_prec = (decimals, decimals)
    return _signed(pattern.apply(Decimal(repr(float(share))), locale(language)), share, sign)


def money(value: float, currency: str, language: str, decimals: int = 0, sign: bool = False) -> str:
    """An amount in ``currency`` (ISO code, e.g. EUR) with the language's symbol placement."""
    pattern = parse_pattern(locale(language).currency_formats["standard"].pattern)
    pattern.frac_prec = (decimals, decimals)
    text = pattern.apply(Decimal(repr(float(value))), locale(language), currency=currency, currency_digits=False)
    return _signed(text, value, sign)


def date(value: dt.date | str, language: str) -> str:
    """A day written out (``31 décembre 2025``, ``31 December 2025``); ISO text is read first."""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(day, format="long", locale=locale(language))
