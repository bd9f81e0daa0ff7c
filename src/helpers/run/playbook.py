"""Playbooks: a business question answered by an ordered chain of notebooks on one data set.

A recipe is a YAML file in ``playbooks/``::

    title: Our best customers
    question: Who brings the revenue, and are they staying?
    data: {scenario: retail_fr, n_customers: 20000, seed: 42}   # or {data_dir: exports/, mapping: m.yml}
    parameters: {margin_rate: 0.5}          # optional: for every notebook that declares them
    notebooks:
      - 10_customer_knowledge
      - {notebook: 20_segment_customers, parameters: {compare_months: 3}}
      - {notebook: 40_plan_channel_mix, if_tables_missing: skip}   # default: refuse the run
    report: {title: ..., client: ..., author: ..., audience: client, language: fr, paper: a4}   # currency: the data's

The data parameters (``helpers.run.notebook.DATA_PARAMETERS``) go to every notebook; any other
parameter to the notebooks whose ``parameters`` cell declares it. Everything is checked here, before
any notebook runs: notebooks exist, every parameter is a data parameter or declared by a notebook,
has that parameter's type and lies in its domain (``helpers.run.parameter_domains``), world
parameters are valid and data folders and files exist and can be read. Relative paths in a recipe
are taken from the repository root. Whether the data hold the tables each notebook needs is
``helpers.run.preflight``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from helpers.errors import RunInputError
from helpers.paths import NOTEBOOKS_DIR, PLAYBOOKS_DIR, REPO_ROOT
from helpers.run.execute import notebooks
from helpers.run.formats import LOCALES
from helpers.run.notebook import DATA_PARAMETERS
from helpers.run.parameter_domains import DOMAINS
from helpers.world.scenario import WORLD_KEYS, WorldParameterError, world_parameters, world_settings

DATA_KEYS = tuple(DATA_PARAMETERS)  # for every notebook, declared or not
IF_TABLES_MISSING = ("refuse", "skip")  # what a run does with a notebook whose tables the data lack
REPORT_KEYS = ("title", "client", "author", "currency", "date", "audience", "language", "paper")
REPORT_CHOICES = {"audience": ("client", "training"), "language": tuple(LOCALES), "paper": ("a4", "letter")}
REPORT_DEFAULTS = {"audience": "client", "language": "en", "paper": "a4"}  # currency: the data's, set by the run
RESERVED = ("output_dir",)  # set by the run itself
DATE_PARAMETERS = ("start", "end", "as_of", "plan_date", "calibration_end")  # ISO dates, or empty
FILE_PARAMETERS = ("mapping", "values_file", "rules_file")  # files the notebooks read
SECTIONS = ("title", "question", "data", "parameters", "notebooks", "report")


class PlaybookError(RunInputError):
    """A recipe, a ``--set``, a data folder or an output folder that cannot run; the message names
    the fault."""


@dataclass(frozen=True)
class Step:
    notebook: str  # stem, e.g. "20_segment_customers"
    parameters: dict = field(default_factory=dict)
    if_tables_missing: str = "refuse"  # or "skip": left out of a run whose data lack a table it needs


@dataclass(frozen=True)
class Playbook:
    name: str
    path: Path
    title: str
    question: str
    shared: dict  # data and shared parameters, for every notebook declaring them
    steps: tuple[Step, ...]
    report: dict

    def parameters_for(self, step: Step) -> dict:
        """What papermill injects into ``step``: the shared values it accepts, then its own."""
        accepted = parameters_of(step.notebook)
        return dict(sorted({**{k: v for k, v in self.shared.items() if k in accepted}, **step.parameters}.items()))


def available() -> list[str]:
    """Names of the playbooks in ``playbooks/``."""
    return sorted(p.stem for p in PLAYBOOKS_DIR.glob("*.yml"))


def known_notebooks() -> list[str]:
    return [p.stem for p in notebooks()]


@functools.cache
def _inspect(path: Path, mtime: float) -> dict:
    import papermill as pm

    return pm.inspect_notebook(str(path))


def notebook_parameters(stem: str) -> dict[str, dict]:
    """The parameters cell of ``notebooks/<stem>.ipynb``: name -> {type, default, help}."""
    path = NOTEBOOKS_DIR / f"{stem}.ipynb"
    if not path.exists():
        raise PlaybookError(f"unknown notebook {stem!r}; known notebooks: {', '.join(known_notebooks())}.")
    return {
        name: {"type": p["inferred_type_name"], "default": p["default"], "help": p["help"]}
        for name, p in _inspect(path, path.stat().st_mtime).items()
    }


def parameters_of(stem: str) -> dict[str, dict]:
    """Every parameter notebook ``stem`` accepts: the data parameters, then its parameters cell's."""
    return {**DATA_PARAMETERS, **notebook_parameters(stem)}


