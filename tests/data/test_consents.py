"""Consent rows read as hard rules whatever their order: the latest row wins, the most restrictive
on a tie, the preference centre per customer, withdrawals never lost on the way in."""

import datetime as dt
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from helpers.data.consents import CONFLICTING_CHOICES, resolve_consents
from helpers.data.dataset import load_tables
from helpers.decide import contact_plan as ch
from helpers.decide.contact_plan.problem import _plan_frame

ON = dt.date(2026, 1, 5)
RULES = ch.channel_rules()


def people(n: int) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": np.arange(1, n + 1), "phone": "0600000000", "has_app": False})


def allowed(consents: pd.DataFrame, channels=("email", "sms"), n: int = 1, **kwargs) -> pd.DataFrame:
    return ch.eligibility(people(n), consents, list(channels), ON, RULES, **kwargs)


@pytest.mark.parametrize("order", [[0, 1], [1, 0]])
def test_the_preference_centre_is_read_whatever_the_row_order(order):
    rows = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "channel": ["email", "sms"],
            "status": "opt_in",
            "preferred_channel": [None, "sms"],
            "max_contacts_per_month": [None, 0],
        }
    ).iloc[order]
    assert not allowed(rows).any(axis=None), "the own maximum of 0 forbids every contact, on either row order"
    rows = rows.assign(max_contacts_per_month=[None, 2][:: 1 if order == [0, 1] else -1])
    assert allowed(rows).loc[1].to_dict() == {"email": False, "sms": True}, "sms is the chosen channel"


def test_the_latest_row_wins_and_undated_or_tied_rows_give_the_strictest_answer():
    rows = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3, 3, 4, 4, 4],
            "channel": "email",
            "status": ["opt_out", "opt_in", "opt_in", "opt_out", "opt_in", "opt_out", "opt_out", "opt_in", "opt_in"],
            "updated_at": [
                "2024-01-01",
                "2025-01-01",
                "2025-06-01",
                "2025-06-01",
                "2024-01-01",
                None,
                "2023-01-01",
                "2024-01-01",
                "2025-01-01",
            ],
        }
    )
    resolved = resolve_consents(rows.sample(frac=1, random_state=3))
    assert resolved.channels.set_index("customer_id").status.to_dict() == {
        1: "opt_in",  # re-subscribed later
        2: "opt_out",  # same day: the stricter
        3: "opt_out",  # an undated row may be newer: the stricter
        4: "opt_in",
    }  # the latest of three
    counts = resolved.conflicts.set_index("field").loc["status"]
    assert (counts.by_date, counts.by_restriction) == (2, 2)
    assert "2 settled by the latest updated_at, 2 by the most restrictive value" in resolved.sentences()[0]


def test_two_different_preferred_channels_reach_the_customer_on_neither():
    rows = pd.DataFrame(
        {"customer_id": [1, 1], "channel": ["email", "sms"], "status": "opt_in", "preferred_channel": ["email", "sms"]}
    )
    assert resolve_consents(rows).preferences.preferred_channel[1] == CONFLICTING_CHOICES
    assert not allowed(rows).any(axis=None)
    dated = rows.assign(updated_at=["2025-01-01", "2025-02-01"])
    assert allowed(dated).loc[1].to_dict() == {"email": False, "sms": True}, "the later choice wins"


def test_a_pressure_cap_of_zero_blocks_every_contact_and_a_negative_one_is_refused():
    rows = pd.DataFrame({"customer_id": [1, 2], "channel": "email", "status": "opt_in"})
    assert allowed(rows, n=2, pressure_cap=None).email.all()
    assert not allowed(rows, n=2, pressure_cap=0).any(axis=None)
    for bad in (-1, 1.5, True):
        with pytest.raises(ch.PlanInputError, match="pressure_cap must be a whole number of contacts >= 0"):
            allowed(rows, n=2, pressure_cap=bad)


def test_a_plan_that_breaks_a_constraint_raises_even_under_python_O():
    values = pd.DataFrame({"email · a": [1.0, 2.0]}, index=pd.Index([1, 2], name="customer_id"))
    arms = pd.DataFrame({"arm": ["email · a"], "channel": ["email"], "cost_per_contact": [0.1]})
    eligible = pd.DataFrame({"email": [True, False]}, index=values.index)
    problem = ch.build_problem(values, arms, eligible, budget=10.0)
    with pytest.raises(ch.PlanBreaksConstraint, match="a contact without consent or legal basis"):
        ch.check_plan(problem, np.array([0, 0]))
    ch.check_plan(problem, np.array([0, -1]))


