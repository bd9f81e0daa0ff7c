"""The worlds of the audit: a YAML of variants (scenario overrides by dotted key, world parameters),
each made into a scenario file of its own and generated once per seed (cached like any world)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import yaml

from helpers.errors import RunInputError
from helpers.paths import SYNTHETIC_DIR
from helpers.world import World, ensure_world
from helpers.world.scenario import load_scenario

VARIANTS_FILE = Path(__file__).with_name("variants.yml")
WORLD_OVERRIDES = ("n_customers", "n_prospects", "start", "end")


class AuditInputError(RunInputError):
    """The audit's variants file or options are wrong; the message names the field and the fix."""


@dataclass(frozen=True)
class Variant:
    """A world the audit plays on: its name, its scenario (a dict, overrides applied) and its world
    parameters (without the seed)."""

    name: str
    spec: dict
    world: dict


def load_variants(path: str | Path = VARIANTS_FILE, only: list[str] | None = None) -> list[Variant]:
    """The variants of ``path`` (all, or those named in ``only``, in the file's order)."""
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AuditInputError(f"{path}: cannot read the variants file ({exc}).") from exc
    if not isinstance(config, dict) or not isinstance(config.get("variants"), dict):
        raise AuditInputError(f"{path}: needs a mapping 'variants' of name -> overrides.")
    names = list(config["variants"])
    unknown = sorted(set(only or []) - set(names))
    if unknown:
        raise AuditInputError(f"{path}: no variant named {unknown}; variants: {names}.")
    base = load_scenario(config.get("scenario", "retail_fr"))
    return [
        _variant(path, name, base, config.get("world") or {}, config["variants"][name] or {})
        for name in names
        if not only or name in only
    ]


def _variant(path: Path, name: str, base: dict, world: dict, overrides: dict) -> Variant:
    spec = copy.deepcopy(base)
    for dotted, value in (overrides.get("scenario") or {}).items():
        *parents, leaf = dotted.split(".")
        section: object = spec
        for key in parents:
            section = section.get(key) if isinstance(section, dict) else None
        if not isinstance(section, dict) or leaf not in section:
            raise AuditInputError(f"{path}: variant {name!r}: the scenario has no field {dotted!r}.")
        section[leaf] = value
    params = {**world, **(overrides.get("world") or {})}
    bad = sorted(set(params) - set(WORLD_OVERRIDES))
    if bad:
        raise AuditInputError(f"{path}: variant {name!r}: unknown world parameter(s) {bad}; known: {WORLD_OVERRIDES}.")
    spec["name"] = f"{base['name']}-audit-{name.replace(' ', '_')}"
    return Variant(name, spec, params)


def variant_world(variant: Variant, seed: int, root: Path = SYNTHETIC_DIR, **world: object) -> World:
    """The variant's world for ``seed`` (``world`` overrides its parameters, e.g. n_customers),
    generated into ``root`` if missing: its scenario file is written to ``root/audit_scenarios/``."""
    folder = Path(root) / "audit_scenarios"
    folder.mkdir(parents=True, exist_ok=True)
    scenario = folder / f"{variant.spec['name']}.yml"
    text = yaml.safe_dump(variant.spec, sort_keys=False, allow_unicode=True)
    if not scenario.exists() or scenario.read_text(encoding="utf-8") != text:
        scenario.write_text(text, encoding="utf-8")
    return ensure_world(scenario, root=root, **{**variant.world, **world, "seed": seed})
