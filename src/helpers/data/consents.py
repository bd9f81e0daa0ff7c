"""The consents table read as the rules a plan must obey, whatever the order of its rows.

A consents export often holds several rows per customer and channel (a history of changes, or two
systems merged) and repeats the preference centre (preferred channel, own monthly maximum) on some
rows only. ``resolve_consents`` gives one answer per customer and channel, and one preference centre
per customer:

- the latest row by ``updated_at`` wins;
- rows that cannot be ordered (the same latest date, or a row without a date, which may be newer)
  give the most restrictive answer among them: opt_out before unknown before opt_in, listed on
  Bloctel before not listed, the lowest monthly maximum, and two different preferred channels
  reach the customer on neither (``CONFLICTING_CHOICES``) until the record is cleaned;
- an empty preference field states nothing: it neither sets nor clears a preference.

Each resolved disagreement is counted in ``ResolvedConsents.conflicts`` for the quality report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from helpers.data._sql import column_types, fetch, ident
from helpers.data.quality import TableReport

CONFLICTING_CHOICES = "conflicting choices"  # a preferred_channel that no channel matches
STATUS_STRICTNESS = {"opt_in": 0, "unknown": 1, "opt_out": 2}


@dataclass
class ResolvedConsents:
    """``channels``: one row per customer_id and channel (status, bloctel); ``preferences``: one
    row per customer_id stating a preference (preferred_channel, max_contacts_per_month);
    ``conflicts``: per field, how many customers (or customer-channel pairs) had disagreeing rows,
    settled by date or, when dates could not order them, by taking the most restrictive."""

    channels: pd.DataFrame
    preferences: pd.DataFrame
    conflicts: pd.DataFrame

    def sentences(self) -> list[str]:
        """The conflicts in plain words, for a report (empty when there were none)."""
        return [
            f"{row.field}: {row.by_date + row.by_restriction:,} {row.unit} had disagreeing rows; "
            f"{row.by_date:,} settled by the latest updated_at, {row.by_restriction:,} by the most restrictive "
            "value (same date or no date)"
            for row in self.conflicts.itertuples()
            if row.by_date + row.by_restriction
        ]


def resolve_consents(consents: pd.DataFrame) -> ResolvedConsents:
    """One status per customer and channel and one preference centre per customer (module doc).
    ``consents``: the contract's table (customer_id, channel, status; optionally bloctel,
    preferred_channel, max_contacts_per_month, updated_at), rows in any order."""
    frame = consents.reset_index(drop=True)
    person, people = pd.factorize(frame.customer_id, sort=True)  # sorted codes: pairs come out in order
    channel, channels = pd.factorize(frame.channel, sort=True)
    pair = person * len(channels) + channel
    day = (
        pd.to_datetime(frame.updated_at).to_numpy("datetime64[ns]")
        if "updated_at" in frame
        else np.full(len(frame), np.datetime64("NaT"), "datetime64[ns]")
    )
    fields: list[tuple[str, np.ndarray, Callable[[np.ndarray], np.ndarray] | None]] = [
        ("status", pair, _status_strictness)
    ]
    if "bloctel" in frame:
        fields.append(("bloctel", pair, lambda listed: np.asarray(listed, dtype=float)))
    if "max_contacts_per_month" in frame:
        fields.append(("max_contacts_per_month", person, lambda most: -np.asarray(most, dtype=float)))
    if "preferred_channel" in frame:
        fields.append(("preferred_channel", person, None))
    pairs = np.sort(pd.unique(pair))
    resolved_channels = pd.DataFrame(
        {"customer_id": people[pairs // len(channels)], "channel": np.asarray(channels)[pairs % len(channels)]}
    )
    preferences = pd.DataFrame(
        index=pd.Index(people, name="customer_id"),
        columns=["preferred_channel", "max_contacts_per_month"],
        dtype=object,
    )
    counts = []
    for name, key, strictness in fields:
        values, by_date, by_restriction = _settle(frame[name], key, day, strictness)
        if key is pair:
            resolved_channels[name] = values.reindex(pairs).to_numpy()
        else:
            preferences[name] = values.reindex(np.arange(len(people))).to_numpy()
        counts.append(
            {
                "field": name,
                "unit": "customer-channel pairs" if key is pair else "customers",
                "by_date": by_date,
                "by_restriction": by_restriction,
            }
        )
    return ResolvedConsents(resolved_channels, preferences, pd.DataFrame(counts))


def _status_strictness(statuses) -> np.ndarray:
    unknown = sorted(set(statuses) - set(STATUS_STRICTNESS))
    if unknown:
        raise ValueError(f"consent status must be one of {list(STATUS_STRICTNESS)}, got {unknown}")
    return np.array([STATUS_STRICTNESS[s] for s in statuses])


def _settle(column: pd.Series, key: np.ndarray, day: np.ndarray, strictness) -> tuple[pd.Series, int, int]:
    """The value of ``column`` per ``key`` (integer codes) from the rows stating one: among the rows
    that may be the latest (the latest ``day``, and every undated row), the strictest by
    ``strictness`` (distinct values -> distinct numbers, higher is stricter); ``strictness`` None:
    values that disagree become CONFLICTING_CHOICES. Returns the values indexed by key, and how
    many keys disagreed, settled by date and by restriction."""
    code, uniques = pd.factorize(column)
    stated = code >= 0
    key, day, code = key[stated], day[stated], code[stated]
    dated = ~np.isnat(day)
    stamp = np.where(dated, day.astype("int64"), np.iinfo(np.int64).min)
    latest = pd.Series(stamp).groupby(key).transform("max").to_numpy()
    candidate = ~dated | (stamp == latest)
    every = pd.Series(code).groupby(key).agg(["min", "max"])
    rank = strictness(uniques) if strictness is not None else np.zeros(len(uniques))
    kept = (
        pd.DataFrame({"code": code[candidate], "rank": rank[code[candidate]]})
        .groupby(key[candidate])
        .agg(low=("code", "min"), high=("code", "max"), strictest=("rank", "max"))
    )
    torn = kept.low != kept.high
    by_restriction = int(torn.sum())
    by_date = int((every["min"] != every["max"]).sum()) - by_restriction
    if strictness is None:
        chosen = pd.Series(np.asarray(uniques, dtype=object)[kept.low.to_numpy()], index=kept.index, dtype=object)
        chosen[torn.to_numpy()] = CONFLICTING_CHOICES
    else:
        by_rank = dict(zip(rank, np.asarray(uniques, dtype=object), strict=True))
        chosen = kept.strictest.map(by_rank).astype(object)
    return chosen, by_date, by_restriction


def own_monthly_maximum(consents: pd.DataFrame) -> pd.Series:
    """customer_id -> the most contacts a customer allows a month (their preference centre), for
    the customers who stated one, after ``resolve_consents``."""
    most = resolve_consents(consents).preferences.max_contacts_per_month.dropna()
    return most.astype(int).rename("own_monthly_maximum")


def needs_settling(con: ibis.BaseBackend, columns: list[str], key_repeats: bool) -> bool:
    """Must ``kept_consents`` be settled: a customer and channel on several rows (``key_repeats``),
    or a preference centre (preferred channel, own monthly maximum) that differs between a
    customer's rows?"""
    fields = [c for c in ("preferred_channel", "max_contacts_per_month") if c in columns]
    if key_repeats or not fields:
        return key_repeats
    differs = " OR ".join(
        f"count(DISTINCT {ident(c)}) > 1 OR (count({ident(c)}) > 0 AND count({ident(c)}) < count(*))" for c in fields
    )
    query = f"SELECT count(*) FROM (SELECT customer_id FROM kept_consents GROUP BY customer_id HAVING {differs})"
    return fetch(con, query)[0][0] > 0


