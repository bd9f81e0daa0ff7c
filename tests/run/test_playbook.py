"""Playbooks: recipes checked before anything runs, runs that reproduce to the byte, and a report
that a browser shows without code, broken figures or console errors."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time

import nbformat
import psutil
import pytest

from helpers.paths import REPORTS_DIR
from helpers.run import playbook as recipes
from helpers.run.cli import main
from helpers.run.execute import notebooks
from helpers.run.memory import PeakMemory
from tests.run.reports import code_lines

SMALL = ["--set", "n_customers=3000", "--set", "n_prospects=500", "--set", "seed=7"]


def test_every_playbook_loads_and_the_tour_runs_every_notebook():
    assert {
        "tour",
        "best_customers",
        "reactivation",
        "contact_pressure",
        "next_best_offer",
        "prospect_nurturing",
    } <= set(recipes.available())
    for name in recipes.available():
        book = recipes.load(name)
        assert book.question.endswith("?") and "currency" not in book.report  # the data's, set by the run
    assert [s.notebook for s in recipes.load("tour").steps] == [p.stem for p in notebooks()]


def test_describe_reads_each_parameter_and_its_help_from_the_notebooks():
    text = recipes.describe(recipes.load("reactivation"))
    assert re.search(r"min_reach_cant_lose\s+300\s+int\s+contacts promised", text)  # the playbook's value
    assert re.search(r"horizon_months\s+12\s+int\s+CLV horizon", text)  # the notebook default
    assert "--set 40.NAME=VALUE" in text


def test_list_names_each_playbook_with_its_question(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "contact_pressure     Can we contact customers less often" in out


def _yaml(tmp_path, text: str):
    path = tmp_path / "custom.yml"
    path.write_text("title: Custom\nquestion: Does it check?\n" + text)
    return str(path)


@pytest.mark.parametrize(
    "recipe, settings, fault",
    [
        ("notebooks: [10_customer_knowledge, 99_crystal_ball]\n", [], "unknown notebook '99_crystal_ball'"),
        (
            "notebooks:\n  - {notebook: 20_segment_customers, parameters: {colour: red}}\n",
            [],
            "notebook 20_segment_customers has no parameter 'colour'",
        ),
        ("data: {n_customer: 10}\nnotebooks: [10_customer_knowledge]\n", [], "unknown data key(s) 'n_customer'"),
        (
            "parameters: {budget_eur: 10}\nnotebooks: [10_customer_knowledge]\n",
            [],
            "unknown parameter 'budget_eur': no notebook of this playbook declares it",
        ),
        (
            "notebooks: [21_customer_lifetime_value]\n",
            ["--set", "21.horizon_months=twelve"],
            "21_customer_lifetime_value.horizon_months must be a whole number",
        ),
        (
            "notebooks: [10_customer_knowledge]\n",
            ["--set", "seed=-1"],
            "seed (for every notebook) must be a whole number >= 0 (drives every random draw; default 42), got -1.",
        ),
        (
            "notebooks: [35_nurture_prospects, 40_plan_channel_mix]\n",
            ["--set", "budget_eur=-5"],
            "budget_eur (for 35_nurture_prospects, 40_plan_channel_mix) must be a number >= 0",
        ),
        (
            "notebooks:\n  - {notebook: 40_plan_channel_mix, parameters: {budget_eur: -5}}\n",
            [],
            "custom.yml: 40_plan_channel_mix.budget_eur must be a number >= 0 (campaign budget (EUR); default 1200.0), "
            "got -5.",
        ),
        (
            "notebooks: [40_plan_channel_mix]\n",
            ["--set", "40.pressure_cap=-1"],
            "40_plan_channel_mix.pressure_cap must be a whole number >= 1",
        ),
        (
            "notebooks: [40_plan_channel_mix]\n",
            ["--set", "pressure_cap=0"],
            "pressure_cap (for 40_plan_channel_mix) must be a whole number >= 1",
        ),
        (
            "notebooks: [50_design_and_read_test]\n",
            ["--set", "control_share=1"],
            "control_share (for 50_design_and_read_test) must be a number in (0, 1)",
        ),
        ("notebooks: [40_plan_channel_mix]\n", ["--set", "margin_rate=.nan"], "must be a number in [0, 1]"),
        (
            "notebooks: [35_nurture_prospects]\n",
            ["--set", "cost_per_contact={email: -1}"],
            "every value in custom.yml: cost_per_contact (for 35_nurture_prospects) must be a number >= 0",
        ),
        (
            "notebooks: [45_automate_triggered_scenarios]\n",
            ["--set", "win_back_days=[60, 0.5]"],
            "every value in custom.yml: win_back_days (for 45_automate_triggered_scenarios) "
            "must be a whole number >= 1",
        ),
        ("notebooks: [40_plan_channel_mix]\n", ["--set", "values_file=no/such.csv"], "values_file"),
        (
            "notebooks: [10_customer_knowledge]\n",
            ["--set", "as_of=31/12/2025"],
            "as_of (for every notebook) must be a date like 2025-12-31",
        ),
        ("notebooks: [10_customer_knowledge]\n", ["--set", "budget_eur=100"], "unknown parameter 'budget_eur'"),
        ("notebooks: [10_customer_knowledge]\n", ["--set", "output_dir=/tmp"], "unknown parameter 'output_dir'"),
        ("notebooks: [10_customer_knowledge]\n", ["--data", "no/such/folder"], "data_dir"),
        ("data: {data_dir: exports/missing}\nnotebooks: [10_customer_knowledge]\n", [], "no such folder"),
    ],
)
def test_a_bad_playbook_fails_before_running_anything(tmp_path, capsys, recipe, settings, fault):
    out = tmp_path / "runs"
    assert main(["run", _yaml(tmp_path, recipe), "--out", str(out), "--no-pdf", *settings]) == 1
    assert fault in capsys.readouterr().err
    assert not out.exists(), "nothing ran, no run folder"


def test_set_without_a_notebook_wins_over_the_recipe():
    """contact_pressure gives 40 its own pressure_cap: 2; --set pressure_cap=1 replaces it."""
    recipe = recipes.load("contact_pressure")
    book = recipes.with_settings(recipe, ["pressure_cap=1"])
    assert [b.parameters_for(b.steps[1])["pressure_cap"] for b in (recipe, book)] == [2, 1]


def _holds_numbers(value) -> bool:
    if isinstance(value, (dict, list)):
        return any(map(_holds_numbers, value.values() if isinstance(value, dict) else value))
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def test_every_numeric_parameter_of_every_notebook_has_a_domain_holding_its_default():
    """A new int or float parameter (or a list or mapping of numbers) cannot be forgotten."""
    from helpers.run.parameter_domains import DOMAINS

    checked = set()
    for stem in recipes.known_notebooks():
        for name, declared in recipes.notebook_parameters(stem).items():
            default = ast.literal_eval(declared["default"])
            if declared["type"] not in ("int", "float") and not _holds_numbers(default):
                continue
            assert name in DOMAINS, f"{stem}.{name} has no domain in helpers/parameter_domains.py"
            assert DOMAINS[name].admits(default), f"{stem}.{name}: default {default} outside {DOMAINS[name]}"
            if declared["type"] in ("int", "float"):
                assert DOMAINS[name].whole == (declared["type"] == "int"), f"{stem}.{name}: int iff whole"
            checked.add(name)
    assert {
        "budget_eur",
        "pressure_cap",
        "n_customers",
        "control_share",
        "seed",
        "assumed_lift",
        "win_back_days",
    } <= checked and len(checked) >= 30


def test_a_domain_admits_only_finite_numbers_between_its_ends():
    from helpers.run.parameter_domains import Domain

    share, probability, count = Domain(0, 1), Domain(0, 1, low_open=True, high_open=True), Domain(0, whole=True)
    assert share.admits(0) and share.admits(1) and not share.admits(1.01) and not share.admits(float("nan"))
    assert not probability.admits(0) and not probability.admits(1) and probability.admits(0.2)
    assert count.admits(0) and not count.admits(-1) and not count.admits(2.5) and not count.admits(True)
    assert share.admits({"a": {"b": 0.5}, "c": 1}) and not share.admits({"a": {"b": 2}}) and not share.admits(["x"])
    assert not Domain(0).admits(float("inf"))
    assert [str(d) for d in (share, probability, count, Domain(0, low_open=True))] == [
        "a number in [0, 1]",
        "a number in (0, 1)",
        "a whole number >= 0",
        "a number > 0",
    ]


def test_a_failing_notebook_stops_the_run_naming_notebook_cell_and_error(tmp_path, capsys):
    values = tmp_path / "values.csv"
    values.write_text("customer_id,value\nC1,3.5\n")
    recipe = f"notebooks:\n  - {{notebook: 40_plan_channel_mix, parameters: {{values_file: {values}}}}}\n"
    assert main(["run", _yaml(tmp_path, recipe), "--out", str(tmp_path / "runs"), "--no-pdf", *SMALL]) == 1
    err = capsys.readouterr().err
    assert re.search(r"40_plan_channel_mix failed at cell \d+: PlanInputError: values.csv: column\(s\) .*arm", err)
    kept = list((tmp_path / "runs").glob("*/40_plan_channel_mix.ipynb"))
    assert len(kept) == 1 and "kept at" in err
    assert not list((tmp_path / "runs").glob("*/manifest.json"))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """best_customers run twice with the same parameters, report.pdf included, as the training printout
    (the client report has its own tests in test_report_client.py)."""
    out = tmp_path_factory.mktemp("runs")
    for _ in range(2):
        assert main(["run", "best_customers", "--out", str(out), "--set", "report.audience=training", *SMALL]) == 0
    return sorted(out.iterdir())


def _manifest(run_dir):
    return json.loads((run_dir / "manifest.json").read_text())


def test_the_same_playbook_twice_gives_identical_data_metrics_and_report(two_runs):
    first, second = map(_manifest, two_runs)
    assert first["data"] == second["data"] and len(first["data"]) >= 8
    assert first["outputs"] == second["outputs"]
    assert {
        "metrics.json",
        "report.html",
        "10_customer_knowledge/metrics.json",
        "21_customer_lifetime_value.ipynb",
    } <= set(first["outputs"])
    assert first["seed"] == 7 and first["playbook"]["shared"]["n_customers"] == 3000
    assert first["packages"]["papermill"] and re.match(r"[0-9a-f]{40}", first["git"])


def test_reproduce_passes_then_fails_naming_the_altered_file(two_runs, capsys):
    manifest = two_runs[0] / "manifest.json"
    assert main(["reproduce", str(manifest), "--no-pdf"]) == 0
    assert "reproduced: all 11 outputs identical" in capsys.readouterr().out
    metrics = two_runs[0] / "20_segment_customers" / "metrics.json"
    metrics.write_text(metrics.read_text().replace('"k": ', '"k": 1'))
    assert main(["reproduce", str(manifest), "--no-pdf"]) == 1
    assert (
        "no longer matches its manifest (changed after the run: 20_segment_customers/metrics.json)"
        in capsys.readouterr().err
    )


def test_the_summary_comes_from_every_notebooks_metrics(two_runs):
    combined = json.loads((two_runs[1] / "metrics.json").read_text())
    assert (
        set(combined["notebooks"])
        == set(combined["summary"])
        == {"10_customer_knowledge", "20_segment_customers", "21_customer_lifetime_value"}
    )
    share = combined["notebooks"]["10_customer_knowledge"]["pareto_top20_revenue_share"]
    assert f"The top 20% of customers bring {share:.0%} of revenue." in combined["summary"]["10_customer_knowledge"]
    html = (two_runs[1] / "report.html").read_text()
    assert all(sentence in html for sentences in combined["summary"].values() for sentence in sentences)


def test_report_pdf_is_printed(two_runs):
    pdf = (two_runs[1] / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 5


def test_report_in_headless_chromium_shows_no_code_every_figure_and_no_console_error(two_runs):
    from playwright.sync_api import sync_playwright

    from helpers.run.report import CHROMIUM_FLAGS, chromium

    run_dir = two_runs[1]
    code = code_lines(run_dir)
    figures = sum(
        "image/png" in out.get("data", {})
        for nb in run_dir.glob("*.ipynb")
        for cell in nbformat.read(nb, as_version=4).cells
        for out in cell.get("outputs", [])
    )
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


def test_peak_memory_does_not_count_a_fork_before_it_runs_its_program():
    """Between fork and exec a child shares this process's pages (CI once saw a 300 MB child
    measured at 620 MB: the test process itself, caught mid-fork). Such a child is not counted."""
    held = bytearray(300 * 2**20)
    with PeakMemory(interval=0.05) as memory:
        pid = os.fork()
        if pid == 0:
            time.sleep(0.5)
            os._exit(0)
        os.waitpid(pid, 0)
    assert len(held) and memory.peak == 0


def test_a_notebook_failing_beside_another_stops_both_and_leaves_no_kernel(tmp_path, capsys):
    """Two at a time: 40 fails while 30 runs beside it; 30's kernel is killed, nothing else starts."""
    values = tmp_path / "values.csv"
    values.write_text("customer_id,value\nC1,3.5\n")
    recipe = (
        f"notebooks:\n  - {{notebook: 40_plan_channel_mix, parameters: {{values_file: {values}}}}}\n"
        "  - 30_next_best_offer\n"
    )
    kernels = {p.pid for p in psutil.process_iter(["cmdline"]) if "ipykernel_launcher" in str(p.info["cmdline"])}
    runs = tmp_path / "runs"
    assert main(["run", _yaml(tmp_path, recipe), "--out", str(runs), "--no-pdf", "--jobs", "2", *SMALL]) == 1
    assert re.search(r"40_plan_channel_mix failed at cell \d+: PlanInputError", capsys.readouterr().err)
    assert not list(runs.glob("*/manifest.json"))
    assert not list(runs.glob("*/30_next_best_offer/metrics.json")), "30 was left to finish (40 fails early)"
    time.sleep(1)  # a killed process may take a moment to leave the process table
    left = {p.pid for p in psutil.process_iter(["cmdline"]) if "ipykernel_launcher" in str(p.info["cmdline"])}
    assert not left - kernels, "a kernel outlived the failed run"
