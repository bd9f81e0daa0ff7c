"""Playbooks: recipes checked before anything runs, runs that reproduce to the byte, and a report
that a browser shows without code, broken figures or console errors."""

import json
import re
import shutil
import subprocess
import sys
import time

import nbformat
import pytest

from helpers import playbook as recipes
from helpers.cli import main
from helpers.paths import REPORTS_DIR
from helpers.runner import notebooks
from helpers.memory import PeakMemory

SMALL = ["--set", "n_customers=3000", "--set", "n_prospects=500", "--set", "seed=7"]


def test_every_playbook_loads_and_the_tour_runs_every_notebook():
    assert {"tour", "best_customers", "reactivation", "contact_pressure", "next_best_offer",
            "prospect_nurturing"} <= set(recipes.available())
    for name in recipes.available():
        book = recipes.load(name)
        assert book.question.endswith("?") and book.report["currency"] == "EUR"
    assert [s.notebook for s in recipes.load("tour").steps] == [p.stem for p in notebooks()]


def test_describe_reads_each_parameter_and_its_help_from_the_notebooks():
    text = recipes.describe(recipes.load("reactivation"))
    assert re.search(r"min_reach_cant_lose\s+300\s+int\s+contacts promised", text)   # the playbook's value
    assert re.search(r"horizon_months\s+12\s+int\s+CLV horizon", text)                 # the notebook default
    assert "--set 40.NAME=VALUE" in text


