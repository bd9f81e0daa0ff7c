"""Who may be contacted on which channel: the legal rules as data, consent and the preference centre,
contact-pressure caps, and the contacts already sent.

Legal eligibility is a table (``reference/channel_rules_fr.csv``, one row per channel, audience and
period, with its source): a new country or channel is a table row, not code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data.consents import ResolvedConsents, resolve_consents
from helpers.decide.contact_plan.problem import PlanInputError
from helpers.paths import REFERENCE_DIR


def channel_rules(path: str | Path = REFERENCE_DIR / "channel_rules_fr.csv") -> pd.DataFrame:
    """The legal rules per channel, audience (customer, prospect or any) and period."""
    rules = pd.read_csv(path, dtype={"max_per_30_days": "Int64"}, keep_default_na=False, na_values=[""])
    for column in ("valid_from", "valid_to"):
        rules[column] = pd.to_datetime(rules[column]).dt.date
    return rules


def rules_on(rules: pd.DataFrame, on: dt.date, audience: str) -> pd.DataFrame:
    """The rule in force for each channel on ``on`` for ``audience`` (a specific row beats 'any')."""
    valid = rules[
        (rules.valid_from.isna() | (rules.valid_from <= on))
        & (rules.valid_to.isna() | (rules.valid_to >= on))
        & rules.audience.isin([audience, "any"])
    ]
    return (
        valid.assign(specific=valid.audience == audience)
        .sort_values("specific")
        .groupby("channel")
        .tail(1)
        .drop(columns="specific")
        .set_index("channel")
    )


def eligibility(
    customers: pd.DataFrame,
    consents: pd.DataFrame | None,
    channels: list[str],
    on: dt.date,
    rules: pd.DataFrame,
    recent: pd.DataFrame | None = None,
    pressure_cap: int | None = None,
) -> pd.DataFrame:
    """Customers (rows, by customer_id) x channels: may the channel reach them on ``on``?

    Per the rule in force: an opt_in channel needs a recorded opt_in, an opt_out channel no
    opt_out; 'phone' needs a number and 'app' the app; Bloctel-listed numbers are screened out;
    the legal cap per 30 days counts ``recent`` contacts on that channel (columns customer_id,
    channel, contacts in the last 30 days). The preference centre (preferred_channel,
    max_contacts_per_month) and the house ``pressure_cap`` on all contacts in 30 days apply too
    (0 allows no contact at all; None: no house cap). Consent rows are read whatever their order
    (``consents.resolve_consents``: the latest row wins, the most restrictive on a tie). Without a
    consents table the strict default holds: no opt_in channel, no phone."""
    _check_pressure_cap(pressure_cap)
    ids = pd.Index(customers.customer_id, name="customer_id")
    resolved = resolve_consents(consents) if consents is not None else None
    facts = _facts(customers, resolved, recent, ids)
    in_force = {audience: rules_on(rules, on, audience) for audience in ("customer", "prospect")}
    table = pd.DataFrame({channel: _legal(channel, in_force, facts, ids) for channel in channels})
    preferences = resolved.preferences if resolved is not None else pd.DataFrame(index=ids)
    return _within_preferences(table, preferences, facts.total_recent, pressure_cap, ids)


@dataclass
class _Facts:
    """What the rules read per customer (index customer_id): prospect or not, consent status per
    channel (columns), the phone's Bloctel listing (None without consents), a phone number, the
    app, and the contacts of the last 30 days per channel (columns) and in all."""

    prospect: pd.Series
    status: pd.DataFrame
    bloctel: pd.Series | None
    has_phone: pd.Series
    has_app: pd.Series
    recent_by: pd.DataFrame
    total_recent: pd.Series


def _facts(
    customers: pd.DataFrame, resolved: ResolvedConsents | None, recent: pd.DataFrame | None, ids: pd.Index
) -> _Facts:
    by_id = customers.set_index("customer_id")
    prospect = by_id.get("is_prospect", pd.Series(False, index=ids)).fillna(False)
    status = (
        resolved.channels.pivot(index="customer_id", columns="channel", values="status")
        if resolved is not None
        else pd.DataFrame(index=ids)
    )
    bloctel = (
        resolved.channels[resolved.channels.channel == "phone"].set_index("customer_id").get("bloctel")
        if resolved is not None
        else None
    )
    has_phone = by_id.get("phone", pd.Series(np.nan, index=ids)).notna()
    has_app = by_id.get("has_app", pd.Series(False, index=ids)).fillna(False).astype(bool)
    recent_by = (
        recent.pivot_table(index="customer_id", columns="channel", values="contacts", aggfunc="sum")
        .reindex(index=ids)
        .fillna(0)
        if recent is not None and len(recent)
        else pd.DataFrame(index=ids)
    )
    total_recent = recent_by.sum(axis=1) if len(recent_by.columns) else pd.Series(0.0, index=ids)
    return _Facts(prospect, status, bloctel, has_phone, has_app, recent_by, total_recent)


def _legal(channel: str, in_force: dict[str, pd.DataFrame], facts: _Facts, ids: pd.Index) -> pd.Series:
    """Per customer: does the rule in force for their audience let ``channel`` reach them (consent,
    a phone or the app, Bloctel, the legal cap per 30 days)?"""
    ok = pd.Series(True, index=ids)
    for audience, rows in (("customer", ~facts.prospect), ("prospect", facts.prospect)):
        rule = in_force[audience]
        if channel not in rule.index:
            ok[rows.to_numpy()] = False  # a channel without a rule is not allowed
            continue
        r = rule.loc[channel]
        st = facts.status[channel].reindex(ids) if channel in facts.status else pd.Series(np.nan, index=ids)
        if r.regime == "opt_in":
            allowed = st.eq("opt_in")
        elif channel in facts.status:  # never without a consents table: then the status table is empty
            allowed = ~st.eq("opt_out")
        else:
            allowed = pd.Series(channel != "phone", index=ids)
        if r.needs == "phone":
            allowed &= facts.has_phone
        if r.needs == "app":
            allowed &= facts.has_app
        if bool(r.bloctel_screening):
            allowed &= (~facts.bloctel.reindex(ids).fillna(True).astype(bool)) if facts.bloctel is not None else False
        if pd.notna(r.max_per_30_days) and channel in facts.recent_by:
            allowed &= facts.recent_by[channel] + 1 <= int(r.max_per_30_days)
        ok[rows.to_numpy()] &= allowed[rows.to_numpy()]
    return ok


def _within_preferences(
    table: pd.DataFrame, preferences: pd.DataFrame, total_recent: pd.Series, pressure_cap: int | None, ids: pd.Index
) -> pd.DataFrame:
    """``table`` narrowed by the preference centre (the preferred channel only, at most
    max_contacts_per_month) and the house ``pressure_cap``, both counting all contacts in 30 days."""
    if "preferred_channel" in preferences:
        preferred = preferences.preferred_channel.reindex(ids)
        for channel in table.columns:
            table[channel] &= preferred.isna() | preferred.eq(channel)
    cap = pd.Series(np.inf if pressure_cap is None else float(pressure_cap), index=ids)
    if "max_contacts_per_month" in preferences:
        cap = np.minimum(cap, preferences.max_contacts_per_month.reindex(ids).astype(float).fillna(np.inf))
    return table & (total_recent + 1 <= cap).to_numpy()[:, None]


def _check_pressure_cap(pressure_cap) -> None:
    if pressure_cap is not None and (
        isinstance(pressure_cap, bool) or not isinstance(pressure_cap, (int, np.integer)) or pressure_cap < 0
    ):
        raise PlanInputError(
            f"pressure_cap must be a whole number of contacts >= 0 (0: no contact at all), got {pressure_cap!r}."
        )


def sent_contacts(contacts: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Campaign messages actually sent (treated rows): customer_id, channel, day (sent_at, else the
    campaign's start date)."""
    sent = contacts[contacts.group == "treatment"].merge(
        campaigns[["campaign_id", "channel", "start_date"]], on="campaign_id"
    )
    when = pd.to_datetime(sent.get("sent_at", sent.start_date)).fillna(pd.to_datetime(sent.start_date))
    return pd.DataFrame({"customer_id": sent.customer_id, "channel": sent.channel, "day": when.dt.normalize()})


def recent_contacts(contacts: pd.DataFrame, campaigns: pd.DataFrame, on: dt.date, days: int = 30) -> pd.DataFrame:
    """Contacts sent in the ``days`` before ``on`` per customer and channel (treated rows only)."""
    sent = sent_contacts(contacts, campaigns)
    window = sent[(sent.day < pd.Timestamp(on)) & (sent.day >= pd.Timestamp(on) - pd.Timedelta(days=days))]
    return window.groupby(["customer_id", "channel"]).size().rename("contacts").reset_index()
