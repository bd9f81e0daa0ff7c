"""The ``playbook`` command: from a business question to a reproducible report.

    playbook list
    playbook describe NAME
    playbook check --data DIR [--mapping FILE]
    playbook run NAME [--data DIR] [--set key=value ...] [--out DIR] [--no-pdf]
    playbook reproduce MANIFEST [--out DIR] [--no-pdf]
    playbook report RUN_DIR [--language fr|en] [--audience client|training] [--out DIR] [--no-pdf]
    playbook refresh [NOTEBOOK ...]
    playbook audit [--seeds K] [--variant NAME ...] [--customers N] [--out DIR]
    playbook class EXERCISE ANSWERS.json [--out CSV]

A fault in the input (recipe, parameter, data or output folder, manifest) or a failed notebook is
one line ``playbook <command>: <message>`` and exit status 1; Ctrl-C is exit status 130.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from helpers.errors import PlaybooksError, RunInputError
from helpers.paths import REPORTS_DIR, relative_to_repo
from helpers.run import playbook as recipes
from helpers.run.checked_data import shown_path
from helpers.run.execute import notebooks, refresh
from helpers.run.formats import LOCALES

# helpers.run.runs and .preflight (nbformat, papermill: seconds to import) are imported by the commands that use them

INTERRUPTED_STATUS = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def main(argv: list[str] | None = None) -> int:
    """Run the command in ``argv`` (default: the process's arguments); returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        _run_command(args)
    except PlaybooksError as exc:  # any input fault or failed run, as one line; a run stopped by Ctrl-C: 130
        print(f"playbook {args.command}: {exc}", file=sys.stderr)
        return INTERRUPTED_STATUS if _stopped_by_ctrl_c(exc) else 1
    except KeyboardInterrupt:
        print(f"playbook {args.command}: interrupted before any notebook ran", file=sys.stderr)
        return INTERRUPTED_STATUS
    return 0


def _stopped_by_ctrl_c(exc: PlaybooksError) -> bool:
    """Did Ctrl-C stop a run? (``RunInterrupted``, whose module only ``run`` and ``reproduce`` import.)"""
    runs = sys.modules.get("helpers.run.runs")
    return runs is not None and isinstance(exc, runs.RunInterrupted)


def _positive(text: str) -> int:
    """An integer of at least 1 (``--jobs``), or argparse's error naming the value."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _run_options(execute: argparse.ArgumentParser) -> None:
    """``playbook run``'s arguments."""
    execute.add_argument("name", help="a playbook name (see `playbook list`) or a .yml file")
    execute.add_argument("--data", metavar="DIR", help="folder of your own exports instead of the synthetic world")
    execute.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        dest="settings",
        help="a parameter: NAME (every notebook), NOTEBOOK.NAME or report.NAME; repeatable",
    )
    execute.add_argument(
        "--out", metavar="DIR", type=Path, help="parent folder of the run (default reports/<playbook>/)"
    )
    execute.add_argument("--no-pdf", action="store_true", help="skip report.pdf (no Chromium needed)")
    execute.add_argument(
        "--jobs",
        metavar="N",
        type=_positive,
        help="notebooks run at once (default: 2 on 2 cores or more, 1 above 250,000 customers); same outputs",
    )


