"""Consent per channel and the legal rules that decide who may be contacted.

Status codes: 0 = unknown, 1 = opt_in, 2 = opt_out. A channel's ``regime`` (scenario data) says
whether it needs a recorded opt-in (email, SMS, push: CPCE art. L.34-5) or is open unless the
person objected (postal mail, human calls); phone also needs the number to be off Bloctel.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from helpers.paths import REFERENCE_DIR

STATUS = np.array(["unknown", "opt_in", "opt_out"])
UNKNOWN, OPT_IN, OPT_OUT = 0, 1, 2


@dataclass
class ConsentState:
    """Consent status per customer (rows) and channel (columns), plus phone and preference data."""

    channels: list[str]
    status: np.ndarray  # (n, n_channels) int8 codes
    updated_day: np.ndarray  # (n, n_channels) day index of the last change
    bloctel: np.ndarray  # (n,) phone number listed on Bloctel
    preferred: np.ndarray  # (n,) preferred channel index, -1 if none
    max_per_month: np.ndarray  # (n,) own maximum contacts a month, 0 if none


@cache
def channels_needing(need: str, rules: Path = REFERENCE_DIR / "channel_rules_fr.csv") -> frozenset[str]:
    """Channels whose legal rules (a row per channel, audience and period) need ``need``, e.g. 'phone'
    (a phone number): a new channel is a row of the rules table, not code."""
    with open(rules, newline="", encoding="utf-8") as file:
        return frozenset(row["channel"] for row in csv.DictReader(file) if row["needs"] == need)


def draw_consents(
    rng: np.random.Generator,
    spec: dict,
    is_prospect: np.ndarray,
    has_phone: np.ndarray,
    has_app: np.ndarray,
    signup_day: np.ndarray,
) -> ConsentState:
    """Initial consents at signup, following each channel's regime and the scenario's rates."""
    channels = list(spec["channels"])
    n = len(is_prospect)
    status = np.zeros((n, len(channels)), dtype=np.int8)
    who = np.where(is_prospect, "prospect", "customer")
    for j, name in enumerate(channels):
        rule = spec["channels"][name]
        u = rng.random(n)
        if rule["regime"] == "opt_in":
            rate = np.where(who == "prospect", rule["opt_in_rate"]["prospect"], rule["opt_in_rate"]["customer"])
            status[:, j] = np.where(u < rate, OPT_IN, np.where(u < rate + (1 - rate) / 3, OPT_OUT, UNKNOWN))
        else:
            rate = np.where(who == "prospect", rule["opt_out_rate"]["prospect"], rule["opt_out_rate"]["customer"])
            status[:, j] = np.where(u < rate, OPT_OUT, UNKNOWN)
        if rule.get("requires_app"):
            status[~has_app & (status[:, j] == OPT_IN), j] = UNKNOWN
        if name in channels_needing("phone"):
            status[~has_phone & (status[:, j] == OPT_IN), j] = UNKNOWN
    bloctel = has_phone & (rng.random(n) < spec["channels"].get("phone", {}).get("bloctel_rate", 0.0))
    chooses = rng.random(n) < spec["customers"]["preference_centre_share"]
    preferred = np.where(chooses, rng.integers(len(channels), size=n), -1)
    max_per_month = np.where(chooses, rng.integers(1, 9, size=n), 0)
    updated = np.repeat(signup_day[:, None], len(channels), axis=1).astype(np.int64)
    return ConsentState(channels, status, updated, bloctel, preferred, max_per_month)


def contact_allowed(
    spec: dict, consents: ConsentState, channel: str, has_phone: np.ndarray, has_app: np.ndarray
) -> np.ndarray:
    """Boolean per customer: may ``channel`` legally reach them, and does it respect their choice?

    opt_in regime: status must be opt_in. opt_out regime: status must not be opt_out. A channel
    whose rules need a phone (SMS, phone): a number; phone: off Bloctel. Push: the app installed. A
    customer who chose a channel in the preference centre is reached on that channel only.
    """
    j = consents.channels.index(channel)
    rule = spec["channels"][channel]
    status = consents.status[:, j]
    ok = status == OPT_IN if rule["regime"] == "opt_in" else status != OPT_OUT
    if channel in channels_needing("phone"):
        ok &= has_phone
    if rule.get("needs_bloctel_check"):
        ok &= ~consents.bloctel
    if rule.get("requires_app"):
        ok &= has_app
    ok &= (consents.preferred < 0) | (consents.preferred == j)
    return ok
