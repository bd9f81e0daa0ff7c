"""The client report of one run (reactivation on a small world, in French): decisions whose every
number is the body's, the Holm count and list as the body reads them, the CRM files equal to the
plan, each row allowed, totals as reported."""

import json
import re
from html import escape, unescape

import nbformat
import numpy as np
import pandas as pd
import pytest

from helpers.decide import audience, contact_plan
from helpers.paths import REPORTS_DIR
from helpers.run import notebook_parameters, open_data
from helpers.run.cli import main
from helpers.run.decisions import per_year, recorded_decisions, role_text
from helpers.run.exports import read_csv
from helpers.run.headlines import compose, lookup, render
from helpers.run.report import from_run
from tests.run.reports import code_lines, read_in_browser

WORLD = {"scenario": "retail_fr", "n_customers": 3000, "n_prospects": 500, "seed": 7}
SETTINGS = [f"--set={k}={v}" for k, v in WORLD.items() if k != "scenario"]


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


def _section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</section>", start)]


def _figures_shown(d: dict, metrics: dict) -> list[str]:
    """Every figure a decision's row may show, written as the French report writes it."""
    m = metrics[d["notebook"]]
    shown = [render(lookup(m, f["key"]), f["format"], "EUR", "fr", client=True) for f in d["item"]["figures"].values()]
    shown += [role_text(d, role, "EUR", "fr") for role in d["item"]["roles"]]
    times = d["item"]["decision"]["times_a_year"]
    if per_year(d) is not None:
        shown += [render(per_year(d), d["item"]["roles"]["earns"]["format"], "EUR", "fr"), str(times)]
    return [s for s in shown if s]


def test_every_number_on_the_decision_page_is_a_figure_of_the_metrics_the_body_prints(client_run):
    metrics, html = _metrics(client_run), (client_run / "report.html").read_text()
    found = recorded_decisions(metrics)
    shown = {(d["notebook"], d["item"]["id"]) for d in found}
    assert {
        ("20_segment_customers", "win_back_order"),
        ("20_segment_customers", "lost"),
        ("21_customer_lifetime_value", "win_back"),
        ("40_plan_channel_mix", "plan"),
    } <= shown
    history = metrics["50_design_and_read_test"]
    assert {i for s, i in shown if s == "50_design_and_read_test"} == {k for k in ("roll_out", "stop") if history[k]}
    assert any(not d["item"]["decision"]["recommended"] for d in found), "what is not recommended is on the page"
    decision_page = _section(html, "decisions")
    for d in found:
        for role, figure in d["item"]["roles"].items():
            assert d["values"][role] == lookup(metrics[d["notebook"]], figure["key"])
            if role != "weeks":
                assert role_text(d, role, "EUR", "fr") in decision_page
        sentence = escape(compose(d["item"], metrics[d["notebook"]], "EUR", "fr", client=True))
        assert sentence in decision_page and sentence in _section(html, f"q-{d['notebook']}"), sentence
    figures = " ".join(f for d in found for f in _figures_shown(d, metrics))
    page_text = unescape(re.sub(r"<[^>]+>", " ", decision_page))
    for number in re.findall(r"\d[\d\u202f\u00a0,]*\d|\d", page_text):
        assert number in figures, f"{number} on the decision page is none of the decisions' figures"
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
    shot = REPORTS_DIR / "test-output" / f"decisions-{language}.png"
    read = read_in_browser(reports[language] / "report.html", shot)
    assert_reads_as_a_deliverable(read, client_run, language)
    assert read["figures"] >= 3, "the segments, the budget frontier and the campaigns' lifts"
    assert shot.stat().st_size > 5_000


def assert_reads_as_a_deliverable(read: dict, run_dir, language: str) -> None:
    """No code, no identifier, no missing-value marker, nothing wider than the page, unique anchors,
    figures' text at 8 points or more, the decision page and the contents in the language."""
    text = read["text"]
    assert not [line for line in code_lines(run_dir) if line in text], "code leaks into the report"
    assert re.findall(r"\b\w+_\w+\b", text) == [], "identifiers in the visible text"
    assert not re.search(r"\b(NaN|NaT|None|nan|null)\b|<NA>", text)
    assert read["too_wide"] == 0 and len(read["anchors"]) == len(set(read["anchors"]))
    assert read["figures"] == 0 or read["smallest_figure_pt"] >= 8 - 0.05
    heading = {"fr": "Ce que nous recommandons", "en": "What we recommend"}[language]
    assert heading in text and ("Sommaire" if language == "fr" else "Contents") in text


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


def test_playbook_report_writes_a_runs_report_again_beside_it_and_leaves_the_run_as_its_manifest_lists_it(
    client_run, capsys
):
    before = {p: p.stat().st_mtime_ns for p in client_run.rglob("*")}
    assert main(["report", str(client_run), "--audience", "training", "--language", "en", "--no-pdf"]) == 0
    again = client_run.with_name(f"{client_run.name}.training-en")
    assert "report:" in capsys.readouterr().out and {p: p.stat().st_mtime_ns for p in client_run.rglob("*")} == before
    page = (again / "report.html").read_text()
    assert '<html lang="en">' in page and "Executive summary" in page and "What we recommend" not in page
    assert (again / "exports" / "contact_plan.csv").read_bytes().startswith(b"\xef\xbb\xbfcustomer id,")
    assert main(["report", str(again), "--no-pdf"]) == 1
    assert "holds no manifest.json" in capsys.readouterr().err
