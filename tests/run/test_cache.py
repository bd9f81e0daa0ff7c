"""The arm models kept between notebooks 30 and 40: the same models warm or cold, a new key for new rows
or parameters, a damaged file refitted and replaced, the cache beside the data and out of the manifest."""

import dataclasses
import json
import multiprocessing
import os
import shutil
import subprocess
import time

import numpy as np
import pandas as pd
import pytest

from helpers.decide import next_best_offer as nbo
from helpers.models import parallel, uplift
from helpers.paths import REPO_ROOT, SYNTHETIC_DIR
from helpers.run import arm_store, checked_data, load, open_checked, world_data, write_checked, write_manifest
from helpers.run.cache import CACHE, ArmStore, prune, reuse

ARMS = ("email · discount_10", "sms · free_shipping")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """A two-arm training table in the shape ``nbo.training_table`` gives."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(2400, 2))
    w = (rng.random(2400) < 0.7).astype(int)
    y = (rng.random(2400) < 0.1 + w * (0.05 + 0.05 * (X[:, 0] > 0))).astype(float)
    arm = np.where(np.arange(2400) % 2 == 0, *ARMS)
    return pd.DataFrame(
        {"campaign_id": "c1", "customer_id": np.arange(2400), "arm": arm, "w": w, "converted": y, "margin": 20 * y}
        | {"window_revenue": 40 * y, "x0": X[:, 0], "x1": X[:, 1]}
    )


@pytest.fixture
def fits(monkeypatch) -> list[str]:
    """The arm names ``uplift.fit_arm`` is called for (a model loaded from the cache adds none), in this
    process: the counting function cannot be sent to a worker."""
    called: list[str] = []
    monkeypatch.setattr(parallel, "workers", lambda: 1)
    fit = uplift.fit_arm

    def counted(X, y, w, arm, outcome, seed):
        called.append(arm)
        return fit(X, y, w, arm, outcome, seed)

    monkeypatch.setattr(uplift, "fit_arm", counted)
    return called


def _predictions(models: dict, table: pd.DataFrame) -> dict:
    X = table[nbo.feature_columns(table)].to_numpy(float)
    return {key: model.predict(X) for key, model in models.items()}


def _same(one: dict, other: dict) -> bool:
    return one.keys() == other.keys() and all(np.array_equal(one[k], other[k]) for k in one)


def test_a_warm_cache_gives_the_very_models_a_cold_one_and_no_cache_give(table, tmp_path, fits):
    store = ArmStore(tmp_path / CACHE)
    cold = _predictions(nbo.fit_arms(table, 5, ("converted",), store), table)
    assert sorted(fits) == sorted(ARMS) and len(list(store.folder.glob("arm-*.pickle"))) == 2
    warm = nbo.fit_arms(table, 5, ("converted",), store)
    assert len(fits) == 2, "the warm call fitted nothing"
    assert _same(cold, _predictions(warm, table))
    assert _same(cold, _predictions(nbo.fit_arms(table, 5, ("converted",)), table))
    model = warm[(ARMS[0], "converted")]
    assert model.qini == nbo.fit_arms(table, 5, ("converted",))[(ARMS[0], "converted")].qini
    both = nbo.fit_arms(table, 5, ("converted", "margin"), store)  # notebook 30 after 40: only margin is new
    assert len(fits) == 8 and fits[6:] == list(ARMS), "two fits without a store, then the margin models alone"
    assert _same(cold, {key: p for key, p in _predictions(both, table).items() if key[1] == "converted"})


def test_a_changed_seed_row_or_training_limit_misses(table, tmp_path, fits, monkeypatch):
    store = ArmStore(tmp_path / CACHE)
    nbo.fit_arms(table, 5, ("converted",), store)
    nbo.fit_arms(table, 6, ("converted",), store)
    assert len(fits) == 4, "another seed: both arms fitted again"
    changed = table.copy()
    changed.loc[changed.index[changed.arm == ARMS[1]][0], "x0"] += 1e-9
    nbo.fit_arms(changed, 5, ("converted",), store)
    assert fits[4:] == [ARMS[1]], "one row of one arm changed: that arm alone is fitted again"
    monkeypatch.setattr(nbo, "MAX_TRAINING_ROWS", 1000)
    nbo.fit_arms(table, 5, ("converted",), store)
    assert len(fits) == 7 and len(list(store.folder.glob("arm-*.pickle"))) == 7


def test_a_model_fitted_on_other_simd_paths_misses(table, tmp_path, fits, monkeypatch):
    """An audit run in-process on an AVX-512 machine fits with numpy's AVX-512 math and the CPU's own
    BLAS kernels; a notebook's kernel without them (``kernel.SAME_MATH_EVERYWHERE``): neither may read
    the other's models."""
    from helpers.run import cache

    store = ArmStore(tmp_path / CACHE)
    nbo.fit_arms(table, 5, ("converted",), store)
    kernels = cache._math_path()
    monkeypatch.setenv("OPENBLAS_CORETYPE", "SkylakeX")  # another BLAS path is another key too
    assert cache._math_path() != kernels and cache._math_path().endswith("OpenBLAS: SkylakeX")
    monkeypatch.setattr(cache, "_math_path", lambda: "SSE SSE2 AVX AVX2")
    nbo.fit_arms(table, 5, ("converted",), store)
    assert len(fits) == 4 and len(list(store.folder.glob("arm-*.pickle"))) == 4


