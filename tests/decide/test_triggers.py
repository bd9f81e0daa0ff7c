"""Triggered scenarios: rule files checked field by field, and the engine on a hand-made calendar."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from helpers.decide.automation import newsletter_calendar
from helpers.decide.triggers import (
    TriggerRuleError,
    contact_days,
    event_days,
    load_rules,
    order_days,
    schedule,
    uniform_draws,
)
from helpers.models import bg_nbd
from helpers.models.likelihood import Fit

OFFERS = ("discount_10", "free_shipping", "new_collection")
RULES = """
cap: {contacts: 3, days: 30}
rules:
  - {name: welcome, event: first_purchase, delay_days: 2, channel: email, offer: new_collection, holdout: 0}
  - {name: cross_sell_home, event: purchase, category: home, delay_days: 14, channel: email, offer: new_collection,
     holdout: 0}
  - {name: lapsed_90, event: days_since_purchase, days: 90, channel: postal, offer: discount_10, holdout: 0}
  - {name: late_for_them, event: gap_above_usual, multiple: 2, min_days: 30, channel: sms, offer: free_shipping,
     holdout: 0, cooldown_days: 0}
"""
START, END = dt.date(2025, 1, 1), dt.date(2025, 3, 31)


def _rules(tmp_path, text=RULES):
    path = tmp_path / "triggers_test.yml"
    path.write_text(text)
    return load_rules(path, OFFERS, ("home", "fashion"))


def _orders(*rows):
    return pd.DataFrame(rows, columns=["customer_id", "day", "category"]).assign(day=lambda d: pd.to_datetime(d.day))


CALENDAR = _orders(
    (1, "2025-01-10", "fashion"),
    (1, "2025-02-01", "home"),  # new in January, then a home purchase
    (2, "2024-10-01", "fashion"),
    (2, "2024-10-31", "fashion"),  # every 30 days, then silence
    (3, "2024-12-20", "home"),  # no e-mail consent
    (4, "2025-01-05", "fashion"),
    (4, "2025-03-20", "home"),  # welcome, then a home purchase too late
)
ELIGIBLE = pd.DataFrame(
    {"email": [True, True, False, True], "sms": True, "postal": True, "phone": False, "push": False},
    index=pd.Index([1, 2, 3, 4], name="customer_id"),
)


def _sent(fires):
    return {(r.customer_id, r.rule, r.send_day.date().isoformat(), r.status) for r in fires.itertuples()}


def test_each_rule_fires_exactly_when_it_should_after_its_delay(tmp_path):
    fires = schedule(_rules(tmp_path), CALENDAR, ELIGIBLE, START, END, seed=1)
    assert _sent(fires) == {
        (1, "welcome", "2025-01-12", "sent"),  # first purchase 10 Jan + 2 days
        (4, "welcome", "2025-01-07", "sent"),
        (1, "cross_sell_home", "2025-02-15", "sent"),  # home purchase 1 Feb + 14 days
        (3, "cross_sell_home", "2025-01-03", "no_consent"),  # 20 Dec + 14 days, but no e-mail consent
        (2, "lapsed_90", "2025-01-29", "sent"),  # 31 Oct + 90 days
        (3, "lapsed_90", "2025-03-20", "sent"),  # 20 Dec + 90 days
        (1, "late_for_them", "2025-03-17", "sent"),  # usual gap 22 days: 1 Feb + max(30, 2 x 22)
    }
    # Customer 2 is late for them on 31 Oct + max(30, 2 x 30) = 30 Dec, before the period; customer 4's
    # home purchase on 20 Mar + 14 days falls after it.


def test_a_delayed_message_counts_events_before_the_period(tmp_path):
    fires = schedule(_rules(tmp_path), CALENDAR, ELIGIBLE, dt.date(2024, 12, 31), END, seed=1)
    assert (2, "late_for_them", "2024-12-31", "sent") not in _sent(fires)
    assert {(2, "late_for_them", "2024-12-30", "sent")} & _sent(
        schedule(_rules(tmp_path), CALENDAR, ELIGIBLE, dt.date(2024, 12, 30), END, seed=1)
    )


def test_holdout_is_drawn_per_customer_and_rule_and_never_sent(tmp_path):
    rules = _rules(
        tmp_path,
        RULES.replace(
            "channel: postal, offer: discount_10, holdout: 0", "channel: postal, offer: discount_10, holdout: 0.5"
        ),
    )
    many = pd.concat([_orders((c, "2024-10-15", "fashion")) for c in range(1, 401)], ignore_index=True)
    eligible = pd.DataFrame({"postal": True, "email": True, "sms": True}, index=pd.Index(range(1, 401)))
    fires = schedule(rules, many, eligible, START, END, seed=7).query("rule == 'lapsed_90'")
    held = uniform_draws(7, 3, fires.customer_id.to_numpy()) < 0.5
    assert (fires.status.to_numpy() == np.where(held, "holdout", "sent")).all()
    assert len(fires) == 400 and 0.4 < held.mean() < 0.6
    again = schedule(rules, many, eligible, START, END, seed=7).query("rule == 'lapsed_90'")
    assert again.status.tolist() == fires.status.tolist(), "same seed, same holdout"
    other = schedule(rules, many, eligible, START, END, seed=8).query("rule == 'lapsed_90'")
    assert other.status.tolist() != fires.status.tolist()


def test_the_shared_cap_counts_campaigns_and_earlier_rules(tmp_path):
    campaigns = pd.DataFrame({"customer_id": [1, 1], "day": pd.to_datetime(["2025-01-05", "2025-01-25"])})
    fires = schedule(_rules(tmp_path), CALENDAR, ELIGIBLE, START, END, seed=1, campaign_days=contact_days(campaigns))
    status = {(r.customer_id, r.rule): r.status for r in fires.itertuples()}
    assert status[(1, "welcome")] == "sent"  # 5 Jan, 12 Jan, 25 Jan: three in 30 days, the cap
    one = _rules(tmp_path, RULES.replace("cap: {contacts: 3, days: 30}", "cap: {contacts: 2, days: 30}"))
    capped = schedule(one, CALENDAR, ELIGIBLE, START, END, seed=1, campaign_days=contact_days(campaigns))
    assert capped.set_index(["customer_id", "rule"]).status[(1, "welcome")] == "capped"
    for cap, table in ((3, fires), (2, capped)):
        sent = pd.concat(
            [campaigns, table[table.status == "sent"].rename(columns={"send_day": "day"})[["customer_id", "day"]]]
        )
        for _, days in sent.groupby("customer_id").day:
            d = np.sort(days.values.astype("datetime64[D]").astype(int))
            assert max(np.searchsorted(d, d + 30, side="left") - np.arange(len(d))) <= cap, (
                "no 30-day window over the cap"
            )


def test_cooldown_keeps_one_message_per_rule_and_customer(tmp_path):
    rules = _rules(
        tmp_path, RULES.replace("delay_days: 14, channel: email", "delay_days: 0, cooldown_days: 30, channel: email")
    )
    orders = _orders((1, "2025-01-02", "home"), (1, "2025-01-20", "home"), (1, "2025-02-10", "home"))
    fires = schedule(rules, orders, ELIGIBLE, START, END, seed=1).query("rule == 'cross_sell_home'")
    assert fires.status.tolist() == ["sent", "cooldown", "sent"]


def test_p_alive_rule_fires_on_the_first_day_below_the_threshold():
    params = (0.3, 8.0, 1.0, 4.0)
    orders = _orders(
        (1, "2024-01-01", "home"), (1, "2024-02-01", "home"), (1, "2024-03-15", "home"), (2, "2024-06-01", "home")
    )
    rule = load_rules_from_text("""
