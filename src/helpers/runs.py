"""Run a playbook into ``reports/<playbook>/<run-id>/`` and prove the run reproducible.

A run folder holds the executed notebooks (``<notebook>.ipynb``), each notebook's
``<notebook>/metrics.json``, ``metrics.json`` (all of them and the executive summary),
``report.html``, ``report.pdf`` and ``manifest.json``: the resolved playbook, seed, git commit,
package versions and the sha256 of every input and output. ``reproduce`` reruns a manifest and
compares every output hash.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from importlib.metadata import distributions
from pathlib import Path

import nbformat

from helpers import report
from helpers.memory import PeakMemory
from helpers.notebook import KEY_PACKAGES
from helpers.paths import NOTEBOOKS_DIR, REPO_ROOT, REPORTS_DIR, relative_to_repo
from helpers.playbook import WORLD_KEYS, Playbook, Step, check, notebook_parameters
from helpers.runner import KERNEL
from helpers.world import sha256_file

RUN_PLACEHOLDER = "{run}"
NOT_COMPARED = {"report.pdf": "Chromium stamps the PDF with its creation time"}


class RunFailed(RuntimeError):
    """A notebook failed, or a run could not be reproduced; the message names the notebook or file."""


def sha256(path: Path, run_dir: Path | None = None) -> str:
    """sha256 of a file; for an executed notebook, with the run folder written as ``{run}`` (the
    only text in it that differs between two runs of the same playbook)."""
    if path.suffix == ".ipynb" and run_dir is not None:
        text = path.read_text(encoding="utf-8")
        for form in (str(run_dir.resolve()), relative_to_repo(run_dir)):
            text = text.replace(form, RUN_PLACEHOLDER)
        return hashlib.sha256(text.encode()).hexdigest()
    return sha256_file(path)


def _defaults(stem: str) -> dict:
    return {name: ast.literal_eval(p["default"]) for name, p in notebook_parameters(stem).items()}


def data_sources(playbook: Playbook) -> list[dict]:
    """The distinct data sets the notebooks read: {"data_dir", "mapping"} or {"world": parameters}."""
    sources = []
    for step in playbook.steps:
        values = {**_defaults(step.notebook), **playbook.parameters_for(step)}
        if values.get("data_dir"):
            source = {"data_dir": values["data_dir"], "mapping": values.get("mapping", "")}
        else:
            source = {"world": {k: values[k] for k in WORLD_KEYS if k in values}}
        if source not in sources:
            sources.append(source)
    return sources


def _data_files(source: dict, root: Path | None = None) -> dict[str, Path]:
    """Display name -> file, for every file of a data source (a world is looked up in ``root``)."""
    if "world" in source:
        from helpers.world import SYNTHETIC_DIR, ensure_world
        world = ensure_world(root=root or SYNTHETIC_DIR, **source["world"])
        files = world.path.rglob("*")
        return {f"{world.path.name}/{p.relative_to(world.path)}": p for p in sorted(files) if p.is_file()}
    folder = Path(source["data_dir"])
    named = {relative_to_repo(p): p for p in sorted(folder.rglob("*")) if p.is_file()}
    if source["mapping"]:
        named[relative_to_repo(Path(source["mapping"]))] = Path(source["mapping"])
    return named


def _git() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "HEAD") or "unknown (not a git checkout)"
    return commit + (" with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def _clean_notebook(path: Path) -> None:
    """Drop what papermill records about time and paths and the random id it gives the cell it
    injects, and join split prints, so two runs differ only in the run folder."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata["papermill"] = {k: v for k, v in nb.metadata.get("papermill", {}).items()
                                if k in ("parameters", "default_parameters")}
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"
        if cell.cell_type == "code":
            cell.outputs = _coalesce_streams(cell.outputs)
    nbformat.write(nb, path)


def _coalesce_streams(outputs: list) -> list:
    """Adjacent stdout (or stderr) outputs as one: the kernel splits a print's text into messages
    at random times, which must not change the notebook's bytes."""
    merged = []
    for out in outputs:
        if merged and out.output_type == "stream" and merged[-1].output_type == "stream" and out.name == merged[-1].name:
            merged[-1].text += out.text
        else:
            merged.append(out)
    return merged


