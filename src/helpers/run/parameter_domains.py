"""The accepted values of every numeric notebook parameter, and of those that take one of a few words, in one place.

``helpers.run.playbook`` checks each value a playbook or ``--set`` gives against its domain before any
notebook runs; a test checks that every int and float parameter of every notebook has a domain
here and that each notebook's default lies in it. A parameter means the same thing in every
notebook that declares it, so domains are per name. For a list or mapping parameter the domain
applies to every number in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    """Numbers from ``low`` to ``high`` (ends excluded when ``low_open`` / ``high_open``), finite,
    whole numbers only when ``whole``."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    whole: bool = False

    def admits(self, value: object) -> bool:
        """``value`` is a finite number in this domain (a list or mapping: every number in it)."""
        if isinstance(value, dict):
            return all(self.admits(v) for v in value.values())
        if isinstance(value, list):
            return all(self.admits(v) for v in value)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if self.whole and value != int(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def __str__(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        if self.high == math.inf:
            return f"{kind} {'>' if self.low_open else '>='} {self.low:g}"
        return f"{kind} in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"


@dataclass(frozen=True)
class Choice:
    """One of the words ``values``."""

    values: tuple[str, ...]

    def admits(self, value: object) -> bool:
        """``value`` is one of the words."""
        return isinstance(value, str) and value in self.values

    def __str__(self) -> str:
        return "one of " + ", ".join(self.values)


SHARE = Domain(0, 1)  # a share or rate, 0 and 1 included
PROBABILITY = Domain(0, 1, low_open=True, high_open=True)  # strictly between 0 and 1
POSITIVE = Domain(0, low_open=True)
NON_NEGATIVE = Domain(0)
COUNT = Domain(0, whole=True)  # 0 allowed: none
AT_LEAST_ONE = Domain(1, whole=True)

DOMAINS: dict[str, Domain | Choice] = {
    # the synthetic world
    "n_customers": AT_LEAST_ONE,
    "n_prospects": COUNT,
    "seed": COUNT,
    # 20 segmentation
    "compare_months": AT_LEAST_ONE,
    "k_max": Domain(2, whole=True),  # clusters are tried from 2 up to k_max
    # 21 customer lifetime value
    "horizon_months": AT_LEAST_ONE,
    "annual_discount_rate": SHARE,
    "clv_model": Choice(("auto", "bgnbd", "pareto_nbd", "mbg_nbd", "bg_bb")),  # helpers.models.model_choice.CHOICES
    "spend_basis": Choice(("repeat_occasions", "orders")),  # helpers.models.gamma_gamma.BASES
    # 22 retention
    "period_months": AT_LEAST_ONE,
    "cohort_by": Choice(("year", "quarter")),
    "saved_share": SHARE,
    "target_share": Domain(0, 1, low_open=True),  # of the subscribers, the most likely to leave first
    # money and margins (22, 30, 35, 40, 50)
    "margin_rate": SHARE,
    "offer_discounts": SHARE,  # every discount rate of the mapping
    "budget_eur": NON_NEGATIVE,
    "cost_per_contact": NON_NEGATIVE,  # EUR, every channel of the mapping
    "new_customer_value_eur": NON_NEGATIVE,  # 0: computed from the transaction log
    # 30 next best offer
    "play_weeks": AT_LEAST_ONE,
    # 35 prospects
    "touches": AT_LEAST_ONE,
    "assumed_lift": SHARE,  # every extra first-purchase chance of the mapping
    "value_years": AT_LEAST_ONE,
    # 40 channel mix
    "phone_agents": COUNT,
    "calls_per_hour": NON_NEGATIVE,
    "print_run": COUNT,
    "pressure_cap": AT_LEAST_ONE,  # 0 would allow no contact: notebook 40 would have nothing to plan
    "min_reach_cant_lose": COUNT,  # 0: no promise
    "months": AT_LEAST_ONE,
    # 45 triggered scenarios
    "weeks": AT_LEAST_ONE,
    "newsletter_every_weeks": AT_LEAST_ONE,
    "win_back_days": AT_LEAST_ONE,  # every threshold of the list
    "fading_thresholds": PROBABILITY,  # every threshold of the list
    "split_months": AT_LEAST_ONE,
    # 50 test design
    "alpha": PROBABILITY,
    "power": PROBABILITY,
    "lift_points": Domain(0, 100, low_open=True),  # percentage points
    "lift_revenue_eur": POSITIVE,
    "control_share": PROBABILITY,
    "test_weeks": AT_LEAST_ONE,
}
