"""Run a playbook into ``reports/<playbook>/<run-id>/`` and prove the run reproducible.

A run folder holds the executed notebooks (``<notebook>.ipynb``), each notebook's
``<notebook>/metrics.json``, ``metrics.json`` (all of them and the executive summary),
``report.html``, ``report.pdf`` and ``manifest.json``: the resolved playbook, seed, git commit,
package versions and the sha256 of every input and output. Before anything runs the data are checked
to hold every notebook's tables (``preflight``); an analyst's data are then loaded and checked once,
into ``data/`` (``checked_data``), and every notebook opens that copy. ``reproduce`` reruns a manifest and
compares every output hash. A run stopped by Ctrl-C leaves no manifest but an ``INTERRUPTED`` file
saying which notebooks finished.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import nbformat
import yaml

from helpers.data.dataset import Dataset
from helpers.errors import Failure
from helpers.paths import REPO_ROOT, REPORTS_DIR, relative_to_repo
from helpers.run import report
from helpers.run.appendices import checked_quality
from helpers.run.checked_data import load_once, shown_path, write_checked
from helpers.run.exports import write_exports
from helpers.run.lanes import CHECKED_DATA, Executed, RunFailed, execute, lanes
from helpers.run.notebook import KEY_PACKAGES
from helpers.run.playbook import DATA_KEYS, FILE_PARAMETERS, Playbook, PlaybookError, Step, check
from helpers.run.preflight import preflight_check
from helpers.run.provenance import (
    data_files,
    data_sources,
    git_commit,
    installed_packages,
    read_manifest,
    run_folder_forms,
    sha256,
    write_manifest,
)

INTERRUPTED = "INTERRUPTED"


class _DataParametersOnPurpose(logging.Filter):
    """Papermill warns of each parameter a notebook does not declare: not of the data parameters,
    which go to every notebook on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage().removeprefix("Passed unknown parameter: ") not in DATA_KEYS


logging.getLogger("papermill").addFilter(_DataParametersOnPurpose())


class RunInterrupted(Failure):
    """Ctrl-C stopped a run; the message names the run folder and its INTERRUPTED file."""


