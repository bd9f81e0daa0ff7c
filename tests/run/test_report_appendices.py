"""The client report's methods and data appendices and its figures, on hand-made metrics and a quality
report: checks quoted from the metrics, sources cited in full, exclusions with their reason, missing
tables listed once, figures labelled in the language and never under 8 points."""

import re
from html import unescape

import pytest

from helpers.run import appendices, client_figures

METRICS = {
    "20_segment_customers": {
        "clusters": {"k": 3, "silhouette": 0.3121},
        "segments": {
            "champions": {"customer_share": 0.206, "revenue_share": 0.478},
            "can't lose": {"customer_share": 0.112, "revenue_share": 0.178},
            "lost": {"customer_share": 0.099, "revenue_share": 0.022},
        },
    },  # fmt: skip
    "21_customer_lifetime_value": {"holdout_weeks": 52.14, "holdout_error": 0.023435},
    "40_plan_channel_mix": {"plan": {"gap": 0.0}, "frontier": {"0.0": 0.0, "600.0": 3332.9, "1200.0": 3536.3}},
    "50_design_and_read_test": {
        "history": {
            "CMP-202405-phone": {"incremental_points": 2.93, "ci": [0.95, 4.37]},
            "CMP-202409-email": {"incremental_points": -0.49, "ci": [-2.27, 0.81]},
        },
        "significant_after_holm": ["CMP-202405-phone"],
    },  # fmt: skip
}
QUALITY = {
    "source": "exports",
    "missing_tables": ["products", "consents"],
    "tables": {
        "customers": {"table": "customers", "file": "customers.csv", "rows_read": 1200, "rows_kept": 1200,
                      "excluded": {}},
        "transactions": {"table": "transactions", "file": "transactions.csv", "rows_read": 5003, "rows_kept": 5000,
                         "excluded": {"customer_id is empty": 2, "order_id shared by different customers or dates": 1}},
    },
}  # fmt: skip


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page))).replace("\u202f", " ").replace("\u00a0", " ")


def test_the_methods_appendix_quotes_each_models_check_from_the_metrics_and_cites_its_sources_in_full():
    text = _text(appendices.methods(METRICS, "EUR", "fr"))
    assert "Vérifié sur 52 semaines mises de côté, le modèle d’achat s’écarte de +2,3 %." in text
    assert "3 groupes de comportement, silhouette 0,31" in text
    assert (
        "Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005)." in text
        and "https://doi.org/10.1287/mksc.1040.0098" in text
    )
    assert "Holm, S. (1979). A Simple Sequentially Rejective Multiple Test Procedure" in text
    for method in appendices.METHODS.values():
        for source in method.sources:
            assert source.author and source.title and 1900 < source.year < 2030 and source.link.startswith("https://")


def test_the_data_appendix_says_what_came_in_what_was_excluded_and_why_and_what_could_not_be_done():
    text = _text(appendices.data(QUALITY, "fr"))
    assert "commandes transactions.csv 5 003 5 000 3" in text
    assert "commandes customer id is empty 2" in text and "customer_id" not in text
    assert text.count("Pas de table des consentements") == 1 and "Pas de table des produits" in text
    assert "Pas de table des contacts" not in text
    english = _text(appendices.data({**QUALITY, "missing_tables": [], "tables": {}}, "en"))
    assert "No row was excluded." in english and "could not support" not in english
    assert "synthetic customer world" in appendices.data(None, "en")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_figures_are_labelled_in_the_language_with_money_on_money_axes_and_no_text_under_8_points(language):
    svgs = [svg for stem, m in METRICS.items() for svg in client_figures.figures(stem, m, "EUR", language)]
    assert len(svgs) == 3
    text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", "".join(svgs))).replace("\u202f", " ").replace("\xa0", " ")
    sizes = [float(s) for s in re.findall(r"font(?:-size)?: ?(?:\w+ )*([\d.]+)px", "".join(svgs))]
    assert sizes and min(sizes) >= client_figures.MIN_FONT_PT  # SVG user units are points (72 per inch)
    widths = [float(w) for w in re.findall(r'<svg[^>]*width="([\d.]+)pt"', "".join(svgs))]
    assert len(widths) == 3 and max(widths) <= (210 - 2 * 18) / 25.4 * 72  # never shrunk to fit the A4 page
    if language == "fr":
        assert "à ne pas perdre" in text and "Part du chiffre d’affaires" in text and "1 200 €" in text
    else:
        assert "can't lose" in text and "Share of revenue" in text and "€1,200" in text
    assert "CMP-202405-phone" in text and "_" not in text


def test_the_figures_ids_are_unique_in_the_report_and_the_same_on_every_run():
    def drawn():
        return "".join(svg for stem, m in METRICS.items() for svg in client_figures.figures(stem, m, "EUR", "en"))

    ids = re.findall(r'\bid="([^"]+)"', drawn())
    assert len(ids) == len(set(ids)) and set(re.findall(r'(?:url\(#|href="#)([^")]+)', drawn())) <= set(ids)
    assert drawn() == drawn()
