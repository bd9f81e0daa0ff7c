"""Money in the data's currency: an export whose mapping says ``options.currency: GBP`` is shown in
pounds by the notebooks' printouts, tables and money axes, never in euros."""

import json
from dataclasses import replace
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pytest

from helpers import plots
from helpers.run import playbook as recipes, runs
from tests.run.test_notebooks import _run

TEXT = ("text/plain", "text/html", "text/markdown")  # an image's base64 may hold any three letters


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def _texts(outputs: str) -> str:
    """The text of a notebook's outputs (streams and text renderings), without its images."""
    return "\n".join(
        _text(o.get("text", ""))
        if o["output_type"] == "stream"
        else "".join(_text(o.get("data", {}).get(k, "")) for k in TEXT)
        for cell in json.loads(outputs)
        for o in cell
    )


@pytest.fixture
def pounds(small_world, tmp_path):
    """The small world's transaction log as an analyst's export in pounds (mapping.yml: currency GBP)."""
    folder = tmp_path / "pounds"
    folder.mkdir()
    small_world.table("transactions")[["order_id", "customer_id", "order_date", "amount"]].to_csv(
        folder / "transactions.csv", index=False
    )
    (folder / "mapping.yml").write_text("options: {currency: GBP}\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("notebook", ["10_customer_knowledge.ipynb", "21_customer_lifetime_value.ipynb"])
def test_an_export_in_pounds_is_shown_in_pounds_and_never_in_euros(notebook, pounds, tmp_path):
    shown = _texts(_run(notebook, tmp_path, data_dir=str(pounds), output_dir=str(tmp_path / "m")))
    assert "GBP" in shown
    assert "EUR" not in shown and "€" not in shown and "euro" not in shown.lower()


def test_a_money_axis_shows_the_currency_symbol():
    _, ax = plt.subplots()
    ax.plot([0, 1], [0, 2000])
    plots.money_axis(ax.yaxis, "GBP")
    assert ax.yaxis.get_major_formatter()(1500, 0) == "£1,500"
    plots.money_axis(ax.yaxis, "EUR")
    assert ax.yaxis.get_major_formatter()(1500, 0) == "€1,500"
    plt.close("all")


def test_the_report_takes_the_datas_currency_and_refuses_another():
    book = recipes.load("best_customers")
    assert runs._currency(book, SimpleNamespace(currency="GBP")) == "GBP"
    assert runs._currency(book, None) == "EUR"  # a synthetic world
    assert runs._currency(replace(book, report={**book.report, "currency": "gbp"}), SimpleNamespace(currency="GBP"))
    euros = replace(book, report={**book.report, "currency": "EUR"})
    with pytest.raises(recipes.PlaybookError, match="report.currency is EUR but the data's amounts are in GBP"):
        runs._currency(euros, SimpleNamespace(currency="GBP"))
