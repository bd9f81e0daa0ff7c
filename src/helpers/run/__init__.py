"""Where a run becomes a report: playbooks, runs and their manifests, the report, the CLI.

Every public name is imported from its module on first use (PEP 562), so a notebook that reads
``open_data`` does not pay for the report, papermill or nbformat at its start."""

from __future__ import annotations

import importlib

_EXPORTS = {  # module of helpers.run -> the public names re-exported here
    "appendices": ("checked_quality",),
    "catalogue": ("MissingTranslation",),
    "checked_data": ("is_checked", "load_once", "open_checked", "shown_path", "write_checked"),
    "client_report": ("render_client",),
    "decisions": ("decision", "decisions"),
    "execute": ("coalesce_streams", "notebooks", "refresh"),
    "exports": ("ExportError", "export_list", "write_exports"),
    "formats": ("LanguageError",),
    "headlines": ("HeadlineError", "check_keys", "compose", "headline", "lookup", "render"),
    "memory": ("PeakMemory", "tree_peak"),
    "notebook": ("analysis_date", "open_data", "versions", "world_data", "write_metrics"),
    "parameter_domains": ("Domain",),
    "playbook": (
        "Playbook",
        "PlaybookError",
        "Step",
        "available",
        "check",
        "describe",
        "known_notebooks",
        "load",
        "notebook_parameters",
        "parameters_of",
        "with_settings",
    ),
    "preflight": ("Preflight", "data_support", "missing_tables", "needed_tables", "preflight", "tables_found"),
    "provenance": (
        "ManifestError",
        "data_files",
        "data_sources",
        "git_commit",
        "installed_packages",
        "read_manifest",
        "run_folder_forms",
        "sha256",
        "write_manifest",
    ),
    "report": ("chromium", "executive_summary", "notebook_section", "print_pdf", "render_html", "render_report"),
    "runs": ("RunFailed", "RunInterrupted", "check_run_folder", "reproduce", "run"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> object:
    """A public name, imported from its module on first use and kept."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value
