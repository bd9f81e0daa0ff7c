"""Run folders: they reproduce wherever they are moved, are refused when incomplete, Ctrl-C leaves a
mark instead of a folder that looks finished, and a bad output folder, data folder or manifest is
one line before anything runs."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
import yaml

from helpers.errors import RunInputError
from helpers.run.cli import INTERRUPTED_STATUS, main, stored_notebook
from helpers.run.provenance import read_manifest
from helpers.run.runs import RunFailed, check_run_folder

SMALL = ["--set", "n_customers=3000", "--set", "n_prospects=500", "--set", "seed=7"]
RECIPE = "title: Small\nquestion: Does it reproduce?\nnotebooks: [{notebooks}]\n"


def _recipe(folder, *notebooks) -> str:
    path = folder / "small.yml"
    path.write_text(RECIPE.format(notebooks=", ".join(notebooks)))
    return str(path)


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    """A finished run of notebook 10 alone (about 15 s)."""
    folder = tmp_path_factory.mktemp("one")
    assert (
        main(["run", _recipe(folder, "10_customer_knowledge"), "--out", str(folder / "runs"), "--no-pdf", *SMALL]) == 0
    )
    (run_dir,) = (folder / "runs").iterdir()
    return run_dir


def _moved(run_dir, tmp_path):
    return shutil.copytree(run_dir, tmp_path / "elsewhere" / run_dir.name)


def _one_line_error(capsys, command: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith(f"playbook {command}: ") and err.count("\n") == 1, err
    return err


def test_a_moved_run_folder_reproduces(one_run, tmp_path, capsys):
    moved = _moved(one_run, tmp_path)
    assert str(one_run) in (moved / "10_customer_knowledge.ipynb").read_text(), "the notebook names its old folder"
    assert read_manifest(moved / "manifest.json")["run_folder"]["path"] == str(one_run.resolve())
    assert main(["reproduce", str(moved / "manifest.json"), "--no-pdf", "--out", str(tmp_path / "again")]) == 0
    assert "reproduced: all 4 outputs identical" in capsys.readouterr().out


def test_a_run_folder_missing_any_output_is_refused_naming_each(one_run, tmp_path, capsys):
    moved = _moved(one_run, tmp_path)
    (moved / "10_customer_knowledge" / "metrics.json").unlink()
    assert main(["reproduce", str(moved / "manifest.json"), "--out", str(tmp_path / "again")]) == 1
    assert "no longer matches its manifest (missing 10_customer_knowledge/metrics.json)" in _one_line_error(
        capsys, "reproduce"
    )
    for output in ("10_customer_knowledge.ipynb", "metrics.json", "report.html"):
        (moved / output).unlink()
    assert main(["reproduce", str(moved / "manifest.json"), "--out", str(tmp_path / "again")]) == 1
    assert (
        "(missing 10_customer_knowledge.ipynb, 10_customer_knowledge/metrics.json, metrics.json, report.html)"
        in _one_line_error(capsys, "reproduce")
    )
    assert not (tmp_path / "again").exists(), "nothing was rerun"


def test_the_check_of_a_moved_folder_still_sees_an_edited_notebook(one_run, tmp_path):
    moved = _moved(one_run, tmp_path)
    manifest = read_manifest(moved / "manifest.json")
    check_run_folder(moved / "manifest.json", manifest)
    notebook = moved / "10_customer_knowledge.ipynb"
    notebook.write_text(notebook.read_text().replace("Pareto", "Pareto!"))
    with pytest.raises(RunFailed, match=r"changed after the run: 10_customer_knowledge\.ipynb\)"):
        check_run_folder(moved / "manifest.json", manifest)


@pytest.mark.parametrize(
    "content, fault",
    [
        ("not json at all", "is not JSON (Expecting value: line 1 column 1 (char 0))"),
        ('{"outputs": {}}', "is not a run manifest (it lacks playbook, command, git, packages, data)"),
        ("[1, 2]", "is not a run manifest (it lacks playbook, command"),
        (None, "no manifest at"),
    ],
)
def test_reproduce_refuses_a_file_that_is_not_a_manifest(tmp_path, capsys, content, fault):
    path = tmp_path / "manifest.json"
    if content is not None:
        path.write_text(content)
    assert main(["reproduce", str(path)]) == 1
    err = _one_line_error(capsys, "reproduce")
    assert fault in err and str(path) in err and "give the manifest.json of a run folder" in err


def test_an_output_folder_that_is_a_file_or_read_only_is_refused_before_running(tmp_path, capsys, monkeypatch):
    recipe = _recipe(tmp_path, "10_customer_knowledge")
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert main(["run", recipe, "--out", str(blocker / "runs"), "--no-pdf"]) == 1
    assert f"{blocker} is a file, not a folder" in _one_line_error(capsys, "run")
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    real_access = os.access  # root writes everywhere: pretend the folder is read-only
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(read_only) else real_access(p, mode))
    assert main(["run", recipe, "--out", str(read_only / "runs"), "--no-pdf"]) == 1
    assert f"cannot write in {read_only} (read-only or not yours)" in _one_line_error(capsys, "run")
    assert list(read_only.iterdir()) == []


def test_an_unreadable_data_folder_or_file_is_refused_before_running(tmp_path, capsys, monkeypatch):
    recipe, data = _recipe(tmp_path, "10_customer_knowledge"), tmp_path / "exports"
    (data / "orders").mkdir(parents=True)
    (data / "customers.csv").write_text("customer_id\nC1\n")
    (data / "orders" / "2025.csv").write_text("order_id\nO1\n")
    real_access = os.access  # root reads everything: pretend these cannot be read
    for denied in (data / "orders" / "2025.csv", data):
        monkeypatch.setattr(os, "access", lambda p, mode, d=denied: False if str(p) == str(d) else real_access(p, mode))
        assert main(["run", recipe, "--data", str(data), "--out", str(tmp_path / "runs"), "--no-pdf"]) == 1
        assert f"data_dir {str(data)!r}: cannot read {denied} (permission denied)" in _one_line_error(capsys, "run")
    assert not (tmp_path / "runs").exists()


def test_ctrl_c_before_a_notebook_starts_leaves_an_interrupted_mark(tmp_path, capsys, monkeypatch):
    def interrupt(message):
        if message.endswith("10_customer_knowledge ..."):
            raise KeyboardInterrupt

    monkeypatch.setattr("helpers.run.cli._say", interrupt)
    recipe = _recipe(tmp_path, "10_customer_knowledge", "20_segment_customers")
    assert main(["run", recipe, "--out", str(tmp_path / "runs"), "--no-pdf", "--jobs", "1"]) == INTERRUPTED_STATUS
    assert "interrupted while running 10_customer_knowledge (0 of 2 notebooks finished); see " in _one_line_error(
        capsys, "run"
    )
    (run_dir,) = (tmp_path / "runs").iterdir()
    mark = yaml.safe_load((run_dir / "INTERRUPTED").read_text())
    assert mark["finished"] == [] and mark["running"] == ["10_customer_knowledge"]
    assert mark["not_started"] == ["20_segment_customers"] and mark["interrupted_utc"].endswith("+00:00")
    assert not (run_dir / "manifest.json").exists()


def _wait_until_setup_cell_runs(runs: Path, stem: str, child: subprocess.Popen, deadline: float = 120.0) -> None:
    """Until papermill has saved ``stem``'s first code cell after its parameters as running: a Ctrl-C
    then lands in that notebook with cells still to run, however fast or slow the machine (a fixed
    4 s wait after the notebook's start line missed it on a fast one)."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        assert child.poll() is None, "the run ended before its second notebook started a cell"
        for path in runs.glob(f"*/{stem}.ipynb"):
            try:
                cells = json.loads(path.read_text())["cells"]
            except json.JSONDecodeError:  # papermill is rewriting the file: read it again
                continue
            code = [c for c in cells if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", [])]
            setup = next(c for c in code if "injected-parameters" not in c["metadata"].get("tags", []))
            if setup["metadata"].get("papermill", {}).get("status") == "running":
                return
        time.sleep(0.02)
    raise AssertionError(f"{stem}'s setup cell did not start within {deadline:.0f} s")


def _interrupt_a_run(tmp_path: Path, jobs: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Run notebooks 10 and 20 ``jobs`` at a time in a child process and send it a real Ctrl-C
    (SIGINT, as a terminal sends it) while 20 loads its data; the ended child and its run folder."""
    command = [
        sys.executable,
        "-m",
        "helpers.run.cli",
        "run",
        _recipe(tmp_path, "10_customer_knowledge", "20_segment_customers"),
        "--out",
        str(tmp_path / "runs"),
        "--no-pdf",
        "--jobs",
        jobs,
        *SMALL,
    ]
    child = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    _wait_until_setup_cell_runs(tmp_path / "runs", "20_segment_customers", child)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    (run_dir,) = (tmp_path / "runs").iterdir()
    return subprocess.CompletedProcess(command, child.returncode, "", err), run_dir


def _kernels() -> set[int]:
    found = psutil.process_iter(["cmdline"])
    return {p.pid for p in found if "ipykernel_launcher" in " ".join(p.info["cmdline"] or [])}


def test_sigint_in_two_lanes_stops_both_notebooks_and_leaves_no_kernel(tmp_path):
    before = _kernels()
    child, run_dir = _interrupt_a_run(tmp_path, "2")
    assert child.returncode == INTERRUPTED_STATUS
    assert "Traceback" not in child.stderr and "interrupted while running " in child.stderr.splitlines()[-1]
    mark = yaml.safe_load((run_dir / "INTERRUPTED").read_text())
    assert "20_segment_customers" in mark["running"] and not mark["not_started"]
    assert sorted(mark["finished"] + mark["running"]) == ["10_customer_knowledge", "20_segment_customers"]
    for stem in mark["running"]:
        nb = nbformat.read(run_dir / f"{stem}.ipynb", as_version=4)
        assert nb.metadata.papermill["interrupted"] and nb.cells[-1].metadata.papermill["status"] == "pending"
    time.sleep(1)  # a killed process may take a moment to leave the process table
    assert not _kernels() - before, "a notebook kernel outlived the interrupted run"


def test_sigint_during_a_notebook_marks_what_ran_and_exits_130(tmp_path):
    child, run_dir = _interrupt_a_run(tmp_path, "1")
    err = child.stderr
    assert child.returncode == INTERRUPTED_STATUS
    assert err.splitlines()[-1].startswith(
        "playbook run: interrupted while running 20_segment_customers (1 of 2 notebooks finished); see "
    )
    assert "Traceback" not in err, "the kernel, asked to stop mid-cell, printed a traceback (ZMQError)"
    mark = yaml.safe_load((run_dir / "INTERRUPTED").read_text())
    assert mark["finished"] == ["10_customer_knowledge"] and mark["running"] == ["20_segment_customers"]
    assert (run_dir / "10_customer_knowledge" / "metrics.json").exists() and not (run_dir / "manifest.json").exists()
    nb = nbformat.read(run_dir / "20_segment_customers.ipynb", as_version=4)
    statuses = [c.metadata.papermill["status"] for c in nb.cells]
    assert nb.metadata.papermill["interrupted"] and statuses[-1] == "pending"
    assert not [
        c
        for c in nb.cells
        if c.cell_type == "code"
        and c.metadata.papermill["status"] == "completed"
        and "iopub.status.idle" not in c.metadata.get("execution", {})
    ], "a cell that did not run says completed"
    assert all(not c.outputs for c in nb.cells if c.metadata.papermill["status"] == "pending" and c.cell_type == "code")
    assert json.loads((run_dir / "10_customer_knowledge" / "metrics.json").read_text())


def test_refresh_names_a_notebook_by_path_name_or_number():
    lifetime = stored_notebook("21")
    assert lifetime.name == "21_customer_lifetime_value.ipynb"
    assert stored_notebook("21_customer_lifetime_value") == lifetime == stored_notebook(str(lifetime))
    with pytest.raises(RunInputError, match="'2' names 3 notebooks; one of: 00_generate_world"):  # 20, 21 and 22
        stored_notebook("2")
