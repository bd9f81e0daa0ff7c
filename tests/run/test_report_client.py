"""The client report of one run (reactivation on a small world, in French): decisions whose every
number is the body's, the Holm count and list as the body reads them, the CRM files equal to the
plan, each row allowed, totals as reported."""

import json
import re

import nbformat
import numpy as np
import pandas as pd
import pytest

from helpers.decide import audience, contact_plan
from helpers.paths import REPORTS_DIR
from helpers.run import notebook_parameters, open_data
from helpers.run.cli import main
from helpers.run.decisions import decisions, role_text
from helpers.run.exports import read_csv
from helpers.run.headlines import lookup
from helpers.run.report import CHROMIUM_FLAGS, chromium, from_run
from tests.run.reports import code_lines

WORLD = {"scenario": "retail_fr", "n_customers": 3000, "n_prospects": 500, "seed": 7}
SETTINGS = [f"--set={k}={v}" for k, v in WORLD.items() if k != "scenario"]
A4_CONTENT_PX = round((210 - 2 * 18) / 25.4 * 96)  # A4's width less the report's margins, in CSS pixels


@pytest.fixture(scope="module")
def client_run(tmp_path_factory):
    """reactivation (20, 21, 40, 50) run once with a French client report and its PDF."""
    out = tmp_path_factory.mktemp("client")
    assert main(["run", "reactivation", "--out", str(out), "--set", "report.language=fr", *SETTINGS]) == 0
    (run_dir,) = out.iterdir()
    return run_dir


def _metrics(run_dir):
    return {p.parent.name: json.loads(p.read_text()) for p in run_dir.glob("*/metrics.json")}


def _printed(run_dir, stem: str) -> str:
    cells = nbformat.read(run_dir / f"{stem}.ipynb", as_version=4).cells
    return "".join(o.get("text", "") for c in cells if c.cell_type == "code" for o in c.outputs)


def test_every_number_on_the_decision_page_is_a_figure_of_the_metrics_the_body_prints(client_run):
    metrics, html = _metrics(client_run), (client_run / "report.html").read_text()
    found = decisions(metrics)
    assert {(d["notebook"], d["item"]["id"]) for d in found} == {
        ("21_customer_lifetime_value", "win_back"),
        ("40_plan_channel_mix", "plan"),
    }
    decision_page = html[html.index('id="decisions"') : html.index("</section>", html.index('id="decisions"'))]
    for d in found:
        for role, figure in d["item"]["roles"].items():
            assert d["values"][role] == lookup(metrics[d["notebook"]], figure["key"])
            if role != "weeks":
                assert role_text(d, role, "EUR", "fr") in decision_page
    plan = metrics["40_plan_channel_mix"]["plan"]
    body = _printed(client_run, "40_plan_channel_mix")
    assert f"{plan['contacts']:,} contacts for {plan['cost_eur']:,.0f} EUR" in body
    assert f"expected incremental margin {plan['expected_incremental_margin_eur']:,.0f} EUR" in body
    at_risk = metrics["21_customer_lifetime_value"]["clv"]["value_at_risk_customers"]
    assert f"{at_risk:,} valuable customers are slipping away" in _printed(client_run, "21_customer_lifetime_value")


def test_the_holm_count_and_the_campaigns_that_hold_are_the_same_in_summary_metrics_and_body(client_run):
    metrics = _metrics(client_run)["50_design_and_read_test"]
    # a lift holds when its Holm-adjusted p-value is below 5% (0.0 counts) and its interval lies above 0
    holding = [arm for arm, h in metrics["history"].items() if h["p_adjusted"] < 0.05 and h["ci"][0] > 0]
    assert sorted(holding) == sorted(metrics["significant_after_holm"])
    body = _printed(client_run, "50_design_and_read_test")
    count = re.search(r"(\d+) of (\d+) past campaigns show a response lift", body)
    assert count and (int(count[1]), int(count[2])) == (len(holding), len(metrics["history"]))
    listed = re.findall(r"^- (\S+) (raised|lowered|cannot)", body[count.end() :], re.M)
    assert [arm for arm, _ in listed][: len(holding)] == sorted(holding)
    assert all(verdict != "cannot" for _, verdict in listed[: len(holding)])
    html = (client_run / "report.html").read_text()
    assert f"{len(holding)} des {len(metrics['history'])} campagnes passées" in html


