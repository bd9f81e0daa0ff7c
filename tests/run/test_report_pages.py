"""The client report's pages on hand-made metrics: decisions first, one replacing another, what is not
recommended, no truth check, unique anchors, every word in the language."""

import re

import pytest

from helpers.run.catalogue import MissingTranslation
from helpers.run.client_report import render_client
from helpers.run.decisions import decision, per_year, recorded_decisions
from helpers.run.headlines import HeadlineError, headline

REPORT = {"title": "Our best customers", "client": "Maison Dupont", "author": "Cabinet Martin", "date": "2025-12-31",
          "currency": "EUR", "language": "fr", "paper": "a4"}  # fmt: skip
APPENDIX = {"command": "playbook run x", "playbook": "playbooks/x.yml", "git": "abc", "data": {"a.parquet": "00"},
            "packages": {"pandas": "3"}, "parameters": {"40_plan_channel_mix": {"pressure_cap": 3}},
            "quality": None}  # fmt: skip
PLAN = decision(
    "plan",
    "Send the contact plan on {date}: {contacts} contacts costing {cost} for {earns} of expected incremental margin, "
    "within the budget, the capacities, the law and each customer's preferences.",
    "model",
    replaces=("30_next_best_offer:plan",),
    times_a_year=12,
    date=("send_date", "date"),
    contacts=("plan/contacts", "integer"),
    cost=("plan/cost_eur", "money"),
    earns=("plan/margin", "money"),
    weeks=("weeks", "number.1"),
)
NBO = decision(
    "plan",
    "Give each customer their next best offer: {contacts} contacts for {margin} of expected incremental margin (no "
    "budget or capacity limit).",
    "model",
    contacts=("plan/contacts", "integer"),
    margin=("plan/margin", "money"),
)
METRICS = {
    "30_next_best_offer": {"plan": {"contacts": 13733, "margin": 4581.2}, "headlines": [NBO]},
    "40_plan_channel_mix": {
        "send_date": "2026-01-01",
        "weeks": 2.0,
        "plan": {"contacts": 13319, "cost_eur": 1200.0, "margin": 3536.2},
        "truth": {"x": 1.0},
        "headlines": [
            PLAN,
            headline(
                "truth",
                "Against the truth: {clv} predicted, {true} true.",
                clv=("truth/x", "money"),
                true=("truth/x", "money"),
            ),
        ],  # fmt: skip
    },
}


def test_the_constrained_plan_replaces_the_unconstrained_one_on_the_decision_page():
    assert [(d["notebook"], d["values"]) for d in recorded_decisions(METRICS)] == [
        ("40_plan_channel_mix", {"cost": 1200.0, "earns": 3536.2, "weeks": 2.0})
    ]
    assert per_year(recorded_decisions(METRICS)[0]) == pytest.approx(3536.2 * 12)


def test_the_french_client_report_puts_decisions_first_with_gain_per_year_cost_and_evidence():
    page = render_client(REPORT, "Which customers bring most of the revenue?", METRICS, APPENDIX, {})
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).replace("\u202f", " ").replace("\u00a0", " ")
    assert '<html lang="fr">' in page and "size: A4" in page
    assert "Nos meilleurs clients" in text and "31 décembre 2025" in text and "Sommaire" in text
    decisions_at = text.index("Ce que nous recommandons", text.index("Sommaire") + 30)
    assert decisions_at < text.rindex("Le plan de contacts : des canaux sans intrusion")
    assert "13 733" not in text, "the plan the channel-mix plan replaces is quoted nowhere"
    row = text[decisions_at:]
    assert "Envoyer le plan de contacts le 1 janvier 2026 : 13 319 contacts pour un coût de 1 200 €" in row
    assert "3 536 € sur 2,0 semaines 42 434 € si l’action est répétée 12 fois par an 1 200 €" in row
    assert "un modèle appris sur les campagnes passées avec groupe témoin" in row
    assert "Face à la vérité" not in text and "Against the truth" not in text  # no truth check for a client
    anchors = re.findall(r'id="([^"]+)"', page)
    assert len(anchors) == len(set(anchors))


def test_what_is_not_recommended_comes_after_with_its_reason():
    losing = decision("discount", "A test needs {control} customers in control to detect the chosen response lift.",
                      "assumption", recommended=False, control=("n", "integer"))  # fmt: skip
    metrics = {"50_design_and_read_test": {"n": 3111, "headlines": [losing]}}
    page = render_client({**REPORT, "language": "en"}, "Q?", metrics, APPENDIX, {})
    assert page.index("What we do not recommend") < page.index("3,111 customers in control")
    assert "an assumption to be tested" in page


def test_a_sentence_without_translation_stops_the_french_report_naming_it():
    unknown = {"10_customer_knowledge": {"x": 1, "headlines": [headline("x", "Nobody translated {x}.", x="x")]}}
    with pytest.raises(MissingTranslation, match="'Nobody translated {x}.'"):
        render_client(REPORT, "Q?", unknown, APPENDIX, {})


def test_a_decision_states_its_evidence_and_its_horizon():
    with pytest.raises(HeadlineError, match="evidence 'hunch'"):
        decision("d", "Do {x}.", "hunch", x=("x", "integer"))
    with pytest.raises(HeadlineError, match="earns with weeks"):
        decision("d", "Do it for {earns}.", "model", earns=("x", "money"))
