"""The strategies a marketer compares the next best offer with, each as a contact plan to play
forward: its margin-model twin, send to all on the best average arm, send to none, random targeting
and the classic response model, as many contacts as the next best offer makes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.decide.next_best_offer import NO_CONTACT


def strategy_plans(
    choice: pd.DataFrame,
    margin_model_choice: pd.DataFrame,
    response: pd.DataFrame,
    eligible: pd.DataFrame,
    arm_table: pd.DataFrame,
    average_margin: pd.Series,
    seed: int | np.random.Generator,
    weeks: pd.Series | None = None,
) -> dict[str, pd.DataFrame]:
    """Contact plans (customer_id, channel, offer, week) for the strategies a marketer compares:
    the next best offer; the same chosen from the (noisier) margin uplift model; send to all
    eligible customers on the arm with the best average margin;
    send to none; as many contacts as the next best offer chosen at random; and as many chosen by
    the response model (highest chance of buying if contacted). Every plan respects ``eligible``."""
    rng = np.random.default_rng(seed)
    arm_of = arm_table.set_index("arm")
    chosen = choice[choice.next_best_offer != NO_CONTACT]
    by_margin_model = margin_model_choice[margin_model_choice.next_best_offer != NO_CONTACT]
    n = len(chosen)

    def plan(customers, arm_names) -> pd.DataFrame:
        out = pd.DataFrame({"customer_id": np.asarray(customers), "arm": np.asarray(arm_names)})
        out["channel"] = out.arm.map(arm_of.channel)
        out["offer"] = out.arm.map(arm_of.offer)
        out["week"] = weeks.reindex(out.customer_id).fillna(0).to_numpy(int) if weeks is not None else 0
        return out.drop(columns="arm").sort_values("customer_id", ignore_index=True)

    best_arm = (average_margin - arm_of.cost_per_contact.reindex(average_margin.index)).idxmax()
    mass = eligible.index[eligible[best_arm]]
    flat = eligible.stack()
    options = flat[flat].reset_index().set_axis(["customer_id", "arm", "ok"], axis=1)
    pick = options.groupby("customer_id").sample(n=1, random_state=int(rng.integers(2**31)))
    randomly = pick.sample(n=min(n, len(pick)), random_state=int(rng.integers(2**31)))
    masked = response.where(eligible.reindex_like(response).fillna(False).astype(bool))
    top = masked.max(axis=1).dropna().sort_values(ascending=False, kind="stable").head(n)
    return {
        "next best offer": plan(chosen.index, chosen.next_best_offer),
        "next best offer, margin model": plan(by_margin_model.index, by_margin_model.next_best_offer),
        f"send to all ({best_arm})": plan(mass, [best_arm] * len(mass)),
        "send to none": plan([], []),
        "random targeting": plan(randomly.customer_id, randomly.arm),
        "response model": plan(top.index, masked.loc[top.index].idxmax(axis=1)),
    }
