"""What a run records to be reproduced: its manifest.json (the resolved playbook, seed, git commit,
package versions, the sha256 of every input and output) and the data sources behind it.

An executed notebook is hashed with its run folder written as ``{run}``, so a run moved or rerun
elsewhere hashes the same.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import hashlib
import json
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

from helpers.errors import RunInputError
from helpers.paths import NOTEBOOKS_DIR, REPO_ROOT, relative_to_repo
from helpers.run.cache import CACHE
from helpers.run.checked_data import shown_path
from helpers.run.playbook import Playbook, parameters_of
from helpers.world import sha256_file
from helpers.world.scenario import world_settings

RUN_PLACEHOLDER = "{run}"
NOT_COMPARED = {"report.pdf": "Chromium stamps the PDF with its creation time"}
MANIFEST_SECTIONS = {"playbook": dict, "command": str, "git": str, "packages": dict, "data": dict, "outputs": dict}
PLAYBOOK_FIELDS = ("name", "file", "title", "question", "shared", "report", "steps")


class ManifestError(RunInputError):
    """A file given to ``reproduce`` that is not a run's manifest.json; the message names it."""


def run_folder_forms(run_dir: Path) -> dict[str, str]:
    """How executed notebooks write ``run_dir``: its absolute path, and as shown to a reader."""
    return {"path": str(Path(run_dir).resolve()), "shown_as": relative_to_repo(run_dir)}


def sha256(path: Path, run_folder: list[str] | tuple[str, ...] = ()) -> str:
    """sha256 of a file; for an executed notebook, with each way of writing its run folder
    (``run_folder``: e.g. where it was run and where it is now) replaced by ``{run}``, the only text
    that differs between two runs of the same playbook."""
    if path.suffix == ".ipynb" and run_folder:
        text = path.read_text(encoding="utf-8")
        for form in sorted(set(run_folder), key=len, reverse=True):  # a path before its own tail
            text = text.replace(form, RUN_PLACEHOLDER)
        return hashlib.sha256(text.encode()).hexdigest()
    return sha256_file(path)


def _defaults(stem: str) -> dict:
    return {name: ast.literal_eval(p["default"]) for name, p in parameters_of(stem).items()}


def data_sources(playbook: Playbook) -> list[dict]:
    """The distinct data sets the notebooks read: {"data_dir", "mapping"} or {"world": parameters}."""
    sources = []
    for step in playbook.steps:
        values = {**_defaults(step.notebook), **playbook.parameters_for(step)}
        if values.get("data_dir"):
            source = {"data_dir": values["data_dir"], "mapping": values.get("mapping", "")}
        else:
            source = {"world": world_settings(values)}
        if source not in sources:
            sources.append(source)
    return sources


def data_files(source: dict, root: Path | None = None) -> dict[str, Path]:
    """Display name -> file, for every file of a data source (a world is looked up in ``root``)."""
    if "world" in source:
        from helpers.world import SYNTHETIC_DIR, ensure_world

        world = ensure_world(root=root or SYNTHETIC_DIR, **source["world"])
        files = world.path.rglob("*")
        return {f"{world.path.name}/{p.relative_to(world.path)}": p for p in sorted(files) if p.is_file()}
    folder = Path(source["data_dir"])  # shown from the repository, or from the folder's name: never absolute
    named = {f"{shown_path(folder)}/{p.relative_to(folder)}": p for p in sorted(folder.rglob("*")) if p.is_file()}
    if source["mapping"]:
        named[shown_path(source["mapping"])] = Path(source["mapping"])
    return named


def git_commit() -> str:
    """The checkout's commit, and whether it has uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "HEAD") or "unknown (not a git checkout)"
    return commit + (" with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def installed_packages() -> dict[str, str]:
    """Every installed distribution (lower-case name) -> its version."""
    return {d.metadata["Name"].lower(): d.version for d in distributions()}


def write_manifest(
    playbook: Playbook, run_dir: Path, command: str, data: dict[str, str], git: str, installed: dict[str, str]
) -> None:
    """``run_dir/manifest.json``, written last: the resolved playbook, the command, seed, git commit,
    Python and package versions, and the sha256 of every input (``data``: name -> sha256) and output."""
    cache = run_dir / CACHE  # models kept between notebooks: no output
    outputs = sorted(
        p for p in run_dir.rglob("*") if p.is_file() and p.name not in NOT_COMPARED and cache not in p.parents
    )
    forms = run_folder_forms(run_dir)
    manifest = {
        "playbook": {
            "name": playbook.name,
            "file": relative_to_repo(playbook.path),
            "title": playbook.title,
            "question": playbook.question,
            "shared": playbook.shared,
            "report": playbook.report,
            "steps": [dataclasses.asdict(s) for s in playbook.steps],
        },
        "command": command,
        "run_id": run_dir.name,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seed": playbook.shared.get("seed", _defaults(playbook.steps[0].notebook).get("seed")),
        "git": git,
        "python": sys.version.split()[0],
        "packages": dict(sorted(installed.items())),
        "inputs": {
            relative_to_repo(playbook.path): sha256(playbook.path),
            **{f"notebooks/{s.notebook}.ipynb": sha256(NOTEBOOKS_DIR / f"{s.notebook}.ipynb") for s in playbook.steps},
        },
        "data": data,
        "run_folder": forms,
        "outputs": {str(p.relative_to(run_dir)): sha256(p, list(forms.values())) for p in outputs},
        "not_compared": {
            name: {"sha256": sha256(run_dir / name), "why": why}
            for name, why in NOT_COMPARED.items()
            if (run_dir / name).exists()
        },
        "notebook_hashes": f"executed notebooks are hashed with the run folder (run_folder, or wherever the "
        f"folder is now) written as {RUN_PLACEHOLDER}",
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def read_manifest(path: Path) -> dict:
    """The manifest.json a run wrote; raises ManifestError naming the file and what is wrong."""
    fix = "give the manifest.json of a run folder, e.g. reports/<playbook>/<run-id>/manifest.json"
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"no manifest at {path}: {fix}.") from None
    except IsADirectoryError:
        raise ManifestError(f"{path} is a folder: {fix}.") from None
    except OSError as exc:
        raise ManifestError(f"cannot read {path} ({exc.strerror}): {fix}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path} is not JSON ({exc}): {fix}.") from None
    fields = manifest if isinstance(manifest, dict) else {}
    lacking = [k for k, kind in MANIFEST_SECTIONS.items() if not isinstance(fields.get(k), kind)]
    lacking = lacking or [f"playbook.{k}" for k in PLAYBOOK_FIELDS if k not in fields["playbook"]]
    if lacking:
        raise ManifestError(f"{path} is not a run manifest (it lacks {', '.join(lacking)}): {fix}.")
    return manifest
