"""The synthetic world: determinism, invariants, legal defaults, identities, bad parameters."""

import hashlib
import json
import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers.paths import SCENARIOS_DIR
from helpers.run.kernel import SAME_MATH_EVERYWHERE
from helpers.world import WorldParameterError, ensure_world, generate_world
from helpers.world.identities import departements
from tests.conftest import SMALL


def _hashes(world):
    return {name: info["sha256"] for name, info in world.manifest["files"].items()}


def test_same_seed_gives_byte_identical_files_and_other_seed_differs(tmp_path, small_world):
    again = generate_world("retail_fr", root=tmp_path, **SMALL)
    assert _hashes(again) == _hashes(small_world)
    assert again.verify() == []
    other = generate_world("retail_fr", root=tmp_path, **{**SMALL, "seed": 8})
    random_tables = ("transactions", "customers", "consents", "contacts", "truth/truth")
    assert all(_hashes(other)[f"{t}.parquet"] != _hashes(small_world)[f"{t}.parquet"] for t in random_tables)
    assert _hashes(other)["campaigns.parquet"] == _hashes(small_world)["campaigns.parquet"], "calendar is data"


def test_files_do_not_depend_on_the_cpu_simd_path(tmp_path):
    """numpy picks AVX-512 or AVX2 code for exp/log at run time, and the two differ in the last bit.
    The same world, generated with AVX-512 on and off (``make test`` itself runs with it off), must have
    the same bytes."""
    code = (
        "import json, sys; from helpers.world import generate_world; "
        "from numpy._core._multiarray_umath import __cpu_features__ as cpu; "
        f"w = generate_world('retail_fr', root=sys.argv[1], **{SMALL!r}); "
        "print(json.dumps([cpu['X86_V4'], {k: v['sha256'] for k, v in w.manifest['files'].items()}]))"
    )
    native = {name: value for name, value in os.environ.items() if name not in SAME_MATH_EVERYWHERE}
    runs = [
        json.loads(subprocess.run([sys.executable, "-c", code, str(tmp_path / label)], env=env, capture_output=True,
                                  text=True, check=True).stdout.strip().splitlines()[-1])
        for label, env in (("native", native), ("same", {**native, **SAME_MATH_EVERYWHERE}))
    ]  # fmt: skip
    (avx512, files), (avx512_off, same_files) = runs
    if not avx512:
        pytest.skip("no AVX-512 on this machine: there is only one SIMD path to compare")
    assert not avx512_off and files == same_files


def test_transactions_do_not_depend_on_the_chunk_size(tmp_path, small_world, monkeypatch):
    """Transactions are built and written in chunks; each per-order draw has its own generator,
    so a world built 1,000 orders at a time holds the same values."""
    import helpers.world.generate as generate

    monkeypatch.setattr(generate, "CHUNK_ORDERS", 1000)
    chunked = generate_world("retail_fr", root=tmp_path, **SMALL)
    assert chunked.manifest["files"]["transactions.parquet"]["rows"] > 5000
    for table in ("transactions", "contacts", "customers"):
        pd.testing.assert_frame_equal(chunked.table(table), small_world.table(table))


def _folder_hashes(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _ensure_after(barrier, root, results):
    """In a spawned process: wait for the other, then ensure the same world at once."""
    barrier.wait()
    world = ensure_world("retail_fr", root=root, **SMALL)
    results.put((str(world.path), world.verify()))


def test_two_processes_ensuring_one_uncached_world_at_once_both_get_it_intact(tmp_path, small_world):
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=_ensure_after, args=(barrier, tmp_path, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0], "both processes succeed"
    paths, problems = zip(*(results.get(timeout=5) for _ in workers), strict=True)
    assert problems == ([], []), "each sees an intact world"
    world_path = tmp_path / small_world.path.name
    assert set(paths) == {str(world_path)}
    assert _folder_hashes(world_path) == _folder_hashes(small_world.path), "same bytes as one process alone"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".locks", world_path.name], "no temporary folder left"