def _new_run_dir(parent: Path) -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        candidate = parent / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            continue
    raise RunFailed(f"no free run folder under {parent}")


def execute(playbook: Playbook, run_dir: Path, progress=print) -> None:
    """Execute the notebooks in order into ``run_dir``; stop at the first failure, naming the
    notebook, the cell and the error, keeping the partly executed notebook. Reports each
    notebook's wall time and peak memory through ``progress``."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    for number, step in enumerate(playbook.steps, 1):
        target = run_dir / f"{step.notebook}.ipynb"
        started = time.perf_counter()
        progress(f"[{number}/{len(playbook.steps)}] {step.notebook} ...")
        parameters = {**playbook.parameters_for(step), "output_dir": str(run_dir / step.notebook)}
        try:
            with PeakMemory() as memory:
                pm.execute_notebook(str(NOTEBOOKS_DIR / f"{step.notebook}.ipynb"), str(target), parameters=parameters,
                                    kernel_name=KERNEL, cwd=str(REPO_ROOT), progress_bar=False)
        except PapermillExecutionError as exc:
            raise RunFailed(f"{step.notebook} failed at cell {exc.exec_count}: {exc.ename}: {exc.evalue}\n"
                            f"The partly executed notebook is kept at {relative_to_repo(target)}.") from exc
        _clean_notebook(target)
        if not (run_dir / step.notebook / "metrics.json").exists():
            raise RunFailed(f"{step.notebook} ran but wrote no metrics.json to {relative_to_repo(run_dir / step.notebook)}.")
        progress(f"[{number}/{len(playbook.steps)}] {step.notebook} done in {time.perf_counter() - started:.1f} s, "
                 f"peak memory {memory.peak // 2**20:,} MB")


def run(playbook: Playbook, out: Path | None = None, pdf: bool = True, command: str = "", progress=print) -> Path:
    """Run ``playbook`` into a new folder under ``out`` (default ``reports/<playbook>/``): notebooks,
    metrics, report.html, report.pdf and manifest.json. Returns the run folder."""
    if pdf and report.chromium() is None:
        raise RunFailed("report.pdf needs headless Chromium and none was found: install Debian's `chromium` "
                        "(make browser), or pass --no-pdf.")
    playbook = replace(playbook, report={"date": dt.date.today().isoformat(), **playbook.report})
    run_dir = _new_run_dir(Path(out) if out else REPORTS_DIR / playbook.name)
    progress(f"{playbook.name}: {playbook.question}\nrun folder: {relative_to_repo(run_dir)}")
    execute(playbook, run_dir, progress)

    metrics = {s.notebook: json.loads((run_dir / s.notebook / "metrics.json").read_text()) for s in playbook.steps}
    summary = report.executive_summary(metrics, playbook.report["currency"])
    (run_dir / "metrics.json").write_text(json.dumps({"playbook": playbook.name, "summary": summary,
                                                      "notebooks": metrics}, indent=2, sort_keys=True) + "\n")
    data = {name: sha256(path) for source in data_sources(playbook) for name, path in _data_files(source).items()}
    git = _git()
    installed = {d.metadata["Name"].lower(): d.version for d in distributions()}
    notebooks = {s.notebook: nbformat.read(run_dir / f"{s.notebook}.ipynb", as_version=4) for s in playbook.steps}
    appendix = {"command": command or f"playbook run {playbook.name}", "playbook": relative_to_repo(playbook.path),
                "git": git, "data": data, "packages": {p: installed.get(p, "?") for p in KEY_PACKAGES},
                "parameters": {s.notebook: playbook.parameters_for(s) for s in playbook.steps}}
    (run_dir / "report.html").write_text(report.render_html(playbook.report, playbook.question, summary, notebooks,
                                                            appendix), encoding="utf-8")
    if pdf:
        report.print_pdf(run_dir / "report.html", run_dir / "report.pdf")

    outputs = sorted(p for p in run_dir.rglob("*") if p.is_file() and p.name not in NOT_COMPARED)
    manifest = {
        "playbook": {"name": playbook.name, "file": relative_to_repo(playbook.path), "title": playbook.title,
                     "question": playbook.question, "shared": playbook.shared, "report": playbook.report,
                     "steps": [{"notebook": s.notebook, "parameters": s.parameters} for s in playbook.steps]},
        "command": appendix["command"], "run_id": run_dir.name,
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": playbook.shared.get("seed", _defaults(playbook.steps[0].notebook).get("seed")),
        "git": git, "python": sys.version.split()[0], "packages": dict(sorted(installed.items())),
        "inputs": {relative_to_repo(playbook.path): sha256(playbook.path),
                   **{f"notebooks/{s.notebook}.ipynb": sha256(NOTEBOOKS_DIR / f"{s.notebook}.ipynb")
                      for s in playbook.steps}},
        "data": data,
        "outputs": {str(p.relative_to(run_dir)): sha256(p, run_dir) for p in outputs},
        "not_compared": {name: {"sha256": sha256(run_dir / name), "why": why}
                         for name, why in NOT_COMPARED.items() if (run_dir / name).exists()},
        "notebook_hashes": f"executed notebooks are hashed with the run folder written as {RUN_PLACEHOLDER}",
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    progress(f"report: {relative_to_repo(run_dir / 'report.html')}" + (" and report.pdf" if pdf else ""))
    return run_dir


def _differences(expected: dict[str, str], actual: dict[str, str], where: str, why: str) -> list[str]:
    return [f"{where}/{name}: {why}" for name in sorted(expected)
            if actual.get(name) != expected[name]] + [f"{where}/{name}: not in the manifest"
                                                       for name in sorted(set(actual) - set(expected))]


def reproduce(manifest_path: Path, out: Path | None = None, pdf: bool = True, progress=print) -> Path:
    """Check a run folder against its manifest, regenerate its data, rerun it and compare every
    output hash. Raises RunFailed naming each file that differs; returns the new run folder."""
    manifest_path = Path(manifest_path)
    manifest = json.loads(manifest_path.read_text())
    run_dir = manifest_path.parent
    present = {n for n in manifest["outputs"] if (run_dir / n).exists()}
    if present:
        found = {n: sha256(run_dir / n, run_dir) for n in present}
        found |= {n: "missing" for n in set(manifest["outputs"]) - present}
        altered = _differences(manifest["outputs"], found, relative_to_repo(run_dir),
                               "differs from the manifest (changed after the run)")
        if altered:
            raise RunFailed("the run folder no longer matches its manifest:\n  " + "\n  ".join(altered))
    spec = manifest["playbook"]
    playbook = check(Playbook(spec["name"], REPO_ROOT / spec["file"], spec["title"], spec["question"], spec["shared"],
                              tuple(Step(s["notebook"], s["parameters"]) for s in spec["steps"]), spec["report"]))
    for note in _drift(manifest):
        progress(f"note: {note}")

    with tempfile.TemporaryDirectory(prefix="regenerated-") as scratch:
        regenerated = {name: sha256(path) for source in data_sources(playbook)
                       for name, path in _data_files(source, Path(scratch)).items()}
    problems = _differences(manifest["data"], regenerated, "data", "differs from the data of the run")
    if problems:
        raise RunFailed("the data cannot be reproduced:\n  " + "\n  ".join(problems))
    progress(f"data: {len(regenerated)} files regenerated or re-read with identical sha256")

    rerun = run(playbook, out or run_dir.parent, pdf=pdf, command=manifest["command"], progress=progress)
    again = json.loads((rerun / "manifest.json").read_text())
    problems = _differences(manifest["outputs"], again["outputs"], relative_to_repo(rerun),
                            "differs from the original run")
    if problems:
        raise RunFailed("the rerun differs:\n  " + "\n  ".join(problems))
    progress(f"reproduced: all {len(again['outputs'])} outputs identical to {relative_to_repo(manifest_path)}")
    return rerun


def _drift(manifest: dict) -> list[str]:
    """What changed since the run (code commit, packages): reported, since it may explain a difference."""
    notes = []
    if manifest["git"] != _git():
        notes.append(f"the run was made at commit {manifest['git']}; this checkout is {_git()}")
    installed = {d.metadata["Name"].lower(): d.version for d in distributions()}
    changed = sorted(p for p, v in manifest["packages"].items() if installed.get(p) != v)
    if changed:
        notes.append("package versions differ from the run's: " + ", ".join(
            f"{p} {manifest['packages'][p]} -> {installed.get(p, 'absent')}" for p in changed))
    return notes
