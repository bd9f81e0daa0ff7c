"""The true incremental effect of a contact: who is persuadable, a sure thing, a lost cause or a sleeping dog.

For customer i, channel c and offer o, contacted while alive, the true change in the chance of
buying within the response window is

    tau = sign_i * lift_c * multiplier_o * age_c(i) * affinity_o(i) * noise_ic
          * (1 + recency_boost * min(recency_weeks / 26, 2)) / (1 + damping * p0_i)
          * exp(-fatigue_decay * contacts_in_last_30_days)

clipped so that p0 + tau stays in [0, 1], where p0 is the chance of buying in the window anyway.
sign_i is -1 for sleeping dogs (contact hurts), +1 otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UPLIFT_TYPES = ("persuadable", "sure_thing", "lost_cause", "sleeping_dog")


@dataclass
class ResponseProfile:
    """Static, hidden response traits (arrays over customers; noise is n x channels)."""

    channels: list[str]
    sleeping_dog: np.ndarray
    age_factor: np.ndarray  # (n, n_channels)
    noise: np.ndarray  # (n, n_channels), mean 1
    affinity: dict[str, np.ndarray]  # per offer, (n,)
    tolerance: np.ndarray  # contacts per 30 days before contact turns intrusive


def draw_profile(
    rng: np.random.Generator, spec: dict, age: np.ndarray, value: np.ndarray, preferences: np.ndarray
) -> ResponseProfile:
    """Draw the response traits; ``value`` is the expected spend per week (EUR)."""
    resp, channels = spec["response"], list(spec["channels"])
    n = len(age)
    z_value = (np.log(value) - np.log(value).mean()) / max(np.log(value).std(), 1e-9)
    share = resp["sleeping_dog_share"]
    logit = np.log(share / (1 - share)) + resp["sleeping_dog_value_tilt"] * z_value
    sleeping_dog = rng.random(n) < 1 / (1 + np.exp(-logit))
    slopes = np.array([spec["channels"][c]["age_slope"] for c in channels])
    age_factor = np.exp(np.outer((age - 44) / 10, slopes))
    sd = resp["noise_sd"]
    noise = np.exp(sd * rng.standard_normal((n, len(channels))) - sd**2 / 2)
    categories = list(spec["catalogue"]["categories"])
    shares = np.array([c["share"] for c in spec["catalogue"]["categories"].values()])
    shares = shares / shares.sum()
    affinity = {}
    for offer, o in spec["offers"].items():
        cat = o.get("affinity_category")
        affinity[offer] = (
            np.sqrt(preferences[:, categories.index(cat)] / shares[categories.index(cat)]) if cat else np.ones(n)
        )
    tolerance = 1 + rng.poisson(spec["customers"]["fatigue_tolerance_mean"] - 1, n)
    return ResponseProfile(channels, sleeping_dog, age_factor, noise, affinity, tolerance)


def baseline_chance(lam: np.ndarray, window_weeks: np.ndarray | float) -> np.ndarray:
    """Chance of at least one purchase in a window of ``window_weeks`` operational weeks."""
    return 1 - np.exp(-lam * window_weeks)


def incremental_effect(
    spec: dict,
    profile: ResponseProfile,
    rows: np.ndarray,
    channel: str,
    offer: str,
    p0: np.ndarray,
    recency_weeks: np.ndarray,
    recent_contacts: np.ndarray,
) -> np.ndarray:
    """True tau (change in purchase chance in the window) for customers ``rows`` contacted now."""
    resp = spec["response"]
    j = profile.channels.index(channel)
    magnitude = (
        spec["channels"][channel]["lift"]
        * spec["offers"][offer]["multiplier"]
        * profile.age_factor[rows, j]
        * profile.noise[rows, j]
        * profile.affinity[offer][rows]
        * (1 + resp["recency_boost"] * np.minimum(recency_weeks / 26, 2))
        / (1 + resp["sure_thing_damping"] * p0)
        * np.exp(-resp["fatigue_decay"] * recent_contacts)
    )
    tau = np.where(profile.sleeping_dog[rows], -magnitude, magnitude)
    return np.clip(tau, -p0, 1 - p0)


def nurture_effects(spec: dict, stage: list[str], age: np.ndarray) -> dict[str, np.ndarray]:
    """True extra chance of a first purchase within 90 days from a nurturing sequence, per channel,
    for prospects at ``stage`` of the journey aged ``age`` (scenario prospects.nurture_lift times
    the channel's age factor, capped so the chance stays below 1)."""
    base = np.array([spec["prospects"]["conversion_90d"][s] for s in stage])
    effects = {}
    for channel, by_stage in spec["prospects"]["nurture_lift"].items():
        lift = np.array([by_stage[s] for s in stage]) * np.exp((age - 44) / 10 * spec["channels"][channel]["age_slope"])
        effects[channel] = np.round(np.minimum(lift, 1 - base), 6)
    return effects


def uplift_type(
    alive: np.ndarray, p0: np.ndarray, mean_tau: np.ndarray, sure_thing_baseline: float, persuadable_effect: float
) -> np.ndarray:
    """Label each customer: sleeping_dog (mean effect < 0), persuadable (mean effect >= threshold),
    sure_thing (buys anyway: p0 >= threshold), else lost_cause (also every customer no longer alive)."""
    return np.select(
        [~alive, mean_tau < 0, mean_tau >= persuadable_effect, p0 >= sure_thing_baseline],
        ["lost_cause", "sleeping_dog", "persuadable", "sure_thing"],
        default="lost_cause",
    )
