"""The client report of a run on an analyst's own exports (a small world's customers and orders written
as CSV, one order line without its customer): in French and English it reads as a deliverable, says
what came in and what was excluded and why, lists once what the data could not support, and says
nothing of a hidden truth."""

import pandas as pd
import pytest

from helpers.paths import REPORTS_DIR
from helpers.run import open_data
from helpers.run.cli import main
from helpers.run.report import from_run
from tests.run.reports import read_in_browser
from tests.run.test_report_client import WORLD, assert_reads_as_a_deliverable


@pytest.fixture(scope="module")
def own_run(tmp_path_factory):
    """best_customers (10, 20, 21) on own exports, with a French client report; and its English one."""
    exports = tmp_path_factory.mktemp("exports")
    data, _ = open_data(WORLD, required=("customers", "transactions"))
    data.frame("customers").to_csv(exports / "customers.csv", index=False)
    orders = data.frame("transactions")
    broken = orders.iloc[[0]].assign(customer_id=None, order_id="ORDER-WITHOUT-CUSTOMER")
    pd.concat([orders, broken]).to_csv(exports / "transactions.csv", index=False)
    out = tmp_path_factory.mktemp("runs")
    assert main(["run", "best_customers", "--data", str(exports), "--out", str(out), "--no-pdf",
                 "--set", "report.language=fr"]) == 0  # fmt: skip
    (run_dir,) = out.iterdir()
    return {"fr": run_dir, "en": from_run(run_dir, tmp_path_factory.mktemp("english"), language="en").parent}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_own_data_client_report_in_a_browser_reads_as_a_deliverable(own_run, language):
    shot = REPORTS_DIR / "test-output" / f"decisions-own-data-{language}.png"
    read = read_in_browser(own_run[language] / "report.html", shot)
    assert_reads_as_a_deliverable(read, own_run["fr"], language)
    assert shot.stat().st_size > 5_000
    text = read["text"]
    truth = {"fr": ("vérité", "synthétique"), "en": ("truth", "synthetic")}[language]
    assert not any(word in text.lower() for word in truth), "nothing about a hidden truth on own data"
    excluded = {"fr": "Ce qui a été écarté, et pourquoi", "en": "What was excluded, and why"}[language]
    assert excluded in text and "customer id is empty" in text
    no_consents = {"fr": "Pas de table des consentements", "en": "No consents table"}[language]
    assert text.count(no_consents) == 1