def test_stored_scores_are_those_computed_and_leave_the_generator_where_computing_does(table, tmp_path, monkeypatch):
    """``off_policy.row_scores`` with a store: the same scores warm, cold and without a store, the generator
    then in the same state (the draws after it unchanged); another generator state or row is another key."""
    from helpers.models import off_policy

    monkeypatch.setattr(parallel, "workers", lambda: 1)
    computed: list[int] = []
    compute = off_policy._row_scores
    monkeypatch.setattr(off_policy, "_row_scores", lambda *a: computed.append(1) or compute(*a))
    store, columns = ArmStore(tmp_path / CACHE), ["x0", "x1"]
    runs = []
    for kept in (None, store, store):
        rng = np.random.default_rng(8)
        runs.append((off_policy.row_scores(table, columns, rng, store=kept), rng.random(3)))
    assert len(computed) == 2 and len(list(store.folder.glob("scores-*.pickle"))) == 1, "the third read the second's"
    for scores, after in runs[1:]:
        pd.testing.assert_frame_equal(scores, runs[0][0], check_exact=True)
        assert np.array_equal(after, runs[0][1]), "the generator is left where computing the scores leaves it"
    rng = np.random.default_rng(8)
    rng.random()
    off_policy.row_scores(table, columns, rng, store=store)
    changed = table.assign(x0=table.x0.where(table.index != 7, table.x0 + 1e-9))
    off_policy.row_scores(changed, columns, np.random.default_rng(8), store=store)
    assert len(computed) == 4 and len(list(store.folder.glob("scores-*.pickle"))) == 3


def test_stored_response_models_predict_as_fitted_ones_and_leave_the_generator_where_fitting_does(table, tmp_path):
    """``nbo.fit_response_models`` with a store: fitted once, then read; the same predictions and the same
    draws after it as without a store; another generator state is another key."""
    store, runs = ArmStore(tmp_path / CACHE), []
    for kept in (None, store, store):
        rng = np.random.default_rng(5)
        runs.append((_predictions(nbo.fit_response_models(table, rng, kept), table), rng.random(3)))
    assert len(list(store.folder.glob("response-models-*.pickle"))) == 1, "the third read the second's"
    for predictions, after in runs[1:]:
        assert _same(predictions, runs[0][0]) and np.array_equal(after, runs[0][1])
    nbo.fit_response_models(table, np.random.default_rng(6), store)
    assert len(list(store.folder.glob("response-models-*.pickle"))) == 2