def test_a_consent_withdrawal_appended_to_an_export_is_never_lost(tmp_path):
    """The issue's case: 50 e-mail opt-ins, then newer opt-out rows for the same 50 appended."""
    n = 200
    (tmp_path / "customers.csv").write_text("customer_id\n" + "\n".join(str(i) for i in range(1, n + 1)) + "\n")
    (tmp_path / "transactions.csv").write_text(
        "customer_id,order_date,amount\n" + "\n".join(f"{i},2025-0{i % 9 + 1}-10,{i}.5" for i in range(1, n + 1)) + "\n"
    )
    lines = [f"{i},email,opt_in,2024-03-01" for i in range(1, n + 1)]
    lines += [f"{i},email,opt_out,2025-11-02" for i in range(1, 51)]
    (tmp_path / "consents.csv").write_text("customer_id,channel,status,updated_at\n" + "\n".join(lines) + "\n")
    data = load_tables(tmp_path, latest_date=dt.date(2026, 1, 1))
    consents = data.frame("consents")
    assert len(consents) == n and consents.customer_id.is_unique
    report = data.report.tables["consents"]
    assert (report.rows_read, report.rows_kept) == (n + 50, n)
    assert sum(report.excluded.values()) == 50 and "superseded" in next(iter(report.excluded))
    assert any("50 settled by the latest updated_at" in a for a in report.assumptions)
    mailable = ch.eligibility(data.frame("customers"), consents, ["email"], ON, RULES).email
    assert not mailable.loc[1:50].any() and mailable.loc[51:].all()


def test_preferences_stated_on_one_row_reach_every_row_of_the_customer_on_loading(tmp_path):
    (tmp_path / "customers.csv").write_text("customer_id\n1\n2\n")
    (tmp_path / "transactions.csv").write_text("customer_id,order_date,amount\n1,2025-01-10,5\n2,2025-01-11,6\n")
    (tmp_path / "consents.csv").write_text(
        "customer_id,channel,status,preferred_channel,max_contacts_per_month\n"
        "1,email,opt_in,,\n1,sms,opt_in,sms,0\n2,email,opt_in,,\n"
    )
    consents = load_tables(tmp_path, latest_date=dt.date(2026, 1, 1)).frame("consents")
    one = consents[consents.customer_id == 1]
    assert one.preferred_channel.tolist() == ["sms", "sms"] and one.max_contacts_per_month.tolist() == [0, 0]
    assert consents[consents.customer_id == 2].preferred_channel.isna().all()


# ---------------------------------------------------------------- the property: no plan contacts against the rows

CHANNELS = ["email", "sms", "postal", "phone"]
ARMS = pd.DataFrame(
    {"arm": [f"{c} · offer" for c in CHANNELS], "channel": CHANNELS, "cost_per_contact": [0.005, 0.05, 1.0, 3.0]}
)
STRICTER = ["opt_in", "unknown", "opt_out"]
EXAMPLES = int(os.environ.get("CONSENT_PROPERTY_EXAMPLES", "200"))  # the benchmark runs 10,000
TALLY = {"examples": 0, "planned_contacts": 0, "forbidden_pairs": 0, "conflicting_rows": 0}


def _may_be_latest(stated: list[tuple]) -> list:
    """Values of the (date, value) rows that may be the latest: the latest date's, and undated ones."""
    dates = [d for d, _ in stated if d is not None]
    return [v for d, v in stated if d is None or not dates or d == max(dates)]