def test_a_failed_generation_leaves_no_folder_and_clears_one_left_by_a_killed_process(
    tmp_path, small_world, monkeypatch
):
    import helpers.world.datacard as datacard

    stale = tmp_path / f".{small_world.path.name}.tmp"
    (stale / "truth").mkdir(parents=True)
    (stale / "customers.parquet").write_bytes(b"half written")

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(datacard, "data_card", disk_full)
    with pytest.raises(OSError, match="No space left"):
        ensure_world("retail_fr", root=tmp_path, **SMALL)
    assert [p.name for p in tmp_path.iterdir()] == [".locks"]


def test_every_contract_table_and_the_truth_are_written_apart(small_world):
    files = set(small_world.manifest["files"])
    assert files == {
        f"{t}.parquet" for t in ("transactions", "customers", "consents", "campaigns", "contacts", "products")
    } | {"truth/truth.parquet"}
    assert (small_world.path / "README.md").read_text().count("truth/truth.parquet") >= 1


def test_no_transaction_before_signup_or_after_end_or_after_dropout(small_world):
    tx = small_world.table("transactions")
    cust = small_world.table("customers").set_index("customer_id")
    truth = small_world.truth().set_index("customer_id")
    signup = tx.customer_id.map(cust.signup_date)
    assert (tx.order_date >= signup).all()
    assert (tx.order_date <= pd.Timestamp("2025-12-31")).all()
    first = tx.groupby("customer_id").order_date.min()
    assert (first == cust.loc[first.index, "signup_date"]).all(), "the first order is on the signup day"
    dropout = tx.customer_id.map(truth.dropout_date)
    assert not (tx.order_date > dropout).any(), "a customer who dropped out never buys again"
    assert not tx.customer_id.map(cust.is_prospect).any(), "prospects have no orders"
    assert tx.order_id.is_unique and (tx.amount > 0).all()


def test_every_campaign_response_is_a_transaction(small_world):
    tx = small_world.table("transactions")
    contacts = small_world.table("contacts")
    tagged = tx.dropna(subset=["campaign_id"]).groupby(["campaign_id", "customer_id"]).amount.sum()
    responders = contacts[contacts.responded].set_index(["campaign_id", "customer_id"])
    assert len(responders) > 0
    assert np.allclose(tagged.reindex(responders.index).to_numpy(), responders.revenue.to_numpy(), atol=0.011)
    assert set(tagged.index) <= set(contacts.set_index(["campaign_id", "customer_id"]).index)
    campaigns = small_world.table("campaigns").set_index("campaign_id")
    start = tx.campaign_id.dropna().map(campaigns.start_date)
    days = (tx.loc[start.index, "order_date"] - start).dt.days
    assert days.between(0, campaigns.response_window_days.max() - 1).all()


def test_control_groups_are_never_contacted_and_contacts_are_legal(small_world):
    contacts = small_world.table("contacts")
    control = contacts[contacts.group == "control"]
    assert len(control) > 0 and control.sent_at.isna().all() and not control.unsubscribed.any()
    assert contacts[contacts.group == "treatment"].sent_at.notna().all()
    # Each campaign holds out about 15% at random.
    share = (contacts.group == "control").groupby(contacts.campaign_id).mean()
    assert share.between(0.08, 0.22).all()
    # Nobody opted out before a contact on that channel is contacted on it.
    consents = small_world.table("consents")
    sent = contacts.merge(small_world.table("campaigns")[["campaign_id", "channel"]]).query("group == 'treatment'")
    sent = sent.merge(consents, on=["customer_id", "channel"])
    opted_before = (sent.status == "opt_out") & (sent.updated_at < sent.sent_at)
    assert not opted_before.any()
    assert not sent[sent.channel.isin(["email", "sms", "push"])].status.eq("unknown").any()
    assert not sent[(sent.channel == "phone")].bloctel.fillna(False).any()


