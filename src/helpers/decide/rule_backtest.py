"""Trigger rules replayed over the last months of one's own history: how many messages each rule
would have sent, and the messages due on the analysis date, ready to hand to the router."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import pandas as pd

from helpers.data.consents import own_monthly_maximum
from helpers.data.dataset import Dataset
from helpers.decide.audience import buyers, eligible_on
from helpers.decide.contact_plan import sent_contacts
from helpers.decide.triggers import TriggerSet, contact_days, schedule, volumes
from helpers.errors import ModelInputError
from helpers.features import calibration_holdout, customer_summary, execute, order_days
from helpers.models import holdout, model_choice
from helpers.models.likelihood import Fit
from helpers.models.purchase_models import model_of

DUE_COLUMNS = ["customer_id", "rule", "channel", "offer"]


@dataclass
class Backtest:
    rules: TriggerSet  # the rules that can run (p_alive_below ones left out without a purchase model)
    note: str  # why rules were left out ("" if none were)
    history: pd.DataFrame  # order days (customer_id, day, category) up to the analysis date
    purchases: Fit | None  # the purchase model p_alive_below follows (clv_model); None if it could not be fitted
    own_maximum: pd.Series | None  # customer_id -> contacts a month the customer allows (preference centre)
    fires: pd.DataFrame  # every trigger of the window with its status
    due: pd.DataFrame  # messages sent on the analysis date: DUE_COLUMNS
    volumes: pd.DataFrame  # per rule over the window (triggers.volumes), with due_on_the_analysis_date


def purchase_model(tx: ibis.Table, as_of: dt.date, clv_model: str = model_choice.AUTO) -> Fit:
    """The purchase model ``clv_model`` names, or the one notebook 21 chooses for ``auto`` (on its
    calibration holdout; BG/NBD when the history allows no holdout), fitted on the history to
    ``as_of``. Raises ModelInputError when it cannot be fitted."""
    chosen = "bgnbd" if clv_model == model_choice.AUTO else clv_model
    if clv_model == model_choice.AUTO:
        try:
            end = holdout.calibration_period(tx, as_of).end
            calibration = execute(calibration_holdout(tx, end, as_of), "customer_id")
            chosen = model_choice.compare_models(calibration, (as_of - end).days / 7).chosen
        except ModelInputError:
            pass  # no holdout to choose on: BG/NBD, as notebook 21 does
    return model_of(chosen).fit(execute(customer_summary(tx, as_of)))


def backtest(
    data: Dataset, rules: TriggerSet, as_of: dt.date, seed: int, months: int = 6, clv_model: str = model_choice.AUTO
) -> Backtest:
    """Schedule ``rules`` over the ``months`` months up to ``as_of`` on the data's order days, for the
    buyers the law and their consents let each rule's channel reach on ``as_of``, beside the campaign
    messages already sent (the shared cap) and each customer's own monthly maximum. p_alive_below rules
    follow the purchase model ``clv_model`` (``purchase_model``); when it cannot be fitted they are
    left out and ``note`` says why."""
    if clv_model not in model_choice.CHOICES:
        raise ModelInputError(f"clv_model {clv_model!r} is not one of {', '.join(model_choice.CHOICES)}.")
    tx = data.table("transactions")
    consents = data.frame("consents") if data.has("consents") else None
    eligible = eligible_on(data, buyers(data), as_of)
    own_maximum = own_monthly_maximum(consents) if consents is not None else None
    history = order_days(tx, as_of)
    try:
        purchases, reason = purchase_model(tx, as_of, clv_model), ""
    except ModelInputError as exc:
        purchases, reason = None, f"no purchase model fitted: {exc}"
    note = ""
    if purchases is None and any(r.event == "p_alive_below" for r in rules.rules):
        note = f"p_alive_below rules are left out: {reason}"
        rules = rules.only([r.name for r in rules.rules if r.event != "p_alive_below"])
    sent_before = (
        sent_contacts(data.frame("contacts"), data.frame("campaigns"))
        if data.has("contacts") and data.has("campaigns")
        else pd.DataFrame(columns=["customer_id", "day"])
    )
    since = (pd.Timestamp(as_of) - pd.DateOffset(months=months)).date()
    fires = schedule(rules, history, eligible, since, as_of, seed, contact_days(sent_before), purchases, own_maximum)
    due = fires[(fires.send_day == pd.Timestamp(as_of)) & (fires.status == "sent")][DUE_COLUMNS]
    by_rule = (
        volumes(fires, months=months)
        .assign(due_on_the_analysis_date=due.groupby("rule").size())
        .fillna({"due_on_the_analysis_date": 0})
        .astype({"due_on_the_analysis_date": int})
    )
    return Backtest(rules, note, history, purchases, own_maximum, fires, due, by_rule)
