"""Past campaigns with randomised control groups, played against the hidden truth.

One campaign a month over the last ``campaigns.months`` months of the history, each on one channel
with one offer. Among eligible customers (signed up, alive or not, legally reachable) a share is
drawn; a random ``control_share`` of those is held out and never contacted. A treated customer's
chance of buying in the response window moves by the true effect tau; every purchase of a drawn
customer (either group) in the window is tagged with the campaign, so responses are transactions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from helpers.world.consents import OPT_OUT, ConsentState, contact_allowed
from helpers.world.response import ResponseProfile, baseline_chance, incremental_effect


@dataclass
class CampaignHistory:
    """What the campaigns did to the baseline purchases, and the contact log."""

    removed: np.ndarray  # per baseline order: deleted by a sleeping-dog effect
    discount: np.ndarray  # per baseline order: discount rate paid
    campaign_of_order: np.ndarray  # per baseline order: campaign index, -1 if none
    campaigns: list[dict] = field(default_factory=list)
    contacts: dict[str, list[np.ndarray]] = field(default_factory=dict)
    added: dict[str, list[np.ndarray]] = field(default_factory=dict)  # incremental orders


def campaign_start_days(start: dt.date, end: dt.date, months: int) -> list[dt.date]:
    """The 5th of each of the last ``months`` months whose response window ends before ``end``."""
    days: list[dt.date] = []
    year, month = end.year, end.month
    while len(days) < months:
        d = dt.date(year, month, 5)
        if d + dt.timedelta(days=31) <= end and d >= start:
            days.append(d)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        if dt.date(year, month, 28) < start:
            break
    return sorted(days)


def run_campaigns(
    rng: np.random.Generator,
    spec: dict,
    start: dt.date,
    end: dt.date,
    customer_day: tuple,
    lam: np.ndarray,
    alive_until: np.ndarray,
    signup_day: np.ndarray,
    clock: np.ndarray,
    profile: ResponseProfile,
    consents: ConsentState,
    has_phone: np.ndarray,
    has_app: np.ndarray,
) -> CampaignHistory:
    """Play the campaign calendar over the baseline orders ``customer_day`` = (customer, day) arrays.

    ``alive_until``: last day each customer is alive (n_days for those alive at the end). Consents
    are updated in place with the opt-outs the campaigns cause.
    """
    customer, day = customer_day
    n, n_days = len(lam), len(clock)
    orders = _Orders(customer, day, n_days)
    cfg, window = spec["campaigns"], spec["response"]["window_days"]
    hist = _empty_history(len(day))
    contact_days: list[tuple[int, np.ndarray]] = []  # (day, treated customer rows) of earlier campaigns
    for k, when in enumerate(campaign_start_days(start, end, cfg["months"])):
        step = cfg["plan"][k % len(cfg["plan"])]
        channel, offer = step["channel"], step["offer"]
        d0 = (when - start).days
        d1 = d0 + window
        eligible = (signup_day < d0) & contact_allowed(spec, consents, channel, has_phone, has_app)
        rows = np.flatnonzero(eligible & (rng.random(n) < cfg["target_share"]))
        control = rng.random(len(rows)) < cfg["control_share"]
        treated_rows = rows[~control]
        recent = _contacts_in_last_30_days(contact_days, d0, n)
        in_window = orders.in_window(d0, d1)
        owner = customer[in_window]
        bought = np.zeros(n, bool)
        bought[owner] = True
        last_day = orders.last_day_before(treated_rows, d0)
        p0 = baseline_chance(lam[treated_rows], clock[d1 - 1] - clock[d0 - 1])
        tau = incremental_effect(
            spec, profile, treated_rows, channel, offer, p0, (d0 - last_day) / 7, recent[treated_rows]
        ) * (alive_until[treated_rows] >= d0)
        gain, loss = _gained_and_lost(rng, bought[treated_rows], tau, p0)
        discount = spec["offers"][offer]["discount"]
        _record_orders(rng, hist, k, discount, window, d0, (rows, treated_rows), in_window, owner, gain, loss, n)
        unsub = _opt_outs(rng, spec, profile, consents, channel, treated_rows, recent, d0)
        _log_contacts(hist, k, rows, control, unsub)
        contact_days.append((d0, treated_rows))
        hist.campaigns.append(
            {"index": k, "channel": channel, "offer": offer, "start_day": d0, "start_date": when, "window_days": window}
        )
    return hist


class _Orders:
    """The baseline orders (customer and day arrays, sorted by customer then day), looked up by
    day for a campaign's window and by customer for each one's last order."""

    def __init__(self, customer: np.ndarray, day: np.ndarray, n_days: int):
        self.customer, self.day, self.n_days = customer, day, n_days
        self.key = customer * n_days + day
        self.by_day = np.argsort(day.astype(np.int16), kind="stable")  # 16-bit keys: numpy's radix sort
        self.sorted_day = day[self.by_day]

    def in_window(self, d0: int, d1: int) -> np.ndarray:
        """Rows of the orders placed on days ``d0`` to ``d1 - 1``, in day order."""
        return self.by_day[np.searchsorted(self.sorted_day, d0) : np.searchsorted(self.sorted_day, d1)]

    def last_day_before(self, rows: np.ndarray, d0: int) -> np.ndarray:
        """Per customer of ``rows``: the day of their last order before day ``d0`` (0 if none)."""
        last = np.searchsorted(self.key, rows * self.n_days + d0) - 1
        found = (last >= 0) & (self.customer[np.maximum(last, 0)] == rows)
        return np.where(found, self.day[np.maximum(last, 0)], 0)


def _empty_history(n_orders: int) -> CampaignHistory:
    """A history in which no campaign has yet touched the ``n_orders`` baseline orders."""
    hist = CampaignHistory(
        removed=np.zeros(n_orders, bool),
        discount=np.zeros(n_orders),
        campaign_of_order=np.full(n_orders, -1, dtype=np.int32),
    )
    hist.contacts = {k: [] for k in ("campaign", "customer", "treated", "unsubscribed")}
    hist.added = {k: [] for k in ("customer", "day", "campaign", "discount")}
    return hist


def _log_contacts(hist: CampaignHistory, k: int, rows: np.ndarray, control: np.ndarray, unsub: np.ndarray) -> None:
    """Append campaign ``k``'s drawn customers (``rows``) to the contact log: treated or held out
    (``control``), and whether they unsubscribed (``unsub``, per treated customer)."""
    unsub_all = np.zeros(len(rows), bool)
    unsub_all[~control] = unsub
    for name, values in (
        ("campaign", np.full(len(rows), k)),
        ("customer", rows),
        ("treated", ~control),
        ("unsubscribed", unsub_all),
    ):
        hist.contacts[name].append(values)


def _contacts_in_last_30_days(contact_days: list[tuple[int, np.ndarray]], d0: int, n: int) -> np.ndarray:
    """Per customer, the earlier campaigns that treated them within 30 days before day ``d0``."""
    recent = np.zeros(n, dtype=np.int64)
    for day_k, rows_k in contact_days:
        if d0 - day_k <= 30:
            recent[rows_k] += 1
    return recent


def _gained_and_lost(
    rng: np.random.Generator, bought: np.ndarray, tau: np.ndarray, p0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per treated customer, whether the campaign added a purchase (had none, positive effect) or
    removed one (bought, negative effect: a sleeping dog), each with the chance that keeps the
    purchase probability at ``p0 + tau``."""
    u = rng.random(len(tau))
    gain = (~bought) & (tau > 0) & (u < tau / np.maximum(1 - p0, 1e-12))
    loss = bought & (tau < 0) & (u < -tau / np.maximum(p0, 1e-12))
    return gain, loss