def load(name: str | Path) -> Playbook:
    """Read and check a playbook by name (``playbooks/<name>.yml``) or path."""
    path = Path(name) if str(name).endswith((".yml", ".yaml")) else PLAYBOOKS_DIR / f"{name}.yml"
    if not path.exists():
        raise PlaybookError(f"unknown playbook {str(name)!r}; playbooks: {', '.join(available())}.")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PlaybookError(f"{path.name} is not valid YAML: {exc}") from exc
    where = path.name
    if not isinstance(spec, dict):
        raise PlaybookError(f"{where} must be a mapping with the sections {', '.join(SECTIONS)}.")
    _no_unknown(where, spec, SECTIONS, "section")
    for required in ("title", "question", "notebooks"):
        if not spec.get(required):
            raise PlaybookError(f"{where} lacks '{required}'.")
    data, shared, report = (_mapping(where, spec, key) for key in ("data", "parameters", "report"))
    _no_unknown(f"{where} data", data, DATA_KEYS, "data key")
    _no_unknown(f"{where} report", report, REPORT_KEYS, "report option")
    if not isinstance(spec["notebooks"], list):
        raise PlaybookError(f"{where} notebooks must be a list of notebook names.")
    playbook = Playbook(
        path.stem,
        path,
        str(spec["title"]),
        str(spec["question"]),
        {**shared, **data},
        tuple(_step(where, entry) for entry in spec["notebooks"]),
        {"title": str(spec["title"]), **REPORT_DEFAULTS, **{k: str(v) for k, v in report.items()}},
    )
    return check(playbook)


def _report_choices(where: str, report: dict) -> None:
    for key, choices in REPORT_CHOICES.items():
        if report.get(key, choices[0]) not in choices:
            raise PlaybookError(f"{where}: report {key} {report[key]!r} is not one of {', '.join(choices)}.")


def _mapping(where: str, spec: dict, key: str) -> dict:
    value = spec.get(key) or {}
    if not isinstance(value, dict):
        raise PlaybookError(f"{where} {key} must be a mapping of names to values, got {value!r}.")
    return value


def _no_unknown(where: str, given: dict, known, what: str) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise PlaybookError(f"{where}: unknown {what}(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}.")


def _step(where: str, entry) -> Step:
    if isinstance(entry, str):
        entry = {"notebook": entry}
    if not isinstance(entry, dict) or "notebook" not in entry:
        raise PlaybookError(
            f"{where}: each notebook entry is a name or {{notebook: NAME, parameters: {{...}}}}, got {entry!r}."
        )
    _no_unknown(f"{where} notebook {entry['notebook']}", entry, ("notebook", "parameters", "if_tables_missing"), "key")
    stem = str(entry["notebook"]).removesuffix(".ipynb")
    notebook_parameters(stem)
    if_missing = entry.get("if_tables_missing", "refuse")
    if if_missing not in IF_TABLES_MISSING:
        raise PlaybookError(
            f"{where}: notebook {stem}: if_tables_missing must be {' or '.join(IF_TABLES_MISSING)}, got {if_missing!r}."
        )
    return Step(stem, dict(entry.get("parameters") or {}), if_missing)


