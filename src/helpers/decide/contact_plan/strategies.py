"""The strategies a plan is compared with: a mass send on every allowed channel, one channel per
segment, and any plan repeated month after month.
"""

from __future__ import annotations

import pandas as pd

SEGMENT_CHANNEL = {
    "champions": "email",
    "loyal": "email",
    "new": "email",
    "promising": "sms",
    "need attention": "sms",
    "at risk": "postal",
    "can't lose": "phone",
    "hibernating": "email",
    "lost": None,
}
LEGAL_CALL_HOURS_PER_WEEK = 45  # Monday-Friday, 10:00-13:00 and 14:00-20:00 (Décret 2022-1313)


def best_arm_per_channel(values: pd.DataFrame, arm_table: pd.DataFrame) -> pd.Series:
    """For each channel, the arm (offer) with the highest mean value: what a mass send would use."""
    means = values.mean()
    table = arm_table.assign(mean_value=arm_table.arm.map(means))
    return table.sort_values("mean_value", ascending=False).drop_duplicates("channel").set_index("channel").arm


def mass_plan(eligible: pd.DataFrame, arms_by_channel: pd.Series) -> pd.DataFrame:
    """Every customer on every channel they may receive (one offer per channel)."""
    pairs = eligible[list(arms_by_channel.index)].stack()
    pairs = pairs[pairs].reset_index().iloc[:, :2].set_axis(["customer_id", "channel"], axis=1)
    return pairs.assign(arm=pairs.channel.map(arms_by_channel))


def rule_plan(
    segments: pd.Series,
    eligible: pd.DataFrame,
    arms_by_channel: pd.Series,
    rule: dict[str, str | None] = SEGMENT_CHANNEL,
) -> pd.DataFrame:
    """One channel per segment (e.g. can't lose -> phone), when the customer may receive it."""
    channel = segments.astype(str).map(rule).dropna()
    channel = channel[[bool(eligible.at[i, c]) for i, c in channel.items()]]
    return pd.DataFrame(
        {"customer_id": channel.index, "channel": channel.to_numpy(), "arm": channel.map(arms_by_channel).to_numpy()}
    )


def monthly(plan: pd.DataFrame, arm_table: pd.DataFrame, months: int) -> pd.DataFrame:
    """The plan (customer_id, arm) repeated every four weeks for ``months`` months, as play wants
    it: customer_id, channel, offer, week."""
    offer = arm_table.set_index("arm").offer
    one = pd.DataFrame(
        {
            "customer_id": plan.customer_id.to_numpy(),
            "channel": plan.arm.map(arm_table.set_index("arm").channel).to_numpy(),
            "offer": plan.arm.map(offer).to_numpy(),
        }
    )
    return pd.concat([one.assign(week=4 * m) for m in range(months)], ignore_index=True)