def test_a_damaged_file_is_refitted_and_replaced(table, tmp_path, fits):
    store = ArmStore(tmp_path / CACHE)
    cold = _predictions(nbo.fit_arms(table, 5, ("converted",), store), table)
    damaged = sorted(store.folder.glob("arm-*.pickle"))[0]
    intact = damaged.read_bytes()
    damaged.write_bytes(intact[:-100] + bytes(100))  # same length, last bytes zeroed
    again = _predictions(nbo.fit_arms(table, 5, ("converted",), store), table)
    assert len(fits) == 3 and _same(cold, again)
    assert damaged.read_bytes() == intact, "replaced by the whole file"
    damaged.write_bytes(b"")  # an empty file: the same
    nbo.fit_arms(table, 5, ("converted",), store)
    assert len(fits) == 4 and damaged.read_bytes() == intact
    assert not list(store.folder.glob("*.partial"))


def test_the_cache_lies_beside_the_data_and_git_ignores_it(small_world, tmp_path):
    assert arm_store(world_data(small_world), small_world) == ArmStore(small_world.path.parent / CACHE)
    run_data = tmp_path / "run" / "data"
    write_checked(world_data(small_world), run_data, "export")
    assert arm_store(open_checked(run_data), None) == ArmStore(tmp_path / "run" / CACHE)
    assert arm_store(open_checked(run_data).on_engine("duckdb"), None) is not None
    ignored = [str(SYNTHETIC_DIR / CACHE / "arm-0.pickle"), str(REPO_ROOT / "reports" / "r1" / CACHE / "arm-0.pickle")]
    found = subprocess.run(["git", "check-ignore", *ignored], cwd=REPO_ROOT, capture_output=True, text=True)
    assert found.stdout.splitlines() == ignored


def test_an_analysts_own_folder_gets_no_cache(small_world, tmp_path):
    from helpers.data.dataset import load_tables

    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("customers", "campaigns", "contacts"):
        small_world.table(name).to_csv(folder / f"{name}.csv", index=False)
    assert arm_store(load_tables(folder, None, required=()), None) is None


def test_the_cache_is_not_in_the_run_manifest(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / CACHE).mkdir(parents=True)
    (run_dir / CACHE / "arm-0.pickle").write_bytes(b"model")
    (run_dir / "30_next_best_offer").mkdir()
    (run_dir / "30_next_best_offer" / "metrics.json").write_text("{}")
    write_manifest(load("next_best_offer"), run_dir, "playbook run next_best_offer", {}, "abc", {})
    outputs = json.loads((run_dir / "manifest.json").read_text())["outputs"]
    assert list(outputs) == ["30_next_best_offer/metrics.json"]


def _aged(path, hours_ago: float, size: int = 0):
    """``path`` written with ``size`` bytes (a file) and last used ``hours_ago`` hours ago."""
    if size:
        path.write_bytes(b"x" * size)
    stamp = time.time() - hours_ago * 3600
    os.utime(path, (stamp, stamp))
    return path


def test_prune_removes_the_least_recently_used_until_the_folder_fits(tmp_path):
    oldest, old, new = (_aged(tmp_path / name, hours, 100) for name, hours in (("a", 30), ("b", 20), ("c", 2)))
    copy = tmp_path / "world-copy"
    copy.mkdir()
    _aged(copy / "t.parquet", 40, 100)
    _aged(copy, 10)  # a folder counts as a whole, its use its own mtime
    partial = _aged(tmp_path / "d.123.partial", 50, 100)
    recent = _aged(tmp_path / "e", 0.1, 100)  # another notebook may be reading it
    assert prune(tmp_path, limit=350) == [oldest, old, copy]
    assert sorted(tmp_path.iterdir()) == [new, partial, recent]
    assert prune(tmp_path, limit=0, keep=new) == []  # what is left is kept, partial or in use


def test_a_read_marks_a_stored_result_used_so_the_unread_one_goes_first(tmp_path):
    first, second = tmp_path / "first.pickle", tmp_path / "second.pickle"
    reuse(first, lambda: "a" * 1000)
    reuse(second, lambda: "b" * 1000)
    _aged(first, 30)
    _aged(second, 20)
    assert reuse(first, lambda: pytest.fail("an intact stored result is read, not computed")) == "a" * 1000
    _aged(tmp_path / "third.pickle", 10, 10)
    assert prune(tmp_path, limit=1100) == [second]