def test_list_names_each_playbook_with_its_question(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "contact_pressure     Can we contact customers less often" in out


def _yaml(tmp_path, text: str):
    path = tmp_path / "custom.yml"
    path.write_text("title: Custom\nquestion: Does it check?\n" + text)
    return str(path)


@pytest.mark.parametrize("recipe, settings, fault", [
    ("notebooks: [10_customer_knowledge, 99_crystal_ball]\n", [], "unknown notebook '99_crystal_ball'"),
    ("notebooks:\n  - {notebook: 20_segment_customers, parameters: {colour: red}}\n", [],
     "notebook 20_segment_customers has no parameter 'colour'"),
    ("data: {n_customer: 10}\nnotebooks: [10_customer_knowledge]\n", [], "unknown data key(s) 'n_customer'"),
    ("parameters: {budget_eur: 10}\nnotebooks: [10_customer_knowledge]\n", [],
     "unknown parameter 'budget_eur': no notebook of this playbook declares it"),
    ("notebooks: [21_customer_lifetime_value]\n", ["--set", "21.horizon_months=twelve"],
     "21_customer_lifetime_value.horizon_months must be a whole number"),
    ("notebooks: [10_customer_knowledge]\n", ["--set", "seed=-1"], "seed must be at least 0"),
    ("notebooks: [10_customer_knowledge]\n", ["--set", "as_of=31/12/2025"], "as_of must be a date like 2025-12-31"),
    ("notebooks: [10_customer_knowledge]\n", ["--set", "budget_eur=100"], "unknown parameter 'budget_eur'"),
    ("notebooks: [10_customer_knowledge]\n", ["--set", "output_dir=/tmp"], "unknown parameter 'output_dir'"),
    ("notebooks: [10_customer_knowledge]\n", ["--data", "no/such/folder"], "data_dir"),
    ("data: {data_dir: exports/missing}\nnotebooks: [10_customer_knowledge]\n", [], "no such folder"),
])
def test_a_bad_playbook_fails_before_running_anything(tmp_path, capsys, recipe, settings, fault):
    out = tmp_path / "runs"
    assert main(["run", _yaml(tmp_path, recipe), "--out", str(out), "--no-pdf", *settings]) == 1
    assert fault in capsys.readouterr().err
    assert not out.exists(), "nothing ran, no run folder"


def test_a_failing_notebook_stops_the_run_naming_notebook_cell_and_error(tmp_path, capsys):
    recipe = "notebooks:\n  - {notebook: 40_plan_channel_mix, parameters: {budget_eur: -5}}\n"
    assert main(["run", _yaml(tmp_path, recipe), "--out", str(tmp_path), "--no-pdf", *SMALL]) == 1
    err = capsys.readouterr().err
    assert re.search(r"40_plan_channel_mix failed at cell \d+: PlanInputError: .*budget", err)
    kept = list(tmp_path.glob("*/40_plan_channel_mix.ipynb"))
    assert len(kept) == 1 and "kept at" in err
    assert not list(tmp_path.glob("*/manifest.json"))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """best_customers run twice with the same parameters, report.pdf included."""
    out = tmp_path_factory.mktemp("runs")
    for _ in range(2):
        assert main(["run", "best_customers", "--out", str(out), *SMALL]) == 0
    return sorted(out.iterdir())


def _manifest(run_dir):
    return json.loads((run_dir / "manifest.json").read_text())


def test_the_same_playbook_twice_gives_identical_data_metrics_and_report(two_runs):
    first, second = map(_manifest, two_runs)
    assert first["data"] == second["data"] and len(first["data"]) >= 8
    assert first["outputs"] == second["outputs"]
    assert {"metrics.json", "report.html", "10_customer_knowledge/metrics.json",
            "21_customer_lifetime_value.ipynb"} <= set(first["outputs"])
    assert first["seed"] == 7 and first["playbook"]["shared"]["n_customers"] == 3000
    assert first["packages"]["papermill"] and re.match(r"[0-9a-f]{40}", first["git"])


def test_reproduce_passes_then_fails_naming_the_altered_file(two_runs, capsys):
    manifest = two_runs[0] / "manifest.json"
    assert main(["reproduce", str(manifest), "--no-pdf"]) == 0
    assert "reproduced: all 8 outputs identical" in capsys.readouterr().out
    metrics = two_runs[0] / "20_segment_customers" / "metrics.json"
    metrics.write_text(metrics.read_text().replace('"k": ', '"k": 1'))
    assert main(["reproduce", str(manifest), "--no-pdf"]) == 1
    assert "20_segment_customers/metrics.json: differs from the manifest" in capsys.readouterr().err


def test_the_summary_comes_from_every_notebooks_metrics(two_runs):
    combined = json.loads((two_runs[1] / "metrics.json").read_text())
    assert set(combined["notebooks"]) == set(combined["summary"]) == {
        "10_customer_knowledge", "20_segment_customers", "21_customer_lifetime_value"}
    share = combined["notebooks"]["10_customer_knowledge"]["pareto_top20_revenue_share"]
    assert f"The top 20% of customers bring {share:.0%} of revenue." in combined["summary"]["10_customer_knowledge"]
    html = (two_runs[1] / "report.html").read_text()
    assert all(sentence in html for sentences in combined["summary"].values() for sentence in sentences)


def test_report_pdf_is_printed(two_runs):
    pdf = (two_runs[1] / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 5


def test_report_in_headless_chromium_shows_no_code_every_figure_and_no_console_error(two_runs):
    from playwright.sync_api import sync_playwright

    from helpers.report import CHROMIUM_FLAGS, chromium
    run_dir = two_runs[1]
    code = [line.strip() for nb in run_dir.glob("*.ipynb") for cell in nbformat.read(nb, as_version=4).cells
            if cell.cell_type == "code" for line in cell.source.splitlines() if len(line.strip()) >= 20]
    figures = sum("image/png" in out.get("data", {}) for nb in run_dir.glob("*.ipynb")
                  for cell in nbformat.read(nb, as_version=4).cells for out in cell.get("outputs", []))
    problems = []
    with sync_playwright() as browser_engine:
        browser = browser_engine.chromium.launch(executable_path=chromium(), args=list(CHROMIUM_FLAGS[1:-1]))
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
        page.goto((run_dir / "report.html").as_uri(), wait_until="load")
        text = page.inner_text("body")
        images = page.evaluate("[...document.images].map(i => i.complete && i.naturalWidth > 0)")
        shot = REPORTS_DIR / "test-output" / "report.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=False)
        browser.close()
    assert problems == []
    assert len(images) == figures >= 5 and all(images)
    assert code and not [line for line in code if line in text], "code cells leak into the report"
    assert "Executive summary" in text and "Reproducibility appendix" in text and "sha256" in text
    assert shot.stat().st_size > 10_000


def test_runs_refuse_to_start_without_chromium_unless_no_pdf(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["run", "best_customers", "--out", str(tmp_path / "runs")]) == 1
    assert "report.pdf needs headless Chromium" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_peak_memory_counts_what_a_child_process_holds():
    """The runner's per-notebook memory figure: a child touching 300 MB shows at least that; a
    process started before the block (here a sleeping 200 MB one) is not counted."""
    child = "import time; block = bytearray({mb} * 2**20); time.sleep({s})"
    earlier = subprocess.Popen([sys.executable, "-c", child.format(mb=200, s=5)])
    try:
        with PeakMemory(interval=0.2) as memory:
            subprocess.run([sys.executable, "-c", child.format(mb=300, s=1.5)], check=True)
        with PeakMemory(interval=0.2) as idle:
            time.sleep(0.5)
    finally:
        earlier.kill()
    assert 300 * 2**20 <= memory.peak < 450 * 2**20
    assert idle.peak == 0, "no new process, no memory"