def check(playbook: Playbook) -> Playbook:
    """Check every value against the notebooks' declared parameters; return the playbook with
    values in their declared types and data paths made absolute. Raises PlaybookError."""
    where = playbook.path.name
    _report_choices(where, playbook.report)
    declared_anywhere = {name for step in playbook.steps for name in parameters_of(step.notebook)}
    shared = {}
    for name, value in playbook.shared.items():
        if name in RESERVED or name not in declared_anywhere:
            raise PlaybookError(f"{where}: unknown parameter {name!r}: no notebook of this playbook declares it.")
        owners = [s.notebook for s in playbook.steps if name in parameters_of(s.notebook)]
        for_whom = "every notebook" if name in DATA_KEYS else ", ".join(owners)
        shared[name] = _typed(f"{where}: {name} (for {for_whom})", name, value, parameters_of(owners[0])[name])
    steps = []
    for step in playbook.steps:
        declared = parameters_of(step.notebook)
        for name in step.parameters:
            if name in RESERVED or name not in declared:
                raise PlaybookError(
                    f"{where}: notebook {step.notebook} has no parameter {name!r}; "
                    f"its parameters: {', '.join(n for n in declared if n not in RESERVED)}."
                )
        typed = {n: _typed(f"{where}: {step.notebook}.{n}", n, v, declared[n]) for n, v in step.parameters.items()}
        steps.append(replace(step, parameters=typed))
    for paths in [shared, *(s.parameters for s in steps)]:
        _check_data(where, paths)
    return replace(playbook, shared=shared, steps=tuple(steps))


def _typed(where: str, name: str, value, declared: dict):
    """``value`` as the declared type of parameter ``name`` (int, float, str, bool, dict, list), in
    its domain; dates checked."""
    kind = declared["type"]
    if isinstance(value, dt.date) and kind == "str":
        return value.isoformat()
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "str": isinstance(value, str),
        "bool": isinstance(value, bool),
        "dict": isinstance(value, dict),
        "list": isinstance(value, list),
    }.get(kind, True)
    if not ok:
        raise PlaybookError(
            f"{where} must be {_TYPE_WORDS.get(kind, kind)} (default {declared['default']}: "
            f"{declared['help']}), got {value!r}."
        )
    if name in DATE_PARAMETERS and value:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise PlaybookError(f"{where} must be a date like 2025-12-31 (or empty), got {value!r}.") from None
    domain = DOMAINS.get(name)
    if domain and not domain.admits(value):
        if isinstance(value, (dict, list)):
            raise PlaybookError(f"every value in {where} must be {domain} ({declared['help']}), got {value!r}.")
        raise PlaybookError(
            f"{where} must be {domain} ({declared['help']}; default {declared['default']}), got {value!r}."
        )
    return float(value) if kind == "float" else value


_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "text",
    "bool": "true or false",
    "dict": "a mapping like {key: value}",
    "list": "a list",
}


def _check_data(where: str, values: dict) -> None:
    """Data folders and the files notebooks read exist and can be read (absolute paths from here
    on); world parameters pass the world's own checks."""
    for key in ("data_dir", *FILE_PARAMETERS):
        if values.get(key):
            path = Path(values[key])
            path = path if path.is_absolute() else REPO_ROOT / path
            if not (path.is_dir() if key == "data_dir" else path.is_file()):
                kind = "folder" if key == "data_dir" else "file"
                raise PlaybookError(f"{where}: {key} {values[key]!r}: no such {kind} ({path}).")
            unreadable = _unreadable(path)
            if unreadable:
                names = ", ".join(str(p) for p in unreadable[:3]) + (
                    f" and {len(unreadable) - 3} more" if len(unreadable) > 3 else ""
                )
                raise PlaybookError(
                    f"{where}: {key} {values[key]!r}: cannot read {names} (permission denied); "
                    f"make it readable (chmod -R u+rX) or copy it to a folder of yours."
                )
            values[key] = str(path)
    world = world_settings(values)
    if world and not values.get("data_dir"):
        try:
            world_parameters(**world)
        except WorldParameterError as exc:
            raise PlaybookError(f"{where}: {exc}") from exc


def _unreadable(path: Path) -> list[Path]:
    """``path`` and, for a folder, every folder and file under it, that this process may not read."""
    if path.is_file():
        return [] if os.access(path, os.R_OK) else [path]
    found = [] if os.access(path, os.R_OK | os.X_OK) else [path]
    for root, folders, files in os.walk(path):
        found += [Path(root, f) for f in folders if not os.access(Path(root, f), os.R_OK | os.X_OK)]
        found += [Path(root, f) for f in files if not os.access(Path(root, f), os.R_OK)]
    return found


