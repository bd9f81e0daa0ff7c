"""Headlines: written by the notebooks with their figures' keys, composed by the report."""

import json

import nbformat
import pytest

from helpers.run.headlines import HeadlineError, compose, headline, render
from helpers.run.notebook import write_metrics
from helpers.run.report import _outputs, executive_summary

PLAYED = headline(
    "played",
    "Played forward: {name} earned {margin}.",
    name="best/name",
    margin=(("strategies", "optimised plan", "margin_eur"), "+money"),
)


def test_a_headline_keeps_its_template_apart_from_its_figures():
    item = headline(
        "top20", "The top 20% of customers bring {share} of revenue.", share=("pareto_top20_revenue_share", "percent")
    )
    assert item == {
        "id": "top20",
        "text": "The top 20% of customers bring {share} of revenue.",
        "figures": {"share": {"key": ["pareto_top20_revenue_share"], "format": "percent"}},
    }
    assert compose(item, {"pareto_top20_revenue_share": 0.634}) == "The top 20% of customers bring 63% of revenue."


@pytest.mark.parametrize(
    "value, spec, text",
    [
        (13319, "integer", "13,319"),
        (57.4, "number", "57"),
        (10.44, "number.1", "10.4"),
        (0.0234, "+percent.1", "+2.3%"),
        (1200.0, "money", "€1,200"),
        (-2879.4, "+money", "-€2,879"),
        (70.456, "money.2", "€70.46"),
        (["a", "b"], "names", "a, b"),
        ([], "names", "none"),
        (["a", "b"], "count", "2"),
        ("exact", "text", "exact"),
    ],
)
def test_formats(value, spec, text):
    assert render(value, spec) == text


def test_money_is_in_the_runs_currency():
    assert render(12.5, "money.2", "GBP") == "£12.50"


def test_a_missing_figure_leaves_the_headline_out_and_never_invents_one():
    metrics = {"best": {"name": "mail"}, "headlines": [PLAYED]}
    assert executive_summary({"40_plan": metrics}) == {"40_plan": []}
    metrics["strategies"] = {"optimised plan": {"margin_eur": None}}
    assert executive_summary({"40_plan": metrics}) == {"40_plan": []}
    metrics["strategies"]["optimised plan"]["margin_eur"] = 3536.2
    assert executive_summary({"40_plan": metrics}) == {"40_plan": ["Played forward: mail earned +€3,536."]}


def test_the_report_knows_no_notebooks_keys(tmp_path):
    """Any stem, any keys: the sentence is the notebook's own, with the strategy named as the notebook names it."""
    item = headline(
        "played",
        "The {strategy} plan earned {margin}.",
        strategy="chosen",
        margin=(("strategies", "letters to the best fifth", "margin_eur"), "+money"),
    )
    metrics = {"chosen": "letters to the best fifth", "strategies": {"letters to the best fifth": {"margin_eur": 12.0}}}
    write_metrics("99_anything", metrics, tmp_path, [item])
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert executive_summary({"99_anything": written}) == {
        "99_anything": ["The letters to the best fifth plan earned +€12."]
    }


def test_a_renamed_strategy_cannot_silently_lose_its_headline(tmp_path):
    """The headline quotes a strategy the metrics no longer hold: write_metrics refuses, naming both."""
    metrics = {"best": {"name": "mail"}, "strategies": {"optimised contact plan": {"margin_eur": 3536.2}}}
    with pytest.raises(HeadlineError, match="'optimised plan' is not among \\['optimised contact plan'\\]"):
        write_metrics("40_plan", metrics, tmp_path, [PLAYED])
    assert not (tmp_path / "metrics.json").exists()


def test_a_section_left_out_on_own_data_is_accepted(tmp_path):
    write_metrics("40_plan", {"best": {"name": "mail"}}, tmp_path, [PLAYED])
    assert json.loads((tmp_path / "metrics.json").read_text())["headlines"] == [PLAYED]


@pytest.mark.parametrize(
    "text, figures, message",
    [
        ("{a} and {b}", {"a": ("x", "integer")}, "quotes \\['a', 'b'\\]"),
        ("{a}", {"a": ("x", "percentage")}, "unknown format 'percentage'"),
    ],
)
def test_a_malformed_headline_is_refused(text, figures, message):
    with pytest.raises(HeadlineError, match=message):
        headline("bad", text, **figures)


def test_the_report_leaves_out_the_path_printed_by_the_cell_tagged_metrics():
    cell = nbformat.v4.new_code_cell(
        "write_metrics(...)",
        metadata={"tags": ["metrics"]},
        outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="20,000 customers.\n"),
            nbformat.v4.new_output(
                "stream", name="stdout", text="Plan: 13 contacts.\nKey figures written to x/metrics.json\n"
            ),
        ],
    )
    html = "".join(_outputs(cell))
    assert "20,000 customers." in html and "Plan: 13 contacts." in html and "metrics.json" not in html
    cell.metadata = {}
    assert "metrics.json" in "".join(_outputs(cell))