def _check_out(parent: Path) -> None:
    """The run folder can be made under ``parent``: its nearest existing folder is one we may
    write to. Raises PlaybookError naming it."""
    resolved = parent.resolve()
    existing = next(p for p in (resolved, *resolved.parents) if p.exists())
    if not existing.is_dir():
        raise PlaybookError(
            f"--out {parent}: {existing} is a file, not a folder; give a folder (it is created if missing)."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PlaybookError(
            f"--out {parent}: cannot write in {existing} (read-only or not yours); give a folder you may write to."
        )


def _new_run_dir(parent: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        candidate = parent / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            continue
    raise RunFailed(f"no free run folder under {parent}")


def run(
    playbook: Playbook,
    out: Path | None = None,
    pdf: bool = True,
    command: str = "",
    progress: Callable[[str], None] = print,
    jobs: int | None = None,
) -> Path:
    """Run ``playbook`` into a new folder under ``out`` (default ``reports/<playbook>/``): notebooks,
    metrics, report.html, report.pdf and manifest.json, ``jobs`` notebooks at a time (default
    ``lanes.lanes``; the outputs are the same for any). Returns the run folder. Ctrl-C leaves an
    INTERRUPTED file instead of the manifest and raises RunInterrupted."""
    parent = Path(out) if out else REPORTS_DIR / playbook.name
    _check_out(parent)
    if pdf and report.chromium() is None:
        raise RunFailed(
            "report.pdf needs headless Chromium and none was found: install Debian's `chromium` "
            "(make browser), or pass --no-pdf."
        )
    flight = preflight_check(playbook)
    for note in flight.notes:
        progress(f"note: {note}")
    playbook = replace(flight.playbook, report={"date": dt.date.today().isoformat(), **playbook.report})
    own = playbook.shared.get("data_dir", "")
    data = load_once(own, playbook.shared.get("mapping", ""), progress) if own else None
    playbook = replace(playbook, report={**playbook.report, "currency": _currency(playbook, data)})
    run_dir = _new_run_dir(parent)
    jobs = jobs or lanes(playbook, data)
    at_a_time = f"; {jobs} notebooks at a time" if jobs > 1 else ""
    progress(f"{playbook.name}: {playbook.question}\nrun folder: {relative_to_repo(run_dir)}{at_a_time}")
    if data is not None:
        write_checked(data, run_dir / CHECKED_DATA, shown_path(own))
    executed = Executed()
    try:
        execute(playbook, run_dir, executed, progress, jobs)
        _write_report_and_manifest(playbook, run_dir, pdf, command, flight.notes)
    except KeyboardInterrupt:
        raise _interrupted(playbook, run_dir, executed, command) from None
    progress(f"report: {relative_to_repo(run_dir / 'report.html')}" + (" and report.pdf" if pdf else ""))
    return run_dir


WORLD_CURRENCY = "EUR"  # the synthetic worlds' amounts


def _currency(playbook: Playbook, data: Dataset | None) -> str:
    """The report's currency: the data's (the mapping's ``options.currency``; EUR on a synthetic
    world). A ``report.currency`` that names another is refused: the report would relabel amounts
    the notebooks print in the data's currency, converting nothing."""
    currency = data.currency if data is not None else WORLD_CURRENCY
    given = playbook.report.get("currency", currency)
    if given.upper() != currency:
        source = "the mapping's options.currency" if data is not None else "the synthetic world's"
        raise PlaybookError(
            f"report.currency is {given} but the data's amounts are in {currency} ({source}): "
            "leave report.currency out, and the report takes the data's."
        )
    return currency


def _write_report_and_manifest(
    playbook: Playbook, run_dir: Path, pdf: bool, command: str, notes: tuple[str, ...] = ()
) -> None:
    """The combined metrics.json (with the run's ``notes``), report.html (and .pdf) and, last,
    manifest.json of ``run_dir``."""
    command = command or f"playbook run {playbook.name}"
    metrics = {s.notebook: json.loads((run_dir / s.notebook / "metrics.json").read_text()) for s in playbook.steps}
    summary = report.executive_summary(metrics, playbook.report["currency"])
    (run_dir / "metrics.json").write_text(
        json.dumps(
            {"playbook": playbook.name, "summary": summary, "notes": list(notes), "notebooks": metrics},
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )
    data = {name: sha256(path) for source in data_sources(playbook) for name, path in data_files(source).items()}
    git = git_commit()
    installed = installed_packages()
    notebooks = {s.notebook: nbformat.read(run_dir / f"{s.notebook}.ipynb", as_version=4) for s in playbook.steps}
    appendix = {
        "command": command,
        "playbook": shown_path(playbook.path),
        "git": git,
        "data": data,
        "packages": {p: installed.get(p, "?") for p in KEY_PACKAGES},
        "parameters": {
            s.notebook: {
                k: shown_path(v) if k in ("data_dir", *FILE_PARAMETERS) and v else v
                for k, v in playbook.parameters_for(s).items()
            }
            for s in playbook.steps
        },
        "notes": list(notes),
        "quality": checked_quality(run_dir / CHECKED_DATA),
    }
    exports = write_exports(run_dir, playbook.report.get("language", "en"))
    (run_dir / "report.html").write_text(
        report.render_report(playbook.report, playbook.question, metrics, notebooks, appendix, exports),
        encoding="utf-8",
    )
    if pdf:
        report.print_pdf(run_dir / "report.html", run_dir / "report.pdf")
    write_manifest(playbook, run_dir, command, data, git, installed)


def _interrupted(playbook: Playbook, run_dir: Path, executed: Executed, command: str) -> RunInterrupted:
    """Record in ``run_dir/INTERRUPTED`` what a Ctrl-C left: the notebooks finished, those running
    (their unrun cells marked pending), those not started, the time; the error to raise."""
    finished, running = executed.finished, executed.stopped
    for stem in running:
        if (run_dir / f"{stem}.ipynb").exists():  # papermill saves it as it starts
            _mark_unrun_cells(run_dir / f"{stem}.ipynb")
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    record = {
        "interrupted_utc": when,
        "command": command or f"playbook run {playbook.name}",
        "finished": finished,
        "running": running,
        "not_started": [s.notebook for s in playbook.steps if s.notebook not in (*finished, *running)],
    }
    (run_dir / INTERRUPTED).write_text(
        "# Ctrl-C stopped this run: it has no manifest and cannot be reproduced; run the command again.\n"
        + yaml.safe_dump(record, sort_keys=False, width=1000),
        encoding="utf-8",
    )
    everything = len(finished) == len(playbook.steps)
    doing = " and ".join(running) or ("the report and manifest" if everything else "the next notebook's start")
    return RunInterrupted(
        f"interrupted while running {doing} ({len(finished)} of {len(playbook.steps)} "
        f"notebooks finished); see {relative_to_repo(run_dir / INTERRUPTED)}"
    )


def _mark_unrun_cells(path: Path) -> None:
    """Papermill marks every cell of an interrupted notebook ``completed``: mark the cell that was
    running (the first code cell the kernel did not finish) ``interrupted`` and the ones after it
    ``pending``, with no end time."""
    nb = nbformat.read(path, as_version=4)
    stop = next(
        (
            i
            for i, c in enumerate(nb.cells)
            if c.cell_type == "code"
            and "papermill" in c.metadata
            and "iopub.status.idle" not in c.metadata.get("execution", {})
        ),
        len(nb.cells),
    )
    for i, cell in enumerate(nb.cells[stop:], stop):
        meta = cell.metadata.setdefault("papermill", {})
        started = i == stop and meta.get("start_time") is not None
        meta.update(status="interrupted" if started else "pending", end_time=None, duration=None)
        if not started:
            meta["start_time"] = None
    nb.metadata.setdefault("papermill", {})["interrupted"] = True
    nbformat.write(nb, path)


def _differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    """Names whose hash differs or is absent from ``actual``, then those ``expected`` lacks."""
    return [n for n in sorted(expected) if actual.get(n) != expected[n]] + sorted(set(actual) - set(expected))


def check_run_folder(manifest_path: Path, manifest: dict) -> None:
    """Every output the manifest lists is in the folder beside it, unchanged. The folder may have
    been moved or copied since the run. Raises RunFailed naming each missing or altered file."""
    run_dir = Path(manifest_path).parent
    recorded = manifest.get("run_folder", {})  # absent from manifests written before it was recorded
    forms = [*recorded.values(), *run_folder_forms(run_dir).values()]
    missing = sorted(n for n in manifest["outputs"] if not (run_dir / n).is_file())
    altered = sorted(
        n for n, digest in manifest["outputs"].items() if n not in missing and sha256(run_dir / n, forms) != digest
    )
    faults = ([f"missing {', '.join(missing)}"] if missing else []) + (
        [f"changed after the run: {', '.join(altered)}"] if altered else []
    )
    if faults:
        raise RunFailed(
            f"{relative_to_repo(run_dir)} no longer matches its manifest ({'; '.join(faults)}): "
            "reproduce needs the whole run folder as the run left it."
        )


def reproduce(
    manifest_path: Path, out: Path | None = None, pdf: bool = True, progress: Callable[[str], None] = print
) -> Path:
    """Check a run folder against its manifest, regenerate its data, rerun it and compare every
    output hash. Raises ManifestError for a file that is not a manifest, RunFailed naming each
    file that differs; returns the new run folder."""
    manifest_path = Path(manifest_path)
    manifest = read_manifest(manifest_path)
    check_run_folder(manifest_path, manifest)
    spec = manifest["playbook"]
    playbook = check(
        Playbook(
            spec["name"],
            REPO_ROOT / spec["file"],
            spec["title"],
            spec["question"],
            spec["shared"],
            tuple(Step(**s) for s in spec["steps"]),
            spec["report"],
        )
    )
    for note in _drift(manifest):
        progress(f"note: {note}")

    with tempfile.TemporaryDirectory(prefix="regenerated-") as scratch:
        regenerated = {
            name: sha256(path)
            for source in data_sources(playbook)
            for name, path in data_files(source, Path(scratch)).items()
        }
    problems = _differences(manifest["data"], regenerated)
    if problems:
        raise RunFailed(
            f"the data cannot be reproduced: {', '.join(problems)} differ from the data of the run (or are new)."
        )
    progress(f"data: {len(regenerated)} files regenerated or re-read with identical sha256")

    rerun = run(playbook, out or manifest_path.parent.parent, pdf=pdf, command=manifest["command"], progress=progress)
    again = json.loads((rerun / "manifest.json").read_text())
    problems = _differences(manifest["outputs"], again["outputs"])
    if problems:
        raise RunFailed(f"the rerun {relative_to_repo(rerun)} differs from the original run in {', '.join(problems)}.")
    progress(f"reproduced: all {len(again['outputs'])} outputs identical to {relative_to_repo(manifest_path)}")
    return rerun


def _drift(manifest: dict) -> list[str]:
    """What changed since the run (code commit, packages): reported, since it may explain a difference."""
    notes = []
    if manifest["git"] != git_commit():
        notes.append(f"the run was made at commit {manifest['git']}; this checkout is {git_commit()}")
    installed = installed_packages()
    changed = sorted(p for p, v in manifest["packages"].items() if installed.get(p) != v)
    if changed:
        notes.append(
            "package versions differ from the run's: "
            + ", ".join(f"{p} {manifest['packages'][p]} -> {installed.get(p, 'absent')}" for p in changed)
        )
    return notes