def settle_history(con: ibis.BaseBackend, columns: list[str], report: TableReport) -> str:
    """``kept_consents`` as one row per customer and channel, settled by ``resolve_consents`` (the
    latest row wins; the most restrictive when dates cannot order them), the customer's preference
    centre on each of their rows, written as ``consents_resolved`` (returned). The superseded rows
    are counted in the report with the reason, the conflicts in words."""
    kept = con.raw_sql("SELECT * FROM kept_consents ORDER BY __line").df()
    resolved = resolve_consents(kept[columns])
    first = kept.drop_duplicates(["customer_id", "channel"])[["__line", "customer_id", "channel"]]
    rows = first.merge(resolved.channels, on=["customer_id", "channel"], how="left")
    for name in ("preferred_channel", "max_contacts_per_month"):
        if name in columns:
            rows[name] = rows.customer_id.map(resolved.preferences[name])
    if "updated_at" in columns:
        rows["updated_at"] = rows.set_index(["customer_id", "channel"]).index.map(
            kept.groupby(["customer_id", "channel"]).updated_at.max()
        )
    types = column_types(con, "kept_consents")
    con.create_table("consents_resolved_raw", rows.astype(object).where(rows.notna(), None), overwrite=True)
    fetch(
        con,
        "CREATE OR REPLACE TABLE consents_resolved AS SELECT __line, "
        + ", ".join(f"CAST({ident(c)} AS {types[c]}) AS {ident(c)}" for c in columns)
        + " FROM consents_resolved_raw",
    )
    fetch(con, "DROP TABLE consents_resolved_raw")
    superseded = len(kept) - len(rows)
    if superseded:
        report.excluded["superseded by a later (or, undated, stricter) row for the same customer and channel"] = (
            superseded
        )
    report.rows_kept = len(rows)
    report.assumptions += [f"consent conflicts resolved: {sentence}" for sentence in resolved.sentences()]
    return "consents_resolved"
