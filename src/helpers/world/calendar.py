"""Seasonal purchase intensity and the 'operational time' that carries the BG/NBD clock.

A customer with purchase rate lambda (per week) buys as a Poisson process in operational time;
a calendar day d lasts s(d)/7 operational weeks, where s is the seasonal multiplier normalised to
a mean of 1 over a (non-leap) year. Over whole years operational and calendar weeks agree.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

_REFERENCE_YEAR = 2023  # a non-leap year: fixes the normalising constant, whatever the history


def _raw_multipliers(days: np.ndarray, seasonality: dict) -> np.ndarray:
    """Product of the seasonal multipliers active on each day (``days``: datetime64[D])."""
    years = days.astype("datetime64[Y]")
    out = np.ones(len(days))
    for year in np.unique(years).astype(str):
        in_year = years == np.datetime64(year, "Y")
        for event in seasonality.values():
            lo = np.datetime64(f"{year}-{event['start']}", "D")
            hi = np.datetime64(f"{year}-{event['end']}", "D")
            out[in_year & (days >= lo) & (days <= hi)] *= float(event["multiplier"])
    return out


def seasonal_intensity(start: dt.date, n_days: int, seasonality: dict) -> np.ndarray:
    """Multiplier of the purchase rate for each of ``n_days`` days from ``start`` (yearly mean 1)."""
    ref = np.arange(np.datetime64(f"{_REFERENCE_YEAR}-01-01"), np.datetime64(f"{_REFERENCE_YEAR + 1}-01-01"))
    norm = _raw_multipliers(ref, seasonality).mean()
    days = np.datetime64(start, "D") + np.arange(n_days)
    return _raw_multipliers(days, seasonality) / norm


def operational_clock(intensity: np.ndarray) -> np.ndarray:
    """Operational weeks elapsed at the end of each day (cumulative intensity / 7)."""
    return np.cumsum(intensity) / 7.0


def day_of_operational_time(clock: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the day during which operational time ``u`` (weeks) falls."""
    return np.minimum(np.searchsorted(clock, u, side="right"), len(clock) - 1)