rules: [{name: fading, event: p_alive_below, threshold: 0.5, channel: postal, offer: discount_10}]""").rules[0]
    fit = Fit("bgnbd", dict(zip("r alpha a b".split(), params, strict=True)), {}, 0.0, 2, True, "")
    found = event_days(rule, orders, dt.date(2024, 1, 1), dt.date(2026, 12, 31), fit)
    assert found.customer_id.tolist() == [1], "one-time buyers stay alive under BG/NBD"
    day = found.event_day.iloc[0]
    first, last = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-03-15")

    def alive(on):
        return bg_nbd.p_alive(params, 2, (last - first).days / 7, (on - first).days / 7)

    assert alive(day) < 0.5 <= alive(day - pd.Timedelta(days=1))


def load_rules_from_text(text, tmp=None):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "triggers_x.yml"
        path.write_text(text)
        return load_rules(path, OFFERS)


@pytest.mark.parametrize(
    "rule, fault",
    [
        (
            "{name: a, event: moon_phase, channel: email, offer: discount_10}",
            "rule 'a' (#1), field 'event': unknown event",
        ),
        ("{name: b, event: first_purchase, channel: pigeon, offer: discount_10}", "rule 'b' (#1), field 'channel'"),
        ("{name: c, event: first_purchase, channel: email, offer: free_lunch}", "rule 'c' (#1), field 'offer'"),
        (
            "{name: d, event: first_purchase, delay_days: -3, channel: email, offer: discount_10}",
            "rule 'd' (#1), field 'delay_days': must be a whole number of days >= 0, got -3",
        ),
        (
            "{name: e, event: days_since_purchase, channel: email, offer: discount_10}",
            "rule 'e' (#1), field 'days': missing",
        ),
        ("{name: f, event: p_alive_below, threshold: 1.5, channel: email, offer: discount_10}", "field 'threshold'"),
        ("{name: g, event: first_purchase, channel: email, offer: discount_10, holdout: 1}", "field 'holdout'"),
        (
            "{name: h, event: first_purchase, days: 3, channel: email, offer: discount_10}",
            "field 'days': not a field of a 'first_purchase' rule",
        ),
        ("{event: first_purchase, channel: email, offer: discount_10}", "rule '#1' (#1), field 'name': missing"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_rule_and_the_field(rule, fault):
    with pytest.raises(TriggerRuleError) as caught:
        load_rules_from_text(f"rules: [{rule}]")
    assert fault in str(caught.value) and "triggers_x.yml" in str(caught.value)


def test_unknown_category_and_duplicate_names_are_refused(tmp_path):
    with pytest.raises(TriggerRuleError, match="field 'category': unknown category 'garden'"):
        _rules(tmp_path, RULES.replace("category: home", "category: garden"))
    with pytest.raises(TriggerRuleError, match="rule 'welcome' .* field 'name': used twice"):
        _rules(tmp_path, RULES.replace("name: cross_sell_home", "name: welcome"))


def _most_in_30_days(days: pd.Series) -> int:
    d = np.sort(days.values.astype("datetime64[D]").astype(int))
    return int(max(np.searchsorted(d, d + 30, side="left") - np.arange(len(d))))


def test_shared_order_days_and_campaign_days_give_the_same_schedule_and_stay_unchanged(tmp_path):
    campaigns = pd.DataFrame(
        {"customer_id": [2, 1, 1], "day": pd.to_datetime(["2025-02-01", "2025-01-25", "2025-01-05"])}
    )
    planned = contact_days(campaigns)
    assert planned == {1: [20093, 20113], 2: [20120]}, "day numbers since 1970, sorted per customer"
    rules = _rules(tmp_path)
    alone = schedule(rules, CALENDAR, ELIGIBLE, START, END, seed=1, campaign_days=planned)
    shared = schedule(rules, CALENDAR, ELIGIBLE, START, END, seed=1, campaign_days=planned, days=order_days(CALENDAR))
    pd.testing.assert_frame_equal(alone, shared)
    assert (alone.status == "sent").any() and planned == contact_days(campaigns), "the shared days are not written to"
    assert contact_days(campaigns.iloc[:0]) == {}


def test_a_customers_own_monthly_maximum_holds_on_top_of_the_shared_cap(tmp_path):
    campaigns = pd.DataFrame({"customer_id": [1, 1], "day": pd.to_datetime(["2025-01-05", "2025-01-25"])})
    own = pd.Series({1: 2, 4: 0})
    fires = schedule(
        _rules(tmp_path), CALENDAR, ELIGIBLE, START, END, seed=1, campaign_days=contact_days(campaigns), own_maximum=own
    )
    status = {(r.customer_id, r.rule): r.status for r in fires.itertuples()}
    assert status[(1, "welcome")] == "capped", "two campaign messages already fill customer 1's own maximum of 2"
    assert set(fires[fires.customer_id == 4].status) <= {"capped", "cooldown"}, "an own maximum of 0: nothing sent"
    sent = pd.concat(
        [campaigns, fires[fires.status == "sent"].rename(columns={"send_day": "day"})[["customer_id", "day"]]]
    )
    for customer, days in sent.groupby("customer_id").day:
        assert _most_in_30_days(days) <= own.get(customer, 3)


def test_the_newsletter_skips_issues_past_a_customers_own_maximum():
    eligible = pd.DataFrame({"email": [True, True, True, False]}, index=pd.Index([1, 2, 3, 4], name="customer_id"))
    calendar = newsletter_calendar(eligible, START, weeks=26, every_weeks=2, own_maximum=pd.Series({1: 1, 3: 0}))
    weeks = calendar.groupby("customer_id").week.apply(list).to_dict()
    assert weeks[2] == list(range(0, 26, 2)), "no own maximum: every issue"
    assert weeks[1] == list(range(0, 26, 6)), (
        "one a month: every third fortnightly issue (42 days apart, never 2 in 30)"
    )
    assert 3 not in weeks and 4 not in weeks
    assert _most_in_30_days(calendar[calendar.customer_id == 1].day) == 1


def test_the_usual_gap_is_each_customers_expanding_median_of_gaps():
    """Against pandas' own per-customer expanding median: customers of one day, of many, with equal gaps."""
    from helpers.decide.triggers import _usual_gap

    rng = np.random.default_rng(3)
    orders = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 300, 4000),
            "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, 4000), unit="D"),
        }
    )
    days = order_days(pd.concat([orders, pd.DataFrame({"customer_id": [999], "day": [pd.Timestamp("2024-05-01")]})]))
    gap = days.groupby("customer_id").day.diff().dt.days
    expected = gap.groupby(days.customer_id).expanding().median().reset_index(level=0, drop=True).sort_index()
    pd.testing.assert_series_equal(_usual_gap(days), expected, check_exact=True, check_names=False)
    assert np.isnan(_usual_gap(days).iloc[-1]), "a customer of one day has no usual gap"
