"""The same decisions made from the truth, under the same constraints: what a perfect model would
do. The oracle next best offer and contact plan choose from each customer's true expected
incremental margin per arm; the true CLV ranking is the truth's expected value over 52 weeks.
Read only by the audit (``helpers.audit``), never by the analysis itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from helpers.decide import next_best_offer as nbo
from helpers.decide.contact_plan import Diagnostics, optimise_contact_plan

if TYPE_CHECKING:
    from helpers.world import World


def true_arm_margins(world: World, arm_table: pd.DataFrame, customer_ids: ArrayLike, weeks: int = 8) -> pd.DataFrame:
    """Customers x arms: the true expected incremental margin (EUR, before the contact cost) of one
    contact in the first week, as ``world.play`` values it before any draw (the effect's extra
    orders at the offer's price, less the discount on orders that would have happened anyway),
    times the customer's true margin rate; -inf where the world forbids the channel."""
    ids = pd.Index(np.asarray(customer_ids), name="customer_id")
    allowed = world.eligibility().reindex(ids).fillna(False).astype(bool)
    margin_rate = world.truth().set_index("customer_id").margin_rate.reindex(ids)
    out = pd.DataFrame(-np.inf, index=ids, columns=list(arm_table.arm))
    for row in arm_table.itertuples():
        reached = ids[allowed[row.channel].to_numpy()]
        if not len(reached):
            continue
        plan = pd.DataFrame({"customer_id": reached, "channel": row.channel, "offer": row.offer, "week": 0})
        contacts = world.play(plan, weeks=weeks, seed=0).contacts.set_index("customer_id")
        out.loc[reached, row.arm] = (contacts.expected_incremental_revenue * margin_rate.loc[reached]).to_numpy()
    return out


def oracle_offers(true_margins: pd.DataFrame, costs: pd.Series, eligible: pd.DataFrame | None = None) -> pd.DataFrame:
    """The next best offer chosen from the truth: per customer the arm of highest true incremental
    margin after cost, or no contact (``next_best_offer.choose_offers`` on the true values)."""
    return nbo.choose_offers(true_margins, costs, eligible)


def oracle_contact_plan(
    true_margins: pd.DataFrame,
    arm_table: pd.DataFrame,
    eligible: pd.DataFrame,
    budget: float,
    capacities: dict[str, float] | None = None,
    segments: pd.Series | None = None,
    min_reach: dict[str, int] | None = None,
) -> tuple[pd.DataFrame, Diagnostics]:
    """The contact plan optimised on the true values, under the same ``eligible``, budget (EUR),
    capacities, segments and minimum reach as the plan it is compared with: the same solver, so the
    oracle passes the same hard-constraint check (``contact_plan.check_plan``)."""
    return optimise_contact_plan(true_margins, arm_table, eligible, budget, capacities, segments, min_reach)


def true_value_ranking(world: World, customer_ids: ArrayLike) -> pd.Series:
    """The true expected revenue over the next 52 weeks per customer (EUR, indexed by customer_id):
    the ranking a perfect CLV model would give."""
    return world.truth().set_index("customer_id").expected_value_52w.reindex(np.asarray(customer_ids))
