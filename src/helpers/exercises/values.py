"""What a contact is truly worth: each customer's expected incremental margin for every channel and
offer, taken from the world playing one contact of that arm to every customer it may reach, and the
checks a learner's contact plan must pass before it is valued."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.errors import ExerciseInputError

if TYPE_CHECKING:
    from helpers.world import World

PLAY_WEEKS = 4  # the horizon over which each contact is played (its response window is two weeks)
PLAN_COLUMNS = ("customer_id", "channel", "offer")


def arm_name(channel: str, offer: str) -> str:
    """The arm's name as the next best offer notebook writes it: ``postal · discount_10``."""
    return f"{channel} · {offer}"


def arm_table(world: World) -> pd.DataFrame:
    """The world's arms: arm, channel, offer, cost_per_contact (EUR)."""
    return pd.DataFrame(
        [
            {"arm": arm_name(c, o), "channel": c, "offer": o, "cost_per_contact": float(spec["cost_per_contact"])}
            for c, spec in world.spec["channels"].items()
            for o in world.spec["offers"]
        ]
    )


def true_values(world: World) -> pd.DataFrame:
    """Buyers (index customer_id) x arms: the true expected incremental margin (EUR, after the contact's
    cost) of one contact in the first week, played over PLAY_WEEKS weeks on the world's seed; NaN where
    the channel may not reach the customer. Kept on the world, so a notebook computes it once."""
    return world.kept("exercise_true_values", PLAY_WEEKS, lambda: _true_values(world))


def _true_values(world: World) -> pd.DataFrame:
    truth = world.truth().set_index("customer_id")
    buyers = truth.index[~truth.is_prospect.to_numpy()]
    allowed = world.eligibility().loc[buyers]
    columns = {}
    for row in arm_table(world).itertuples():
        reached = buyers[allowed[row.channel].to_numpy()]
        plan = pd.DataFrame({"customer_id": reached, "channel": row.channel, "offer": row.offer})
        played = world.play(plan, weeks=PLAY_WEEKS, seed=int(world.parameters["seed"])).contacts
        margin = played.expected_incremental_revenue.to_numpy() * truth.margin_rate.loc[played.customer_id].to_numpy()
        columns[row.arm] = pd.Series(margin - played.cost.to_numpy(), index=played.customer_id.to_numpy())
    return pd.DataFrame(columns, index=buyers)


def checked_plan(answer: object, world: World, what: str = "your plan") -> pd.DataFrame:
    """``answer`` (a frame with customer_id, channel, offer: one contact per customer) with its arm
    and true value, or ExerciseInputError if a column is missing, a channel or offer is unknown, a
    customer is unknown or named twice, or a contact breaks the customer's consent."""
    if not isinstance(answer, pd.DataFrame):
        raise ExerciseInputError(
            f"{what} must be a table (pandas DataFrame) with columns customer_id, channel, offer; "
            f"got {type(answer).__name__}."
        )
    missing = [c for c in PLAN_COLUMNS if c not in answer.columns]
    if missing:
        raise ExerciseInputError(f"{what} lacks the column(s) {missing}; it needs customer_id, channel, offer.")
    for column, known in (("channel", world.spec["channels"]), ("offer", world.spec["offers"])):
        unknown = sorted(set(answer[column].astype(str)) - set(known))
        if unknown:
            raise ExerciseInputError(f"{what} names unknown {column}(s) {unknown[:5]}; known: {list(known)}.")
    values = true_values(world)
    plan = answer[list(PLAN_COLUMNS)].reset_index(drop=True)
    unknown_ids = plan.customer_id[~plan.customer_id.isin(values.index)]
    if len(unknown_ids):
        raise ExerciseInputError(
            f"{what}: {len(unknown_ids)} contact(s) name ids that are not buyers of this world, "
            f"e.g. {unknown_ids.head(5).tolist()}."
        )
    twice = plan.customer_id[plan.customer_id.duplicated()].unique()
    if len(twice):
        raise ExerciseInputError(
            f"{what} contacts some customers twice, e.g. {twice[:5].tolist()}: one contact per customer."
        )
    plan["arm"] = [arm_name(c, o) for c, o in zip(plan.channel, plan.offer, strict=True)]
    plan["value"] = values.to_numpy()[values.index.get_indexer(plan.customer_id), values.columns.get_indexer(plan.arm)]
    refused = plan[np.isnan(plan.value.to_numpy(float))]
    if len(refused):
        first = refused.iloc[0]
        raise ExerciseInputError(
            f"{what} breaks consent: {len(refused)} contact(s) on a channel the customer has not allowed, "
            f"e.g. customer {first.customer_id} on {first.channel}. Keep to the customers' allowed channels."
        )
    return plan
