"""Numbers, money, percentages and dates as French and English readers write them."""

import datetime as dt

import pytest

from helpers.run import formats
from helpers.run.headlines import render

NARROW, NBSP = "\u202f", "\u00a0"


def spaced(text: str) -> str:
    """``text`` with its non-breaking spaces shown as plain ones."""
    return text.replace(NARROW, " ").replace(NBSP, " ")


@pytest.mark.parametrize(
    "call, fr, en",
    [
        (lambda lang: formats.money(1234.5, "EUR", lang, 2), "1 234,50 €", "€1,234.50"),
        (lambda lang: formats.money(-2879.4, "EUR", lang), "-2 879 €", "-€2,879"),
        (lambda lang: formats.money(4581.2, "EUR", lang, sign=True), "+4 581 €", "+€4,581"),
        (lambda lang: formats.money(12.5, "GBP", lang, 2), "12,50 £GB", "£12.50"),
        (lambda lang: formats.percent(0.53, lang), "53 %", "53%"),
        (lambda lang: formats.percent(0.0234, lang, 1, sign=True), "+2,3 %", "+2.3%"),
        (lambda lang: formats.integer(13319, lang), "13 319", "13,319"),
        (lambda lang: formats.number(10.44, lang, 1), "10,4", "10.4"),
        (lambda lang: formats.number(1234567.891, lang, 2), "1 234 567,89", "1,234,567.89"),
        (lambda lang: formats.date(dt.date(2025, 12, 31), lang), "31 décembre 2025", "31 December 2025"),
        (lambda lang: formats.date("2026-01-01", lang), "1 janvier 2026", "1 January 2026"),
    ],
)
def test_french_and_english_formats(call, fr, en):
    assert spaced(call("fr")) == fr
    assert spaced(call("en")) == en


def test_a_french_number_never_breaks_at_its_thousands_mark_or_before_its_unit():
    for text in (formats.money(1234.5, "EUR", "fr", 2), formats.percent(0.53, "fr"), formats.integer(20000, "fr")):
        assert " " not in text and spaced(text) != text


def test_headline_formats_follow_the_language():
    assert spaced(render(0.634, "percent", language="fr")) == "63 %"
    assert spaced(render(3536.2, "+money", "EUR", "fr")) == "+3 536 €"
    assert spaced(render("2025-06-30", "date", language="fr")) == "30 juin 2025"
    assert render(3536.2, "+money") == "+€3,536"


def test_an_unknown_language_is_refused_naming_the_known_ones():
    with pytest.raises(formats.LanguageError, match="'de' is not known; languages: en, fr"):
        formats.money(1, "EUR", "de")