def test_consents_respect_the_legal_defaults(small_world):
    consents = small_world.table("consents")
    customers = small_world.table("customers").set_index("customer_id")
    assert set(consents.status) <= {"opt_in", "opt_out", "unknown"}
    # Postal mail and phone are opt-out channels: nobody holds a recorded opt-in there.
    assert not consents[consents.channel.isin(["postal", "phone"])].status.eq("opt_in").any()
    push_in = consents[(consents.channel == "push") & (consents.status == "opt_in")]
    assert customers.loc[push_in.customer_id, "has_app"].all(), "push opt-in needs the app"
    sms_in = consents[(consents.channel == "sms") & (consents.status == "opt_in")]
    assert customers.loc[sms_in.customer_id, "phone"].notna().all()
    assert consents[consents.channel != "phone"].bloctel.isna().all()
    assert consents.groupby("customer_id").size().eq(5).all()


def test_identities_are_unique_and_postcodes_match_their_departement(small_world):
    cust = small_world.table("customers")
    assert cust.email.is_unique and cust.customer_id.is_unique
    deps = departements().set_index("name")
    code = cust.departement.map(deps.code)
    expected_prefix = code.where(~code.isin(["2A", "2B"]), "20")
    assert (cust.postcode.str.len() == 5).all()
    assert [p.startswith(c) for p, c in zip(cust.postcode, expected_prefix, strict=True)] == [True] * len(cust)
    assert (cust.region == cust.departement.map(deps.region)).all()
    assert cust[cust.is_prospect].journey_stage.notna().all()
    assert cust[~cust.is_prospect].journey_stage.isna().all()


def test_truth_has_effects_of_every_kind(small_world):
    truth = small_world.truth()
    buyers = truth[~truth.is_prospect]
    assert set(buyers.uplift_type) == {"persuadable", "sure_thing", "lost_cause", "sleeping_dog"}
    effects = buyers[[c for c in buyers if c.startswith("uplift_") and c != "uplift_type"]]
    assert effects.shape[1] == 15
    assert (effects.loc[~buyers.alive_at_end] == 0).all().all(), "no effect on customers who are gone"
    assert (effects.min(axis=1) < 0).sum() > 0 and (effects.max(axis=1) > 0).sum() > 0
    assert (buyers.expected_purchases_52w[~buyers.alive_at_end] == 0).all()


@pytest.mark.parametrize(
    "overrides, names",
    [
        ({"n_customers": 0}, "n_customers"),
        ({"n_customers": -5}, "n_customers"),
        ({"n_customers": 2.5}, "n_customers"),
        ({"n_prospects": -1}, "n_prospects"),
        ({"start": "2025-01-01", "end": "2024-01-01"}, "end"),
        ({"start": "not a date"}, "start"),
        ({"locale": "xx_XX"}, "locale"),
        ({"seed": -1}, "seed"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_fail_early_naming_the_parameter(tmp_path, overrides, names):
    with pytest.raises(WorldParameterError, match=names):
        generate_world("retail_fr", root=tmp_path, **overrides)
    assert not any(tmp_path.iterdir()), "nothing is written before the parameters are checked"


def test_unknown_scenario_and_malformed_yaml_are_refused(tmp_path):
    with pytest.raises(WorldParameterError, match="unknown scenario 'mars'.*retail_fr"):
        generate_world("mars", root=tmp_path)
    broken = tmp_path / "broken.yml"
    broken.write_text("purchases: [unclosed\n")
    with pytest.raises(WorldParameterError, match="not valid YAML"):
        generate_world(broken, root=tmp_path)
    spec = yaml.safe_load((SCENARIOS_DIR / "retail_fr.yml").read_text())
    spec["purchases"]["r"] = -1
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(spec))
    with pytest.raises(WorldParameterError, match=r"purchases\.r must be a positive number"):
        generate_world(bad, root=tmp_path)
    del spec["channels"]
    bad.write_text(yaml.safe_dump(spec))
    with pytest.raises(WorldParameterError, match="lacks the section"):
        generate_world(bad, root=tmp_path)
