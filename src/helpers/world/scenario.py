"""Scenario files and world parameters: loaded, checked, and refused early with a clear message."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import yaml

from helpers.errors import WorldInputError
from helpers.paths import SCENARIOS_DIR

# Bump when the same parameters would give different files; it is part of every world's cache key.
GENERATOR_VERSION = 3
SUPPORTED_LOCALES = ("fr_FR",)
MAX_HISTORY_DAYS = 80 * 365  # day indices are sorted as 16-bit integers
CHANNELS = ("email", "sms", "postal", "phone", "push")
REQUIRED_SECTIONS = (
    "defaults",
    "purchases",
    "spend",
    "catalogue",
    "customers",
    "channels",
    "offers",
    "response",
    "campaigns",
    "prospects",
)


class WorldParameterError(WorldInputError):
    """A world parameter or scenario file is wrong; the message names it and the fix."""


@dataclass(frozen=True)
class WorldParameters:
    """What a world is made from. Dates are the first and last day of the transaction history."""

    scenario: str
    n_customers: int
    n_prospects: int
    start: dt.date
    end: dt.date
    seed: int
    locale: str

    def key(self, scenario_spec: dict) -> str:
        """Short hash of these parameters, the scenario's content and the generator version: the
        world's cache key."""
        blob = json.dumps(
            {"params": asdict(self), "scenario": scenario_spec, "generator": GENERATOR_VERSION},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:10]

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in asdict(self).items()}


WORLD_KEYS = tuple(f.name for f in fields(WorldParameters))  # the parameters a world is made from


def world_settings(values: Mapping) -> dict:
    """The world parameters among ``values`` (a notebook's or a playbook step's parameters)."""
    return {key: values[key] for key in WORLD_KEYS if key in values}


def scenario_path(scenario: str | Path) -> Path:
    """Path of a scenario given by name (``retail_fr``) or by path to a YAML file."""
    path = Path(scenario)
    if path.suffix in (".yml", ".yaml"):
        if not path.exists():
            raise WorldParameterError(f"scenario: file {path} does not exist.")
        return path
    path = SCENARIOS_DIR / f"{scenario}.yml"
    if not path.exists():
        known = sorted(p.stem for p in SCENARIOS_DIR.glob("*.yml") if not p.stem.startswith("triggers_"))
        raise WorldParameterError(f"scenario: unknown scenario {scenario!r}; known scenarios: {', '.join(known)}.")
    return path


def load_scenario(scenario: str | Path) -> dict:
    """Read and check a scenario YAML; raises WorldParameterError naming the faulty field."""
    path = scenario_path(scenario)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise WorldParameterError(f"scenario: {path.name} is not valid YAML ({exc}).") from exc
    if not isinstance(spec, dict):
        raise WorldParameterError(f"scenario: {path.name} must be a mapping of sections, got {type(spec).__name__}.")
    if spec.get("kind") == "subscriptions":  # a contract business: helpers.world.subscriptions
        from helpers.world.subscriptions import check_scenario

        check_scenario(spec, path.name)
        spec["name"] = spec.get("name", path.stem)
        return spec
    missing = [s for s in REQUIRED_SECTIONS if not isinstance(spec.get(s), dict)]
    if missing:
        raise WorldParameterError(f"scenario: {path.name} lacks the section(s) {', '.join(missing)}.")
    _check_positive(spec, path.name, "purchases", ("r", "alpha", "a", "b"))
    _check_positive(spec, path.name, "spend", ("p", "q", "gamma"))
    if spec["spend"]["q"] <= 1:
        raise WorldParameterError(f"scenario: {path.name} spend.q must exceed 1 for the mean order value to exist.")
    unknown = sorted(set(spec["channels"]) - set(CHANNELS))
    if unknown:
        raise WorldParameterError(
            f"scenario: {path.name} channels has unknown channel(s) {unknown}; known: {CHANNELS}."
        )
    for i, step in enumerate(spec["campaigns"].get("plan", [])):
        if step.get("channel") not in spec["channels"] or step.get("offer") not in spec["offers"]:
            raise WorldParameterError(
                f"scenario: {path.name} campaigns.plan[{i}] names channel {step.get('channel')!r} / offer "
                f"{step.get('offer')!r}, which are not both defined in channels and offers."
            )
    nurture = spec["prospects"].get("nurture_lift", {})
    for channel, by_stage in nurture.items():
        if (
            channel not in spec["channels"]
            or set(by_stage) != set(spec["prospects"]["stages"])
            or not all(isinstance(v, (int, float)) and 0 <= v < 1 for v in by_stage.values())
        ):
            raise WorldParameterError(
                f"scenario: {path.name} prospects.nurture_lift.{channel} needs a known channel and a lift in [0, 1) "
                f"for each stage {list(spec['prospects']['stages'])}, got {by_stage!r}."
            )
    spec["prospects"].setdefault("nurture_lift", {})
    spec["name"] = spec.get("name", path.stem)
    return spec


def _check_positive(spec: dict, fname: str, section: str, keys: tuple[str, ...]) -> None:
    for key in keys:
        value = spec[section].get(key)
        if not isinstance(value, (int, float)) or value <= 0:
            raise WorldParameterError(f"scenario: {fname} {section}.{key} must be a positive number, got {value!r}.")


def world_parameters(scenario: str | Path = "retail_fr", spec: dict | None = None, **overrides) -> WorldParameters:
    """The scenario's defaults with ``overrides`` applied, each one checked.

    Overrides: n_customers, n_prospects, start, end (dates or ISO strings), seed, locale.
    """
    spec = spec or load_scenario(scenario)
    unknown = sorted(set(overrides) - {"n_customers", "n_prospects", "start", "end", "seed", "locale"})
    if unknown:
        raise WorldParameterError(f"unknown world parameter(s) {unknown}.")
    values = {
        **spec["defaults"],
        "locale": spec.get("locale", "fr_FR"),
        **{k: v for k, v in overrides.items() if v is not None},
    }
    n_customers = _int_param("n_customers", values["n_customers"], minimum=1)
    n_prospects = _int_param("n_prospects", values["n_prospects"], minimum=0)
    seed = _int_param("seed", values["seed"], minimum=0)
    start, end = _date_param("start", values["start"]), _date_param("end", values["end"])
    if end <= start:
        raise WorldParameterError(f"end ({end}) must be after start ({start}).")
    if (end - start).days < 365:
        raise WorldParameterError(f"the history from start {start} to end {end} must cover at least a year.")
    if (end - start).days > MAX_HISTORY_DAYS:
        raise WorldParameterError(
            f"the history from start {start} to end {end} must cover at most {MAX_HISTORY_DAYS // 365} years."
        )
    if values["locale"] not in SUPPORTED_LOCALES:
        raise WorldParameterError(f"locale: {values['locale']!r} is not supported; supported: {SUPPORTED_LOCALES}.")
    return WorldParameters(spec["name"], n_customers, n_prospects, start, end, seed, values["locale"])


def _int_param(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise WorldParameterError(f"{name} must be a whole number, got {value!r}.")
    if value < minimum:
        raise WorldParameterError(f"{name} must be at least {minimum}, got {value}.")
    return int(value)


def _date_param(name: str, value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise WorldParameterError(f"{name} must be a date like 2025-12-31, got {value!r}.") from exc
