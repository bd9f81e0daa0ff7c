"""The retain_subscribers playbook end to end: the subscription world, notebook 22, its decision on a
French client report."""

import json

from helpers.run.cli import main
from helpers.run.decisions import recorded_decisions, role_text


def test_the_retention_playbook_runs_and_its_decision_reaches_the_client_report(tmp_path):
    out = tmp_path / "runs"
    settings = ["--set", "n_customers=6000", "--set", "seed=7", "--set", "report.language=fr"]
    assert main(["run", "retain_subscribers", "--out", str(out), "--no-pdf", *settings]) == 0
    (run_dir,) = out.iterdir()
    metrics = {"22_retain_subscribers": json.loads((run_dir / "22_retain_subscribers" / "metrics.json").read_text())}
    (found,) = recorded_decisions(metrics)
    assert found["item"]["id"] == "retention_offer" and found["item"]["decision"]["evidence"] == "assumption"
    offer = metrics["22_retain_subscribers"]["offer"]
    assert offer["targeted"] == round(0.25 * metrics["22_retain_subscribers"]["active"])
    assert 0 < offer["ceiling_per_offer_eur"] < offer["kept_value_eur"]
    html = (run_dir / "report.html").read_text()
    assert "Garder les abonnés que nous avons" in html and "Garder nos abonnés" in html
    assert f"Proposer aux {offer['targeted']:,}".replace(",", "\u202f") in html
    assert role_text(found, "cost", "EUR", "fr") is None  # the offer's cost is the ceiling in its text, no role
    assert metrics["22_retain_subscribers"]["truth"]["cohorts"] == 12  # checked on 4 years x 3 channels
