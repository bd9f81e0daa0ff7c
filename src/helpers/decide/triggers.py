"""Triggered scenarios: messages that follow an event in a customer's life, written as data.

A rule file (``synthetic_data/scenarios/triggers_*.yml``)::

    cap: {contacts: 4, days: 30}          # per customer, shared with campaigns
    rules:
      - name: win_back_90
        event: days_since_purchase        # see EVENTS for each event and its fields
        days: 90
        delay_days: 0                     # days from the event to the message
        channel: postal
        offer: discount_10
        holdout: 0.2                      # share of triggered customers held back, at random
        cooldown_days: 180                # at most one message of this rule per customer in that time

The engine (``schedule``) finds each rule's events in a log of order days, delays them, checks
consent on the rule's channel, draws the holdout and applies the shared cap and each customer's own
monthly maximum, earlier rules first.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pandas.api.indexers import BaseIndexer

from helpers.data.contract import CHANNELS
from helpers.errors import DecisionInputError
from helpers.models.likelihood import Fit
from helpers.models.purchase_models import model_of

# event -> (required fields, optional fields with defaults)
EVENTS: dict[str, tuple[dict[str, type], dict[str, object]]] = {
    "first_purchase": ({}, {}),
    "purchase": ({}, {"category": None}),
    "days_since_purchase": ({"days": int}, {}),
    "gap_above_usual": ({"multiple": float}, {"min_days": 30}),
    "p_alive_below": ({"threshold": float}, {}),
}
COMMON = {"name": str, "event": str, "channel": str, "offer": str}
DEFAULTS = {"delay_days": 0, "holdout": 0.1, "cooldown_days": 90}
STATUSES = ("sent", "holdout", "capped", "no_consent", "cooldown")


class TriggerRuleError(DecisionInputError):
    """A rule file that cannot run; the message names the file, the rule and the field."""


@dataclass(frozen=True)
class Rule:
    name: str
    event: str
    channel: str
    offer: str
    delay_days: int
    holdout: float
    cooldown_days: int
    params: dict


@dataclass(frozen=True)
class TriggerSet:
    rules: tuple[Rule, ...]
    cap_contacts: int
    cap_days: int

    def only(self, names: Iterable[str]) -> TriggerSet:
        """The same set with only the rules ``names`` (in file order)."""
        return TriggerSet(tuple(r for r in self.rules if r.name in set(names)), self.cap_contacts, self.cap_days)


def load_rules(path: str | Path, offers: Collection[str], categories: Collection[str] = ()) -> TriggerSet:
    """Read and check a rule file. ``offers``: the offers a rule may name; ``categories``: the
    categories a purchase rule may name (empty: not checked). Raises TriggerRuleError."""
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TriggerRuleError(f"{path.name}: cannot be read as YAML ({exc}).") from exc
    if not isinstance(spec, dict) or not isinstance(spec.get("rules"), list) or not spec["rules"]:
        raise TriggerRuleError(f"{path.name}: needs a non-empty list 'rules' (and optionally 'cap').")
    cap = spec.get("cap", {"contacts": 4, "days": 30})
    if not isinstance(cap, dict) or not all(isinstance(cap.get(k), int) and cap[k] > 0 for k in ("contacts", "days")):
        raise TriggerRuleError(
            f"{path.name}: field 'cap' must be {{contacts: N, days: D}} with whole numbers > 0, got {cap!r}."
        )
    rules, names = [], set()
    for number, raw in enumerate(spec["rules"], 1):
        rule = _rule(path.name, number, raw, set(offers), set(categories))
        if rule.name in names:
            raise TriggerRuleError(f"{path.name}: rule '{rule.name}' (#{number}), field 'name': used twice.")
        names.add(rule.name)
        rules.append(rule)
    return TriggerSet(tuple(rules), cap["contacts"], cap["days"])


def _rule(fname: str, number: int, raw, offers: set, categories: set) -> Rule:
    name = raw.get("name", f"#{number}") if isinstance(raw, dict) else f"#{number}"

    def fault(field: str, problem: str) -> TriggerRuleError:
        return TriggerRuleError(f"{fname}: rule '{name}' (#{number}), field '{field}': {problem}")

    if not isinstance(raw, dict):
        raise fault("rule", f"must be a mapping of fields, got {raw!r}.")
    for field in COMMON:
        if not isinstance(raw.get(field), str) or not raw[field]:
            raise fault(field, "missing (every rule needs name, event, channel and offer).")
    if raw["event"] not in EVENTS:
        raise fault("event", f"unknown event {raw['event']!r}; known: {', '.join(EVENTS)}.")
    if raw["channel"] not in CHANNELS:
        raise fault("channel", f"unknown channel {raw['channel']!r}; known: {', '.join(CHANNELS)}.")
    if raw["offer"] not in offers:
        raise fault("offer", f"unknown offer {raw['offer']!r}; known: {', '.join(sorted(offers))}.")
    required, optional = EVENTS[raw["event"]]
    allowed = set(COMMON) | set(DEFAULTS) | set(required) | set(optional)
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise fault(unknown[0], f"not a field of a '{raw['event']}' rule; its fields: {', '.join(sorted(allowed))}.")
    for field in required:
        if field not in raw:
            raise fault(field, f"missing: a '{raw['event']}' rule needs {', '.join(required)}.")
    values = {**DEFAULTS, **optional, **{k: v for k, v in raw.items() if k not in COMMON}}
    for field in ("delay_days", "cooldown_days", "min_days", "days"):
        if field in values and (
            not isinstance(values[field], int) or isinstance(values[field], bool) or values[field] < 0
        ):
            raise fault(field, f"must be a whole number of days >= 0, got {values[field]!r}.")
    if values.get("days") == 0:
        raise fault("days", "must be at least 1.")
    if not (isinstance(values["holdout"], (int, float)) and 0 <= values["holdout"] < 1):
        raise fault("holdout", f"must be a share in [0, 1), got {values['holdout']!r}.")
    if "threshold" in values and not (isinstance(values["threshold"], (int, float)) and 0 < values["threshold"] < 1):
        raise fault("threshold", f"must be a probability in (0, 1), got {values['threshold']!r}.")
    if "multiple" in values and not (isinstance(values["multiple"], (int, float)) and values["multiple"] > 0):
        raise fault("multiple", f"must be a number > 0, got {values['multiple']!r}.")
    if values.get("category") is not None and categories and values["category"] not in categories:
        raise fault("category", f"unknown category {values['category']!r}; known: {', '.join(sorted(categories))}.")
    params = {k: values[k] for k in (*required, *optional)}
    return Rule(
        raw["name"],
        raw["event"],
        raw["channel"],
        raw["offer"],
        values["delay_days"],
        float(values["holdout"]),
        values["cooldown_days"],
        params,
    )


# ---------------------------------------------------------------- events


def order_days(orders: pd.DataFrame) -> pd.DataFrame:
    """Distinct order days per customer (customer_id, day as datetime64[D]), sorted, with the
    customer's repeat number x (0 for the first day), next order day, and first order day."""
    days = (
        orders[["customer_id"]]
        .assign(day=pd.to_datetime(orders["day"]).dt.normalize())
        .drop_duplicates()
        .sort_values(["customer_id", "day"], ignore_index=True)
    )
    group = days.groupby("customer_id").day
    return days.assign(x=group.cumcount(), next_day=group.shift(-1), first_day=group.transform("min"))


