"""Where a run becomes a report: playbooks, runs and their manifests, the report, the CLI."""

from helpers.run.execute import notebooks, refresh
from helpers.run.headlines import HeadlineError, headline, lookup, check_keys, render, compose
from helpers.run.memory import PeakMemory, tree_peak
from helpers.run.notebook import write_metrics, versions, world_data, open_data, analysis_date
from helpers.run.parameter_domains import Domain
from helpers.run.playbook import (
    PlaybookError, Step, Playbook, available, known_notebooks, notebook_parameters, load, check, with_settings,
    describe)
from helpers.run.report import executive_summary, notebook_section, render_html, chromium, print_pdf
from helpers.run.runs import (
    RunFailed, ManifestError, RunInterrupted, run_folder_forms, sha256, data_sources, execute, run, read_manifest,
    check_run_folder, reproduce)