def oracle(rows: list[dict], n: int, has_phone: list[bool], recent: dict, pressure_cap) -> dict[tuple, bool]:
    """(customer, channel) -> may be contacted, written from the rules in words, row by row."""
    law = ch.rules_on(RULES, ON, "customer")
    answer = {}
    for i in range(1, n + 1):
        mine = [r for r in rows if r["customer_id"] == i]
        chosen = set(
            _may_be_latest(
                [(r["updated_at"], r["preferred_channel"]) for r in mine if r["preferred_channel"] is not None]
            )
        )
        own = _may_be_latest(
            [(r["updated_at"], r["max_contacts_per_month"]) for r in mine if r["max_contacts_per_month"] is not None]
        )
        cap = min([np.inf if pressure_cap is None else pressure_cap, *own])
        total = sum(v for (j, _), v in recent.items() if j == i)
        for c in CHANNELS:
            here = [r for r in mine if r["channel"] == c]
            statuses = _may_be_latest([(r["updated_at"], r["status"]) for r in here])
            status = max(statuses, key=STRICTER.index) if statuses else None
            rule = law.loc[c]
            ok = status == "opt_in" if rule.regime == "opt_in" else status != "opt_out"
            if c == "phone":
                listed = _may_be_latest([(r["updated_at"], r["bloctel"]) for r in here if r["bloctel"] is not None])
                ok &= bool(listed) and not any(listed)  # unknown Bloctel status: not called
            if rule.needs == "phone":
                ok &= has_phone[i - 1]
            if pd.notna(rule.max_per_30_days):
                ok &= recent.get((i, c), 0) + 1 <= rule.max_per_30_days
            ok &= (not chosen or chosen == {c}) and total + 1 <= cap
            answer[(i, c)] = bool(ok)
    return answer


DAYS = st.one_of(st.none(), st.sampled_from([dt.date(2025, 1, d) for d in (1, 2, 3)]))  # few days: many ties
COLUMNS = ["customer_id", "channel", "status", "updated_at", "bloctel", "preferred_channel", "max_contacts_per_month"]
ROW = st.fixed_dictionaries(
    {
        "channel": st.sampled_from(CHANNELS),
        "status": st.sampled_from(STRICTER),
        "updated_at": DAYS,
        "bloctel": st.one_of(st.none(), st.booleans()),
        "preferred_channel": st.one_of(st.none(), st.none(), st.sampled_from(CHANNELS)),
        "max_contacts_per_month": st.one_of(st.none(), st.none(), st.integers(0, 3)),
    }
)


@st.composite
def consent_cases(draw):
    n = draw(st.integers(1, 8))
    rows = [dict(r, customer_id=draw(st.integers(1, n))) for r in draw(st.lists(ROW, max_size=30))]
    recent = draw(
        st.dictionaries(st.tuples(st.integers(1, n), st.sampled_from(CHANNELS)), st.integers(1, 4), max_size=6)
    )
    return (
        rows,
        n,
        draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        recent,
        draw(st.one_of(st.none(), st.integers(0, 4))),
        draw(st.integers(0, 2**32 - 1)),
    )


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(consent_cases())
def test_no_plan_ever_contacts_a_customer_against_their_latest_consent_preferences_or_caps(case):
    rows, n, has_phone, recent, pressure_cap, seed = case
    frame = pd.DataFrame(rows, columns=COLUMNS) if rows else None
    customers = people(n).assign(phone=["06" if p else None for p in has_phone])
    recent_frame = pd.DataFrame(
        [{"customer_id": i, "channel": c, "contacts": v} for (i, c), v in recent.items()],
        columns=["customer_id", "channel", "contacts"],
    )
    eligible = ch.eligibility(customers, frame, CHANNELS, ON, RULES, recent_frame, pressure_cap)
    truth = oracle(rows, n, has_phone, recent, pressure_cap)
    assert {k: bool(eligible.at[k]) for k in truth} == truth
    TALLY["examples"] += 1
    TALLY["forbidden_pairs"] += sum(not v for v in truth.values())
    TALLY["conflicting_rows"] += len(rows) - len({(r["customer_id"], r["channel"]) for r in rows})
    if not eligible.any(axis=None):
        return
    rng = np.random.default_rng(seed)
    values = pd.DataFrame(rng.gamma(1.0, [0.05, 0.3, 1.2, 3.0], size=(n, 4)), columns=ARMS.arm, index=eligible.index)
    for method in ("exact", "lagrangian"):
        plan = _plan(values, eligible, float(rng.uniform(0.5, 20)), method)
        assert all(truth[(i, c)] for i, c in zip(plan.customer_id, plan.channel, strict=True)), (
            "a contact the rows forbid"
        )
        assert plan.customer_id.is_unique
        TALLY["planned_contacts"] += len(plan)


def _plan(values: pd.DataFrame, eligible: pd.DataFrame, budget: float, method: str) -> pd.DataFrame:
    """The plan of ``method``; the exact solver runs in this process (its own process costs 1 s)."""
    if method == "lagrangian":
        return ch.optimise_contact_plan(values, ARMS, eligible, budget, method="lagrangian")[0]
    problem = ch.build_problem(values, ARMS, eligible, budget)
    choice, _ = ch.solve_exact(problem, in_process=True)
    return _plan_frame(problem, choice)