def with_settings(playbook: Playbook, settings: Sequence[str] = (), data_dir: str | None = None) -> Playbook:
    """Apply command-line settings: ``--data DIR`` and ``--set key=value`` (``key`` for every notebook
    declaring it, replacing the recipe's values, ``NOTEBOOK.key`` for one notebook, its stem or
    number, ``report.key`` for the report). Values are read as YAML (``7``, ``0.4``, ``true``,
    ``{a: 1}``), text as given."""
    shared, report = dict(playbook.shared), dict(playbook.report)
    steps = {s.notebook: dict(s.parameters) for s in playbook.steps}
    if data_dir is not None:
        shared["data_dir"] = str(Path(data_dir).resolve())
    for setting in settings:
        key, sep, raw = setting.partition("=")
        if not sep or not key:
            raise PlaybookError(f"--set {setting!r}: write key=value, e.g. --set seed=7.")
        scope, dot, name = key.rpartition(".")
        if scope == "report":
            if name not in REPORT_KEYS:
                raise PlaybookError(
                    f"--set {setting}: unknown report option {name!r}; known: {', '.join(REPORT_KEYS)}."
                )
            report[name] = raw
            continue
        targets = [_step_named(playbook, scope, setting)] if dot else [s for s in steps if name in parameters_of(s)]
        if not targets or name in RESERVED:
            raise PlaybookError(
                f"--set {setting}: unknown parameter {name!r}; see `playbook describe {playbook.name}`."
            )
        declared = parameters_of(targets[0])
        if name not in declared:
            raise PlaybookError(
                f"--set {setting}: notebook {targets[0]} has no parameter {name!r}; "
                f"see `playbook describe {playbook.name}`."
            )
        value = raw if declared[name]["type"] == "str" else _parse(setting, raw)
        if name in ("data_dir", *FILE_PARAMETERS) and value:
            value = str(Path(value).resolve())
        if dot:
            steps[targets[0]][name] = value
        else:
            shared[name] = value
            for stem in targets:  # the command line wins over the recipe's per-notebook values
                steps[stem].pop(name, None)
    if "data_dir" in shared and shared["data_dir"]:
        shared = {k: v for k, v in shared.items() if k not in WORLD_KEYS or k == "seed"}
    settled = replace(
        playbook,
        shared=shared,
        report=report,
        steps=tuple(replace(s, parameters=steps[s.notebook]) for s in playbook.steps),
    )
    try:
        return check(settled)
    except PlaybookError as exc:
        raise PlaybookError(f"{exc} (after {' '.join(f'--set {s}' for s in settings) or '--data'})") from exc


def _step_named(playbook: Playbook, scope: str, setting: str) -> str:
    for step in playbook.steps:
        if scope in (step.notebook, step.notebook.split("_", 1)[0]):
            return step.notebook
    raise PlaybookError(
        f"--set {setting}: this playbook has no notebook {scope!r}; "
        f"its notebooks: {', '.join(s.notebook for s in playbook.steps)}."
    )


def _parse(setting: str, raw: str):
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise PlaybookError(f"--set {setting}: the value is not readable ({exc}).") from exc


def describe(playbook: Playbook) -> str:
    """The playbook in words: question, data, and every parameter with its value and help, read
    from the notebooks' parameters cells."""
    lines = [
        f"{playbook.name}: {playbook.title}",
        f"  question: {playbook.question}",
        "  report: " + ", ".join(f"{k}={v}" for k, v in playbook.report.items()),
        "  data and shared parameters (--set NAME=VALUE):",
    ]
    lines += [_parameter_line(name, playbook.shared.get(name, p["default"]), p) for name, p in DATA_PARAMETERS.items()]
    for step in playbook.steps:
        skip = ", skipped when the data lack its tables" if step.if_tables_missing == "skip" else ""
        lines.append(f"  {step.notebook} (--set {step.notebook.split('_', 1)[0]}.NAME=VALUE{skip}):")
        values = playbook.parameters_for(step)
        lines += [
            _parameter_line(name, values.get(name, p["default"]), p)
            for name, p in notebook_parameters(step.notebook).items()
            if name not in (*DATA_KEYS, *RESERVED)
        ]
    return "\n".join(lines)


def _parameter_line(name: str, value, declared: dict) -> str:
    return f"    {name:<22} {str(value):<14} {declared['type']:<6} {declared['help']}"