def test_a_new_checked_world_copy_prunes_the_unused_old_ones(small_world, monkeypatch):
    copies = small_world.path.parent / ".checked"
    stale = copies / "an-older-world-0123456789ab"
    stale.mkdir(parents=True, exist_ok=True)
    _aged(stale / "t.parquet", 48, 1000)
    _aged(stale, 48)
    monkeypatch.setattr(checked_data, "prune", lambda folder, keep: prune(folder, 0, keep))
    for copy in copies.glob(f"{small_world.path.name}-*"):
        shutil.rmtree(copy)
    checked_data.checked_world(small_world)
    assert not stale.exists()
    assert list(copies.glob(f"{small_world.path.name}-*"))  # the new copy is kept


def test_the_training_table_is_built_once_for_the_same_data_and_margin(small_world, tmp_path):
    data = world_data(small_world)
    builds: list[float] = []
    build = nbo.training_table

    def counted(data, margin_rate=0.5, store=None):
        if store is None:
            builds.append(margin_rate)
        return build(data, margin_rate, store)

    store = ArmStore(tmp_path / CACHE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nbo, "training_table", counted)
        cold = nbo.training_table(data, 0.5, store)
        warm = nbo.training_table(data, 0.5, store)
        other_margin = nbo.training_table(data, 0.4, store)
    pd.testing.assert_frame_equal(warm, cold)
    pd.testing.assert_frame_equal(cold, build(data, 0.5))
    assert builds == [0.5, 0.4]  # another margin rate is another table (here the same: the log tags margins)
    pd.testing.assert_frame_equal(other_margin, build(data, 0.4))


def test_todays_features_are_built_once_for_the_same_customers_whatever_their_order(small_world, tmp_path):
    """Notebooks 30 and 40 ask for the features of the same customers, in another order: one build, the
    frame a call without a store gives; other customers or another day are another build."""
    import datetime as dt

    data, store = world_data(small_world), ArmStore(tmp_path / CACHE)
    ids = data.frame("customers").customer_id.to_numpy()
    day = dt.date.fromisoformat(small_world.parameters["end"])
    cold = nbo.customer_features(data, day, ids, store=store)
    warm = nbo.customer_features(data, day, ids[::-1], store=store)
    pd.testing.assert_frame_equal(warm, cold, check_exact=True)
    pd.testing.assert_frame_equal(cold, nbo.customer_features(data, day, ids), check_exact=True)
    assert len(list(store.folder.glob("features-*.pickle"))) == 1
    nbo.customer_features(data, day, ids[1:], store=store)
    nbo.customer_features(data, day - dt.timedelta(days=7), ids, store=store)
    assert len(list(store.folder.glob("features-*.pickle"))) == 3


def test_a_changed_data_file_builds_the_table_again(small_world, tmp_path):
    copy = tmp_path / "world"
    shutil.copytree(small_world.path, copy)
    data = dataclasses.replace(world_data(small_world), source=copy)
    store = ArmStore(tmp_path / CACHE)
    store.table(data, "training", "x", lambda: pd.DataFrame({"a": [1]}))
    assert store.table(data, "training", "x", lambda: pytest.fail("same data, same key")).a.tolist() == [1]
    assert store.table(data, "training", "y", lambda: pd.DataFrame({"a": [3]})).a.tolist() == [3]
    (copy / "campaigns.parquet").write_bytes((copy / "campaigns.parquet").read_bytes() + b"\0")
    assert store.table(data, "training", "x", lambda: pd.DataFrame({"a": [2]})).a.tolist() == [2]


def _slow_count(path, counter) -> str:
    """``reuse`` of a computation that records each run in ``counter`` and takes long enough for a second
    process to ask meanwhile."""

    def compute() -> str:
        with open(counter, "a") as file:
            file.write(f"{os.getpid()}\n")
        time.sleep(0.5)
        return "fitted"

    return reuse(path, compute)


def test_two_processes_asking_at_once_compute_once_and_both_get_it(tmp_path):
    path, counter = tmp_path / "model.pickle", tmp_path / "computed"
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.starmap(_slow_count, [(path, counter)] * 2)
    assert results == ["fitted", "fitted"]
    assert len(counter.read_text().splitlines()) == 1, "the second process computed it again instead of waiting"
    _aged(path, 30, 10)
    assert prune(tmp_path, limit=0) == [path], "the lock files are never pruned"