def _record_orders(
    rng: np.random.Generator,
    hist: CampaignHistory,
    k: int,
    discount: float,
    window: int,
    d0: int,
    targeted: tuple[np.ndarray, np.ndarray],
    in_window: np.ndarray,
    owner: np.ndarray,
    gain: np.ndarray,
    loss: np.ndarray,
    n: int,
) -> None:
    """Mark campaign ``k``'s effect on the baseline orders in its window (removed, discounted,
    attributed) and add the orders it created on random days of the window."""
    rows, treated_rows = targeted
    role = np.zeros(n, dtype=np.int8)  # 1 control, 2 treated, 3 treated and purchase lost
    role[rows] = 1
    role[treated_rows] = 2
    role[treated_rows[loss]] = 3
    order_role = role[owner]
    hist.removed[in_window[order_role == 3]] = True
    hist.discount[in_window[order_role == 2]] = discount
    hist.campaign_of_order[in_window[order_role > 0]] = k
    n_gain = int(gain.sum())
    hist.added["customer"].append(treated_rows[gain])
    hist.added["day"].append(d0 + rng.integers(window, size=n_gain))
    hist.added["campaign"].append(np.full(n_gain, k))
    hist.added["discount"].append(np.full(n_gain, discount))


def _opt_outs(
    rng: np.random.Generator,
    spec: dict,
    profile: ResponseProfile,
    consents: ConsentState,
    channel: str,
    treated_rows: np.ndarray,
    recent: np.ndarray,
    d0: int,
) -> np.ndarray:
    """Who unsubscribes from ``channel`` after this contact: a hazard that grows with the contacts
    past the customer's tolerance. Updates ``consents`` in place; returns the flags per treated row."""
    over = np.maximum(0, recent[treated_rows] + 1 - profile.tolerance[treated_rows])
    hazard = spec["channels"][channel]["unsubscribe"] * (1 + spec["response"]["optout_slope"] * over)
    unsub = rng.random(len(treated_rows)) < hazard
    j = consents.channels.index(channel)
    consents.status[treated_rows[unsub], j] = OPT_OUT
    consents.updated_day[treated_rows[unsub], j] = d0
    return unsub
