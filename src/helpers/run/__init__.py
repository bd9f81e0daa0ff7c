"""Where a run becomes a report: playbooks, runs and their manifests, the report, the CLI.

Every public name is imported from its module on first use (PEP 562), so a notebook that reads
``open_data`` does not pay for the report, papermill or nbformat at its start."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from helpers._lazy import lazy_exports

# nbformat, which every run, refresh and preflight reads notebooks with, imports jsonschema, which
# imports rfc3987_syntax where installed (jupyterlab pulls it in): it compiles some 35 Lark grammars
# at import, 1.1 s of every `playbook` command on this machine, for the "iri" string format that no
# notebook schema uses (python-jsonschema/jsonschema#1428). Marked absent, jsonschema leaves out that
# one format check; a process that loaded it already keeps it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None: "import it and fail"

if TYPE_CHECKING:
    from helpers.run.appendices import checked_quality
    from helpers.run.catalogue import MissingTranslation
    from helpers.run.checked_data import is_checked, load_once, open_checked, shown_path, write_checked
    from helpers.run.client_report import render_client
    from helpers.run.decisions import decision, recorded_decisions
    from helpers.run.execute import coalesce_streams, notebooks, refresh
    from helpers.run.exports import ExportError, export_list, write_exports
    from helpers.run.formats import LanguageError
    from helpers.run.headlines import HeadlineError, check_keys, compose, headline, lookup, render
    from helpers.run.memory import PeakMemory, tree_peak
    from helpers.run.notebook import analysis_date, arm_store, open_data, versions, world_data, write_metrics
    from helpers.run.parameter_domains import Domain
    from helpers.run.playbook import (
        Playbook,
        PlaybookError,
        Step,
        available,
        check,
        describe,
        known_notebooks,
        load,
        notebook_parameters,
        parameters_of,
        with_settings,
    )
    from helpers.run.preflight import (
        Preflight,
        data_support,
        missing_tables,
        needed_tables,
        preflight_check,
        tables_found,
    )
    from helpers.run.provenance import (
        ManifestError,
        data_files,
        data_sources,
        git_commit,
        installed_packages,
        read_manifest,
        run_folder_forms,
        sha256,
        write_manifest,
    )
    from helpers.run.report import chromium, executive_summary, notebook_section, print_pdf, render_html, render_report
    from helpers.run.runs import RunFailed, RunInterrupted, check_run_folder, reproduce, run

__all__ = [
    "Domain",
    "ExportError",
    "HeadlineError",
    "LanguageError",
    "ManifestError",
    "MissingTranslation",
    "PeakMemory",
    "Playbook",
    "PlaybookError",
    "Preflight",
    "RunFailed",
    "RunInterrupted",
    "Step",
    "analysis_date",
    "arm_store",
    "available",
    "check",
    "check_keys",
    "check_run_folder",
    "checked_quality",
    "chromium",
    "coalesce_streams",
    "compose",
    "data_files",
    "data_sources",
    "data_support",
    "decision",
    "describe",
    "executive_summary",
    "export_list",
    "git_commit",
    "headline",
    "installed_packages",
    "is_checked",
    "known_notebooks",
    "load",
    "load_once",
    "lookup",
    "missing_tables",
    "needed_tables",
    "notebook_parameters",
    "notebook_section",
    "notebooks",
    "open_checked",
    "open_data",
    "parameters_of",
    "preflight_check",
    "print_pdf",
    "read_manifest",
    "recorded_decisions",
    "refresh",
    "render",
    "render_client",
    "render_html",
    "render_report",
    "reproduce",
    "run",
    "run_folder_forms",
    "sha256",
    "shown_path",
    "tables_found",
    "tree_peak",
    "versions",
    "with_settings",
    "world_data",
    "write_checked",
    "write_exports",
    "write_manifest",
    "write_metrics",
]

__getattr__ = lazy_exports(__name__)