def test_the_exported_plan_reads_back_equal_to_the_plan_every_row_allowed_totals_as_reported(client_run):
    plan = pd.read_parquet(client_run / "40_plan_channel_mix" / "exports" / "contact_plan.parquet")
    read = read_csv(client_run / "exports" / "contact_plan.csv", "fr")
    assert (client_run / "exports" / "contact_plan.csv").read_bytes().startswith(b"\xef\xbb\xbfidentifiant client;")
    assert list(read.columns) == ["identifiant client", "canal", "offre", "date d’envoi", "marge incrémentale attendue"]
    assert read["identifiant client"].tolist() == plan.customer_id.astype(str).tolist()
    assert read.canal.tolist() == plan.channel.tolist() and read.offre.tolist() == plan.offer.tolist()
    assert read["date d’envoi"].tolist() == plan.send_date.astype(str).tolist()
    margins = read["marge incrémentale attendue"].str.replace(",", ".").astype(float)
    np.testing.assert_array_equal(margins.to_numpy(), plan.expected_incremental_margin.to_numpy())
    xlsx = pd.read_excel(client_run / "exports" / "contact_plan.xlsx", dtype={"identifiant client": str})
    assert xlsx["identifiant client"].tolist() == read["identifiant client"].tolist()

    metrics = _metrics(client_run)["40_plan_channel_mix"]
    assert len(read) == metrics["plan"]["contacts"] and plan.customer_id.is_unique
    assert margins.sum() == pytest.approx(metrics["plan"]["expected_incremental_margin_eur"], abs=0.01)

    data, _ = open_data(WORLD, required=("contacts", "campaigns", "customers"))
    day = plan.send_date.iloc[0]
    recent = contact_plan.recent_contacts(data.frame("contacts"), data.frame("campaigns"), day)
    cap = int(notebook_parameters("40_plan_channel_mix")["pressure_cap"]["default"])
    eligible = audience.eligible_on(data, audience.buyers(data), day, recent=recent, pressure_cap=cap)
    allowed = eligible.stack()
    assert allowed.reindex(list(zip(plan.customer_id, plan.channel, strict=True))).fillna(False).all()


def test_the_whole_value_at_risk_list_is_exported(client_run):
    metrics = _metrics(client_run)["21_customer_lifetime_value"]["clv"]
    read = read_csv(client_run / "exports" / "value_at_risk.csv", "fr")
    assert len(read) == metrics["value_at_risk_customers"] > 20
    manifest = json.loads((client_run / "manifest.json").read_text())
    assert {f"exports/{n}.{x}" for n in ("contact_plan", "value_at_risk") for x in ("csv", "xlsx")} <= set(
        manifest["outputs"]
    )


@pytest.fixture(scope="module")
def reports(client_run, tmp_path_factory):
    """language -> the folder of its client report: the run's own (fr), and the same run in English."""
    english = from_run(client_run, tmp_path_factory.mktemp("english"), pdf=True, language="en").parent
    return {"fr": client_run, "en": english}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_client_report_in_a_browser_reads_as_a_deliverable(reports, client_run, language):
    from playwright.sync_api import sync_playwright

    shot = REPORTS_DIR / "test-output" / f"decisions-{language}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as engine:
        browser = engine.chromium.launch(executable_path=chromium(), args=list(CHROMIUM_FLAGS[1:-1]))
        page = browser.new_page(viewport={"width": A4_CONTENT_PX, "height": 1100})
        page.emulate_media(media="print")
        page.goto((reports[language] / "report.html").as_uri(), wait_until="load")
        text = page.evaluate(
            "[...document.body.children].filter(e => e.id !== 'reproducibility').map(e => e.innerText).join('\\n')"
        )
        too_wide = page.evaluate(
            "[...document.querySelectorAll('table')].filter(t => t.scrollWidth > t.clientWidth + 1"
            " || t.getBoundingClientRect().right > window.innerWidth + 1).length"
        )
        anchors = page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)")
        page.locator("#decisions").screenshot(path=str(shot))
        browser.close()
    assert not [line for line in code_lines(client_run) if line in text], "code leaks into the report"
    assert re.findall(r"\b\w+_\w+\b", text) == [], "identifiers in the visible text"
    assert not re.search(r"\b(NaN|NaT|None|nan|null)\b|<NA>", text)
    assert too_wide == 0 and len(anchors) == len(set(anchors))
    heading = {"fr": "Ce que nous recommandons", "en": "What we recommend"}[language]
    assert heading in text and ("Sommaire" if language == "fr" else "Contents") in text
    assert shot.stat().st_size > 5_000


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_client_pdf_is_a4_with_contents_and_page_numbers(reports, language):
    from pypdf import PdfReader

    pages = PdfReader(reports[language] / "report.pdf").pages
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pages}
    assert sizes == {(595, 842)}  # A4 in points
    texts = [" ".join(p.extract_text().split()) for p in pages]
    assert ("Sommaire" if language == "fr" else "Contents") in texts[1]
    for number, text in enumerate(texts[1:], 2):
        assert f"page {number} / {len(pages)}" in text
