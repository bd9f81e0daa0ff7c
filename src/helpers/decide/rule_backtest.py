"""Trigger rules replayed over the last months of one's own history: how many messages each rule
would have sent, and the messages due on the analysis date, ready to hand to the router."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.data.consents import own_monthly_maximum
from helpers.data.dataset import Dataset
from helpers.decide.audience import buyers, eligible_on
from helpers.decide.contact_plan import sent_contacts
from helpers.decide.triggers import TriggerSet, contact_days, schedule, volumes
from helpers.errors import ModelInputError
from helpers.features import customer_summary, execute, order_days
from helpers.models import bg_nbd

DUE_COLUMNS = ["customer_id", "rule", "channel", "offer"]
DUE_FILE = "triggered_on_the_analysis_date.csv"


@dataclass
class Backtest:
    rules: TriggerSet  # the rules that can run (p_alive_below ones left out without a BG/NBD fit)
    note: str  # why rules were left out ("" if none were)
    history: pd.DataFrame  # order days (customer_id, day, category) up to the analysis date
    bgnbd: tuple[float, ...] | None  # BG/NBD parameters (r, alpha, a, b); None if the model could not be fitted
    own_maximum: pd.Series | None  # customer_id -> contacts a month the customer allows (preference centre)
    fires: pd.DataFrame  # every trigger of the window with its status
    due: pd.DataFrame  # messages sent on the analysis date: DUE_COLUMNS
    volumes: pd.DataFrame  # per rule over the window (triggers.volumes), with due_on_the_analysis_date


def backtest(data: Dataset, rules: TriggerSet, as_of: dt.date, seed: int, months: int = 6) -> Backtest:
    """Schedule ``rules`` over the ``months`` months up to ``as_of`` on the data's order days, for the
    buyers the law and their consents let each rule's channel reach on ``as_of``, beside the campaign
    messages already sent (the shared cap) and each customer's own monthly maximum. p_alive_below rules
    need a BG/NBD fit on the history; when it fails they are left out and ``note`` says why."""
    tx = data.table("transactions")
    consents = data.frame("consents") if data.has("consents") else None
    eligible = eligible_on(data, buyers(data), as_of)
    own_maximum = own_monthly_maximum(consents) if consents is not None else None
    history = order_days(tx, as_of)
    try:
        bgnbd, reason = bg_nbd.fit(execute(customer_summary(tx, as_of))).values, ""
    except ModelInputError as exc:
        bgnbd, reason = None, f"BG/NBD not fitted: {exc}"
    note = ""
    if bgnbd is None and any(r.event == "p_alive_below" for r in rules.rules):
        note = f"p_alive_below rules are left out: {reason}"
        rules = rules.only([r.name for r in rules.rules if r.event != "p_alive_below"])
    sent_before = (
        sent_contacts(data.frame("contacts"), data.frame("campaigns"))
        if data.has("contacts") and data.has("campaigns")
        else pd.DataFrame(columns=["customer_id", "day"])
    )
    since = (pd.Timestamp(as_of) - pd.DateOffset(months=months)).date()
    fires = schedule(rules, history, eligible, since, as_of, seed, contact_days(sent_before), bgnbd, own_maximum)
    due = fires[(fires.send_day == pd.Timestamp(as_of)) & (fires.status == "sent")][DUE_COLUMNS]
    by_rule = (
        volumes(fires, months=months)
        .assign(due_on_the_analysis_date=due.groupby("rule").size())
        .fillna({"due_on_the_analysis_date": 0})
        .astype({"due_on_the_analysis_date": int})
    )
    return Backtest(rules, note, history, bgnbd, own_maximum, fires, due, by_rule)


def write_due(due: pd.DataFrame, folder: str | Path) -> Path:
    """Write the messages ``due`` (DUE_COLUMNS) to ``folder``/DUE_FILE, creating the folder; return the path."""
    path = Path(folder) / DUE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    due[DUE_COLUMNS].to_csv(path, index=False)
    return path