def _usual_gap(days: pd.DataFrame) -> pd.Series:
    """Median gap (days) between a customer's distinct order days up to each day (NaN before the second);
    ``days`` sorted by customer, as ``order_days`` gives them."""
    gap = days.groupby("customer_id").day.diff().dt.days
    return gap.rolling(_SinceFirstDay(first=_first_rows(days.customer_id)), min_periods=1).median()


def _first_rows(customer_id: pd.Series) -> np.ndarray:
    """Per row of rows sorted by customer, the position of its customer's first row."""
    positions = np.arange(len(customer_id))
    return np.maximum.accumulate(np.where(customer_id.ne(customer_id.shift()).to_numpy(), positions, 0))


class _SinceFirstDay(BaseIndexer):
    """Each row's window: from its customer's first row (``first``) to itself. The bounds pandas'
    groupby().expanding() builds group by group in Python (12 s at 1M customers), in one array."""

    def get_window_bounds(self, num_values=0, min_periods=None, center=None, closed=None, step=None):
        return self.first.astype(np.int64), np.arange(1, num_values + 1, dtype=np.int64)


def event_days(
    rule: Rule,
    orders: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    purchases: Fit | None = None,
    days: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The days (customer_id, event_day) in [start, end] on which ``rule``'s event happens, from
    ``orders`` (customer_id, day[, category]): the whole history, so that gaps reaching into the
    period count. ``purchases``: the fitted purchase model (BG/NBD, Pareto/NBD, MBG/NBD) whose
    P(alive) p_alive_below follows; ``days``: ``order_days(orders)``
    when the caller already has it (rules on every order share it)."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if rule.event == "purchase" and rule.params.get("category") is not None:
        orders = orders[orders.get("category", pd.Series(index=orders.index, dtype=object)) == rule.params["category"]]
        days = None
    days = order_days(orders) if days is None else days
    if rule.event == "first_purchase":
        events = days[days.x == 0].day
    elif rule.event == "purchase":
        events = days.day
    else:
        wait = {
            "days_since_purchase": lambda: pd.Series(float(rule.params["days"]), index=days.index),
            "gap_above_usual": lambda: np.maximum(rule.params["min_days"], rule.params["multiple"] * _usual_gap(days)),
            "p_alive_below": lambda: _days_until_p_alive(days, rule.params["threshold"], purchases, start, end),
        }[rule.event]()
        events = days.day + pd.to_timedelta(np.ceil(wait), unit="D")
        events = events.where(days.next_day.isna() | (events < days.next_day))
    found = pd.DataFrame({"customer_id": days.customer_id, "event_day": events}).dropna()
    return found[(found.event_day >= start) & (found.event_day <= end)].reset_index(drop=True)


def _days_until_p_alive(
    days: pd.DataFrame, threshold: float, purchases: Fit | None, start: pd.Timestamp, end: pd.Timestamp
) -> pd.Series:
    """Whole days after each order day until the purchase model's P(alive) is at or below
    ``threshold`` (0 if it already is), found by bisection on the day; NaN when that day would come
    after ``end`` or after the customer's next order day before ``start`` (no event to find), and
    for one-time buyers under BG/NBD, which holds them alive."""
    if purchases is None:
        raise ValueError("p_alive_below rules need a fitted purchase model (helpers.models.purchase_models).")
    model, params = model_of(purchases), purchases.values
    wait = np.full(len(days), np.nan)
    open_ = (days.next_day.isna() | (days.next_day > start)).to_numpy()
    x = days.x.to_numpy(float)[open_]
    t_x = (days.day - days.first_day).dt.days.to_numpy(float)[open_] / 7
    most = np.maximum((end - days.day[open_]).dt.days.to_numpy(), -1)
    low, high = np.zeros(len(x), int), most + 1  # the first day at or below the threshold lies in [low, high]
    while (searching := low < high).any():
        middle = (low + high) // 2
        below = model.p_alive(params, x, t_x, t_x + middle / 7) <= threshold
        high = np.where(searching & below, middle, high)
        low = np.where(searching & ~below, middle + 1, low)
    wait[open_] = np.where(low <= most, low, np.nan)
    return pd.Series(wait, index=days.index)


# ---------------------------------------------------------------- scheduling


def uniform_draws(seed: int, salt: int, ids: np.ndarray) -> np.ndarray:
    """A uniform number in [0, 1) per id, fixed by (seed, salt, id): the same customer keeps their
    holdout draw whatever else is in the log (splitmix64 on the three)."""
    z = (
        np.asarray(ids, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        ^ np.uint64(seed * 0x632BE59BD9B4E019 % 2**64)
        ^ np.uint64(salt * 0x85EBCA77C2B2AE63 % 2**64)
    )
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(2**53)


def schedule(
    rules: TriggerSet,
    orders: pd.DataFrame,
    eligible: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    seed: int,
    campaign_days: Mapping[int, list[int]] | None = None,
    purchases: Fit | None = None,
    own_maximum: pd.Series | None = None,
    days: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every trigger between ``start`` and ``end`` with what became of it.

    ``orders``: customer_id, day[, category]; ``eligible``: customers (index) x channels, may the
    channel reach them; ``campaign_days``: the days of planned campaign messages per customer
    (``contact_days``), which count toward the shared cap; ``days``: ``order_days(orders)``, if the
    caller has it; ``own_maximum``: customer_id -> the most messages the customer
    allows in 30 days (``consents.own_monthly_maximum``), held on top of the cap. Returns
    customer_id, rule, event_day, send_day, channel, offer and status: sent, holdout (drawn at
    random, not sent), capped (the cap was full), no_consent, or cooldown (the rule already wrote to
    the customer within cooldown_days). Earlier rules in the file go first on the same day."""
    frames = []
    for order, rule in enumerate(rules.rules):
        found = event_days(rule, orders, start - dt.timedelta(days=rule.delay_days), end, purchases, days)
        found = found.assign(send_day=found.event_day + pd.Timedelta(days=rule.delay_days))
        found = found[(found.send_day >= pd.Timestamp(start)) & (found.send_day <= pd.Timestamp(end))]
        frames.append(found.assign(rule=rule.name, order=order, channel=rule.channel, offer=rule.offer))
    columns = ["customer_id", "rule", "event_day", "send_day", "channel", "offer", "status"]
    fires = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*columns, "order"])
    if fires.empty:
        return pd.DataFrame(columns=columns)
    fires = fires.sort_values(["send_day", "order", "customer_id"], ignore_index=True)
    fires["status"] = _cooldown(fires, rules)
    allowed = eligible.reindex(index=pd.Index(fires.customer_id.unique())).fillna(False).astype(bool)
    col = allowed.columns.get_indexer(fires.channel)
    ok = np.where(col >= 0, allowed.to_numpy()[allowed.index.get_indexer(fires.customer_id), np.maximum(col, 0)], False)
    fires.loc[(fires.status == "") & ~ok, "status"] = "no_consent"
    for order, rule in enumerate(rules.rules):
        mine = (fires.order == order) & (fires.status == "")
        held = uniform_draws(seed, order + 1, fires.customer_id[mine].to_numpy()) < rule.holdout
        fires.loc[fires.index[mine][held], "status"] = "holdout"
    fires["status"] = _apply_cap(fires, rules, campaign_days or {}, own_maximum)
    return fires[columns]


def _cooldown(fires: pd.DataFrame, rules: TriggerSet) -> np.ndarray:
    status = np.full(len(fires), "", dtype=object)
    last: dict[tuple, pd.Timestamp] = {}
    cooldown = [pd.Timedelta(days=r.cooldown_days) for r in rules.rules]
    for i, (customer, order, day) in enumerate(zip(fires.customer_id, fires.order, fires.send_day, strict=True)):
        key = (customer, order)
        if key in last and day < last[key] + cooldown[order]:
            status[i] = "cooldown"
        else:
            last[key] = day
    return status


OWN_MAXIMUM_DAYS = 30  # a customer's own "maximum contacts a month" is held over any 30 days


def _fullest(days: list[int], day: int, window: int) -> int:
    """The most of the sorted ``days`` in any ``window``-day span that contains ``day``."""
    starts = [day - window + 1] + [
        y - window + 1 for y in days[bisect.bisect_right(days, day) : bisect.bisect_right(days, day + window - 1)]
    ]
    return max(bisect.bisect_right(days, s + window - 1) - bisect.bisect_left(days, s) for s in starts)


def fits_caps(days: list[int], day: int, cap_contacts: float, cap_days: int, own_maximum: float = np.inf) -> bool:
    """May one more message go on ``day`` to a customer already written to on ``days`` (sorted
    day numbers)? No span of ``cap_days`` days may hold more than ``cap_contacts`` messages, nor
    any 30 days more than the customer's own maximum."""
    return _fullest(days, day, cap_days) + 1 <= cap_contacts and (
        not np.isfinite(own_maximum) or _fullest(days, day, OWN_MAXIMUM_DAYS) + 1 <= own_maximum
    )


def contact_days(contacts: pd.DataFrame) -> dict[int, list[int]]:
    """customer_id -> the sorted day numbers (days since 1970-01-01) of their messages in
    ``contacts`` (customer_id, day): what ``schedule`` counts toward the shared cap."""
    if contacts.empty:
        return {}
    day = pd.to_datetime(contacts["day"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    ordered = pd.DataFrame({"customer_id": contacts.customer_id.to_numpy(), "day": day}).sort_values(
        ["customer_id", "day"], kind="stable"
    )
    ids, day = ordered.customer_id.to_numpy(), ordered.day.to_numpy()
    cuts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    return dict(zip(ids[np.r_[0, cuts]].tolist(), (part.tolist() for part in np.split(day, cuts)), strict=True))


def _apply_cap(
    fires: pd.DataFrame, rules: TriggerSet, campaign_days: Mapping[int, list[int]], own_maximum: pd.Series | None
) -> np.ndarray:
    """Send while no window of ``cap_days`` days holds more than ``cap_contacts`` messages, nor any
    30 days more than the customer's own maximum (campaigns included); otherwise the trigger is
    capped. ``campaign_days`` is read, never changed (one copy per customer written to)."""
    contacts: dict = {}
    own = own_maximum.to_dict() if own_maximum is not None else {}
    status = fires.status.to_numpy(dtype=object).copy()
    send = fires.send_day.values.astype("datetime64[D]").astype(int)
    ids = fires.customer_id.to_numpy()
    for i in np.flatnonzero(status == ""):
        customer = ids[i]
        mine = contacts.get(customer)
        if mine is None:
            mine = contacts[customer] = list(campaign_days.get(customer, ()))
        d = int(send[i])
        if fits_caps(mine, d, rules.cap_contacts, rules.cap_days, own.get(customer, np.inf)):
            status[i] = "sent"
            bisect.insort(mine, d)
        else:
            status[i] = "capped"
    return status


def volumes(fires: pd.DataFrame, months: float) -> pd.DataFrame:
    """Per rule: triggers by status, customers reached and messages sent per month."""
    table = fires.pivot_table(index="rule", columns="status", values="customer_id", aggfunc="count", fill_value=0)
    table = table.reindex(columns=list(STATUSES), fill_value=0)
    sent = fires[fires.status == "sent"]
    table["customers_reached"] = sent.groupby("rule").customer_id.nunique().reindex(table.index, fill_value=0)
    table["sent_per_month"] = (table["sent"] / months).round(1)
    return table