def _parser() -> argparse.ArgumentParser:
    """The command line: list, describe, run, reproduce and refresh, with their options."""
    parser = argparse.ArgumentParser(
        prog="playbook", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the playbooks and the question each answers")
    describe = commands.add_parser("describe", help="a playbook's data, notebooks and parameters")
    describe.add_argument("name")
    check = commands.add_parser(
        "check", help="a data folder's quality report and the playbooks and notebooks it supports"
    )
    check.add_argument("--data", metavar="DIR", required=True, help="folder of your own exports")
    check.add_argument("--mapping", metavar="FILE", default="", help="mapping YAML (default: DIR/mapping.yml)")
    _run_options(commands.add_parser("run", help="run a playbook into reports/<playbook>/<run-id>/"))
    again = commands.add_parser("reproduce", help="rerun a run from its manifest.json and compare every output hash")
    again.add_argument("manifest", type=Path)
    again.add_argument("--out", metavar="DIR", type=Path, help="parent folder of the rerun (default: beside the run)")
    again.add_argument("--no-pdf", action="store_true")
    again_report = commands.add_parser(
        "report", help="write a finished run's report again, in another language or for another audience"
    )
    again_report.add_argument("run_dir", type=Path, help="the run folder (holds manifest.json)")
    again_report.add_argument("--language", choices=tuple(LOCALES), help="default: the run's")
    again_report.add_argument("--audience", choices=("client", "training"), help="default: the run's")
    again_report.add_argument(
        "--out", metavar="DIR", type=Path, help="default: RUN_DIR.<audience>-<language> beside it"
    )
    again_report.add_argument("--no-pdf", action="store_true")
    stored = commands.add_parser(
        "refresh", help="re-execute notebooks/ in place with their defaults (commit the outputs)"
    )
    stored.add_argument("notebooks", nargs="*", help="only these: paths, names or numbers such as 21 (default: all)")
    grading = commands.add_parser("class", help="grade a class's answers to an exercise, each on its learner's world")
    grading.add_argument("exercise", help="e.g. 01_pareto_share")
    grading.add_argument("answers", type=Path, help='JSON file {"learner id": answer, ...}')
    grading.add_argument("--out", type=Path, help="also write the ranked table to this CSV file")
    audit = commands.add_parser("audit", help="every decision against its oracle over seeds and world variants")
    audit.add_argument("--seeds", type=int, default=20, help="seeds per variant (default 20)")
    audit.add_argument("--variant", action="append", dest="variants", help="only this variant; repeatable")
    audit.add_argument("--customers", type=int, help="customers of every variant's world (default: the YAML's)")
    audit.add_argument("--out", type=Path, help="folder of audit.json, audit.md, audit.png (default reports/audit/)")
    return parser


def _run_command(args: argparse.Namespace) -> None:
    """Do what the parsed command line asks."""
    if args.command == "list":
        for name in recipes.available():
            book = recipes.load(name)
            print(f"{name:<20} {book.question}")
    elif args.command == "describe":
        print(recipes.describe(recipes.load(args.name)))
    elif args.command == "check":
        _check_data(args.data, args.mapping)
    elif args.command == "run":
        book = recipes.with_settings(recipes.load(args.name), args.settings, args.data)
        command = shlex.join(  # as a report may show it: no absolute folder of the analyst's
            [
                "playbook",
                "run",
                shown_path(args.name) if args.name.endswith((".yml", ".yaml")) else args.name,
                *(["--data", shown_path(args.data)] if args.data else []),
                *(f"--set={_shown_setting(s)}" for s in args.settings),
            ]
        )
        from helpers.run.runs import run

        run(book, args.out, pdf=not args.no_pdf, command=command, progress=_say, jobs=args.jobs)
    elif args.command == "refresh":
        for path in [stored_notebook(name) for name in args.notebooks] or notebooks():
            _say(f"refreshing {path.name}")
            refresh(path)
    elif args.command == "class":
        from helpers.exercises.classroom import grade_class, read_answers

        table = grade_class(args.exercise, read_answers(args.answers))
        print(table[["rank", "learner", "score", "verdict"]].to_string(index=False))
        if args.out:
            table.to_csv(args.out, index=False)
    elif args.command == "audit":
        from helpers.audit import audit_report, load_variants

        world = {"n_customers": args.customers} if args.customers else {}
        table = audit_report(
            load_variants(only=args.variants), args.seeds, args.out or REPORTS_DIR / "audit", world=world
        )
        _say(table.to_string(index=False))
    elif args.command == "report":
        _say(
            f"report: {relative_to_repo(_rerender(args.run_dir, args.out, args.language, args.audience, args.no_pdf))}"
        )
    else:
        from helpers.run.runs import reproduce

        reproduce(args.manifest, args.out, pdf=not args.no_pdf, progress=_say)


def _rerender(run_dir: Path, out: Path | None, language: str | None, audience: str | None, no_pdf: bool) -> Path:
    """A finished run's report written again (``report.from_run``) into ``out``, by default the folder
    ``<run_dir>.<audience>-<language>`` beside the run, which stays as its manifest lists it."""
    from helpers.run.provenance import read_manifest
    from helpers.run.report import from_run

    if not (run_dir / "manifest.json").is_file():
        raise RunInputError(
            f"{run_dir} holds no manifest.json: give the folder of a finished run (reports/NAME/RUN_ID)."
        )
    written = read_manifest(run_dir / "manifest.json")["playbook"]["report"]
    options = {"language": language or written["language"], "audience": audience or written["audience"]}
    target = out or run_dir.with_name(f"{run_dir.name}.{options['audience']}-{options['language']}")
    return from_run(run_dir, target, pdf=not no_pdf, **options)


def _shown_setting(setting: str) -> str:
    """A ``--set`` as a report may show it: a folder or file by its name (``checked_data.shown_path``)."""
    key, _, value = setting.partition("=")
    paths = ("data_dir", *recipes.FILE_PARAMETERS)
    return f"{key}={shown_path(value)}" if value and key.rpartition(".")[2] in paths else setting


def _check_data(data_dir: str, mapping: str) -> None:
    """Print the data quality report of ``data_dir`` and the playbooks and notebooks it supports."""
    from helpers.run.checked_data import load_once
    from helpers.run.preflight import NO_CONSENTS, data_support

    data = load_once(Path(data_dir).resolve(), str(Path(mapping).resolve()) if mapping else "", _say)
    print(data.report)
    print(data_support(tuple(data.tables)))
    if not data.has("consents"):
        print(f"note: {NO_CONSENTS}")


def _say(message: str) -> None:
    print(message, flush=True)


if __name__ == "__main__":
    sys.exit(main())


def stored_notebook(name: str) -> Path:
    """A stored notebook by path, file name, stem or number (``21``, ``21_customer_lifetime_value``)."""
    if Path(name).is_file():
        return Path(name)
    found = [path for path in notebooks() if path.name.startswith(Path(name).name)]
    if len(found) != 1:
        raise RunInputError(f"{name!r} names {len(found)} notebooks; one of: {', '.join(p.stem for p in notebooks())}.")
    return found[0]
