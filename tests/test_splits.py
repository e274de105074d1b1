"""Splits: exact stratified proportions, groups, seeds, the saved DatasetDict, bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, run_cli
from workbench._errors import WorkbenchError
from workbench.splits import (
    allocate, list_splits, load_split, make_split, parse_split_ref, plan_split, split_frame,
)

DEMO = ROOT / "workbench" / "demo" / "support_qa.csv"


def labelled(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "text": [f"question number {i} about item {rng.integers(1000)}" for i in range(n)],
        "y": rng.choice(["a", "b"], n, p=[0.6, 0.4]),
        "who": rng.choice(["x", "y"], n),
        "conv": rng.integers(0, n // 4, n),
    })


def demo_clean() -> pd.DataFrame:
    return pd.read_csv(DEMO).dropna(subset=["topic"]).reset_index(drop=True)


# ------------------------------------------------------------------------ proportions
def test_plan_is_exact_per_stratum_and_total():
    frame = labelled(103)
    plan = plan_split(frame, label="y", stratify=["who"], ratios=[0.7, 0.2, 0.1], seed=3)
    strata = pd.Series(plan.strata).value_counts()
    for s, counts in plan.manifest["strata"].items():
        for p, r in zip(plan.parts, [0.7, 0.2, 0.1]):
            assert abs(counts[p] - r * strata[s]) < 1
    for p, r in zip(plan.parts, [0.7, 0.2, 0.1]):
        assert abs(plan.manifest["counts"][p] - r * 103) < 1
    ids = sorted(i for rows in plan.rows.values() for i in rows)
    assert ids == list(range(103))


def test_allocate_controlled_rounding_many_tables():
    rng = np.random.default_rng(0)
    for _ in range(300):
        sizes = rng.integers(0, 25, rng.integers(1, 40))
        ratios = [0.6, 0.25, 0.15] if rng.random() < 0.5 else [0.55, 0.45]
        table = allocate(sizes.tolist(), ratios, rng=rng)
        exact = sizes[:, None] * np.array(ratios)[None, :]
        assert (table.sum(axis=1) == sizes).all()
        assert (np.abs(table - exact) < 1).all()
        assert (np.abs(table.sum(axis=0) - exact.sum(axis=0)) < 1).all()


def test_same_seed_same_rows_in_same_order_other_seed_differs():
    frame = labelled(60)
    a = plan_split(frame, label="y", seed=7)
    b = plan_split(frame, label="y", seed=7)
    c = plan_split(frame, label="y", seed=8)
    assert a.rows == b.rows
    assert a.rows != c.rows


def test_groups_never_span_splits_and_stay_balanced():
    frame = labelled(200)
    plan = plan_split(frame, label="y", group="conv", ratios=[0.5, 0.5], seed=1)
    where = plan.assignment()
    for _, rows in frame.groupby("conv").groups.items():
        assert len({where[i] for i in rows}) == 1
    for p in plan.parts:
        assert abs(plan.manifest["counts"][p] - 100) <= 15


def test_two_ratios_give_train_and_test():
    plan = plan_split(labelled(20), label="y", ratios="0.75,0.25")
    assert plan.parts == ("train", "test")
    assert plan.manifest["counts"] == {"train": 15, "test": 5}


def test_rare_class_with_min_stratum_merges_into_other():
    frame = pd.DataFrame({"y": ["common"] * 30 + ["rare"] * 2 + ["odd"]})
    with pytest.raises(WorkbenchError, match=r"'odd' \(1 row\), 'rare' \(2 rows\); pass "
                       r"--min-stratum 3"):
        plan_split(frame, label="y")
    plan = plan_split(frame, label="y", min_stratum=3)
    assert plan.manifest["merged_strata"] == ["odd", "rare"]
    assert plan.manifest["min_stratum"] == 3
    assert plan.manifest["strata"]["other"] == {"train": 2, "validation": 1, "test": 0} or \
        sum(plan.manifest["strata"]["other"].values()) == 3
    assert set(plan.manifest["strata"]) == {"common", "other"}


# -------------------------------------------------------------------------- bad input
BAD = [
    ({"label": "topc"}, r"^--label: no column 'topc' \(did you mean 'topic'\?\); columns: "
     r"id, question, answer, topic, persona, age_group$"),
    ({"label": "topic", "stratify": ["persna"]}, r"^--stratify: no column 'persna' \(did you "
     r"mean 'persona'\?\)"),
    ({"label": "topic", "group": "conv"}, r"^--group: no column 'conv'"),
    ({"label": "topic", "ratios": "0.8,0.3"}, r"^--ratios: must be 2 \(train,test\) or 3 "
     r"\(train,validation,test\) positive numbers that sum to 1; got '0.8,0.3', which sums "
     r"to 1.1$"),
    ({"label": "topic", "ratios": [0.5, -0.2, 0.7]}, r"^--ratios: .*not positive \('0.5,-0.2,0.7'\)"),
    ({"label": "topic", "ratios": "1"}, r"^--ratios: .*got 1 numbers \('1'\)"),
    ({"label": "topic", "ratios": "a,b"}, r"^--ratios: .*got 'a,b'$"),
    ({"label": "topic", "ratios": [0.25] * 4}, r"^--ratios: .*got 4 numbers"),
    ({"label": "topic", "near_threshold": 1.5}, r"^--near-threshold: must be in \(0, 1\]"),
    ({"label": "topic", "stratify": ["topic"]}, r"^--stratify: 'topic' is already the label"),
    ({"label": "topic", "min_stratum": 0}, r"^--min-stratum: must be a positive number"),
]


@pytest.mark.parametrize("kwargs,message", BAD, ids=[m[:30] for _, m in BAD])
def test_bad_inputs_are_named(kwargs, message):
    with pytest.raises(WorkbenchError, match=message):
        plan_split(demo_clean(), **kwargs)


def test_null_labels_say_how_many():
    raw = pd.read_csv(DEMO)
    with pytest.raises(WorkbenchError, match=r"^--label: column 'topic' has 2 null values out "
                       r"of 365 rows; drop or fill them first"):
        plan_split(raw, label="topic")


def test_single_class_and_too_few_rows():
    with pytest.raises(WorkbenchError, match=r"^--label: column 'y' has a single class "
                       r"\('a'\); stratifying needs at least 2$"):
        plan_split(pd.DataFrame({"y": ["a"] * 10}), label="y")
    with pytest.raises(WorkbenchError, match=r"^DATA: 2 rows, fewer than the 3 splits asked "
                       r"for \(train, validation, test\)$"):
        plan_split(pd.DataFrame({"y": ["a", "b"]}), label="y")


def test_strata_too_small_names_crossed_strata():
    frame = pd.DataFrame({"y": ["a"] * 10 + ["b"] * 10, "g": ["m"] * 19 + ["w"]})
    with pytest.raises(WorkbenchError, match=r"^--label: 1 y x g stratum too small to split "
                       r"into 3 \(fewer than 3 rows\): 'b\|w' \(1 row\); pass --min-stratum 3"):
        plan_split(frame, label="y", stratify=["g"])


# ------------------------------------------------------------------ saved, store, CLI
def test_make_split_saves_datasetdict_with_lineage(project, tmp_path):
    from workbench.data import import_dataset
    from workbench.store import Store

    frame = labelled(30)
    frame.to_csv(tmp_path / "lab.csv", index=False)
    dv, _ = import_dataset(project, str(tmp_path / "lab.csv"))
    rep = make_split(project, dv.ref, label="y", seed=5)
    assert rep.path == project.state / "splits" / str(rep.run_id)
    run, dd = load_split(project, f"split:{rep.run_id}")
    assert set(dd) == {"train", "validation", "test"}
    assert run.outputs["path"] == str(rep.path)
    assert run.outputs["manifest"]["dataset"] == {"name": "lab", "version": dv.version}
    for part in dd:
        df = dd[part].to_pandas()
        assert list(df.columns) == [*frame.columns, "_row_id"]
        assert str(df["_row_id"].dtype) == "int64"
        assert df["_row_id"].tolist() == rep.plan.rows[part]
        pd.testing.assert_frame_equal(df.drop(columns="_row_id").reset_index(drop=True),
                                      frame.iloc[rep.plan.rows[part]].reset_index(drop=True),
                                      check_dtype=False)
    lineage = Store.for_project(project).lineage(("run", rep.run_id))
    assert lineage["parents"] == [{"type": "dataset", "id": dv.ref, "relation": "split"}]
    assert split_frame(project, rep.run_id, "train")["_row_id"].tolist() == rep.plan.rows["train"]
    assert len(split_frame(project, f"split:{rep.run_id}:test")) == rep.manifest["counts"]["test"]
    assert [r.id for r in list_splits(project)] == [rep.run_id]


def test_unknown_split_and_part(project, tmp_path):
    with pytest.raises(WorkbenchError, match=r"^no split with id 9; stored splits: none"):
        load_split(project, "split:9")
    labelled(20).to_csv(tmp_path / "lab.csv", index=False)
    rep = make_split(project, str(tmp_path / "lab.csv"), label="y", ratios="0.5,0.5")
    with pytest.raises(WorkbenchError, match=rf"^split {rep.run_id} has no part 'validation'"
                       r".*; it has: train, test$"):
        split_frame(project, rep.run_id, "validation")
    with pytest.raises(WorkbenchError, match=rf"^no split with id 99; stored splits: "
                       rf"{rep.run_id}$"):
        split_frame(project, 99)
    with pytest.raises(WorkbenchError, match=r"^'split:x' is not a split reference"):
        parse_split_ref("split:x")
    assert parse_split_ref("split:3:test") == (3, "test")
    assert parse_split_ref(4) == (4, None)


@pytest.mark.slow
def test_cli_split_show_list_and_exit_codes(project, tmp_path):
    demo = demo_clean()
    demo.to_csv(tmp_path / "support.csv", index=False)
    env = {"WORKBENCH_PROJECT": str(project.root)}
    proc = run_cli("split", str(tmp_path / "support.csv"), "--label", "topic", "--stratify",
                   "persona", "--seed", "1", "--json", str(tmp_path / "m.json"), env=env)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "m.json").read_text())
    assert set(manifest) >= {"dataset", "seed", "ratios", "counts", "strata", "leakage"}
    assert manifest["counts"] == {"train": 290, "validation": 37, "test": 36} or \
        sum(manifest["counts"].values()) == 363
    assert "weather|woman" in proc.stdout and "saved split" in proc.stdout
    show = run_cli("split", "show", str(manifest["run_id"]), "--json", "-", env=env)
    assert show.returncode == 0 and json.loads(show.stdout[show.stdout.index("{"):]) == manifest
    assert "weather|woman" in show.stderr  # human text moves to stderr under --json -
    lst = run_cli("split", "list", env=env)
    assert lst.returncode == 0 and "support" in lst.stdout
    bad = run_cli("split", "show", "42", env=env)
    assert bad.returncode == 2 and bad.stderr.strip() == (
        f"error: no split with id 42; stored splits: {manifest['run_id']}")
    raw = run_cli("split", str(DEMO), "--label", "topic", env=env)
    assert raw.returncode == 2 and "has 2 null values" in raw.stderr
    assert "Traceback" not in raw.stderr
