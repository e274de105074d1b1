"""Splits: exact stratified proportions, groups, seeds, the saved DatasetDict, bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, run_cli
from workbench.core.errors import ConfigError, DataError, NotFoundError, WorkbenchError
from workbench.splits import (
    allocate,
    list_splits,
    load_split,
    make_split,
    parse_split_ref,
    plan_split,
    split_frame,
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
    with pytest.raises(WorkbenchError, match=r"'odd' \(1 row\), 'rare' \(2 rows\); set the "
                       r"minimum stratum size to 3"):
        plan_split(frame, label="y")
    plan = plan_split(frame, label="y", min_stratum=3)
    assert plan.manifest["merged_strata"] == ["odd", "rare"]
    assert plan.manifest["min_stratum"] == 3
    other = plan.manifest["strata"]["other"]  # 2.4, 0.3, 0.3: the extra row is held out
    assert other["train"] == 2 and other["validation"] + other["test"] == 1
    assert set(plan.manifest["strata"]) == {"common", "other"}


# -------------------------------------------------------------------------- bad input
BAD = [
    ({"label": "topc"}, r"^label: no column 'topc' \(did you mean 'topic'\?\); columns: "
     r"id, question, answer, topic, persona, age_group$"),
    ({"label": "topic", "stratify": ["persna"]}, r"^stratify: no column 'persna' \(did you "
     r"mean 'persona'\?\)"),
    ({"label": "topic", "group": "conv"}, r"^group: no column 'conv'"),
    ({"label": "topic", "ratios": "0.8,0.3"}, r"^ratios: must be 2 \(train,test\) or 3 "
     r"\(train,validation,test\) positive numbers that sum to 1; got '0.8,0.3', which sums "
     r"to 1.1$"),
    ({"label": "topic", "ratios": [0.5, -0.2, 0.7]}, r"^ratios: .*not positive \('0.5,-0.2,0.7'\)"),
    ({"label": "topic", "ratios": "1"}, r"^ratios: .*got 1 numbers \('1'\)"),
    ({"label": "topic", "ratios": "a,b"}, r"^ratios: .*got 'a,b'$"),
    ({"label": "topic", "ratios": [0.25] * 4}, r"^ratios: .*got 4 numbers"),
    ({"label": "topic", "near_threshold": 1.5}, r"^near threshold: must be in \(0, 1\]"),
    ({"label": "topic", "stratify": ["topic"]}, r"^stratify: 'topic' is already the label"),
    ({"label": "topic", "min_stratum": 0}, r"^min stratum: must be a positive number"),
    ({"label": "persona", "text_columns": ["topic"], "dedupe": True},
     r"^dedupe: keeping duplicate clusters together leaves split 'test' empty; use "
     r"smaller groups or other ratios$"),
    ({"label": "topic", "group": "persona"}, r"^group: keeping groups of 'persona' "
     r"together leaves split 'validation' empty; use smaller groups or other ratios$"),
    ({"label": "topic", "group": "persona", "ratios": [0.25, 0.25, 0.5], "min_stratum": 1},
     None),
    ({"label": "topic", "group": "id", "ratios": "0.998,0.001,0.001"},
     r"^group: keeping groups of 'id' together leaves split '(validation|test)' empty"),
    ({"label": "topic", "ratios": "0.998,0.001,0.001"}, r"^ratios: split 'validation' gets "
     r"no rows \(0.001 x 363 rows rounds to 0\); use a larger ratio or more data$"),
]


@pytest.mark.parametrize("kwargs,message", BAD, ids=[(m or "ok")[:30] for _, m in BAD])
def test_bad_inputs_are_named(kwargs, message):
    if message is None:  # the control case: it works
        plan_split(demo_clean(), leakage=False, **kwargs)
        return
    with pytest.raises(WorkbenchError, match=message):
        plan_split(demo_clean(), **kwargs)


def test_null_labels_say_how_many():
    raw = pd.read_csv(DEMO)
    with pytest.raises(WorkbenchError, match=r"^label: column 'topic' has 2 null values out "
                       r"of 365 rows; drop or fill them first"):
        plan_split(raw, label="topic")


def test_single_class_and_too_few_rows():
    with pytest.raises(WorkbenchError, match=r"^label: column 'y' has a single class "
                       r"\('a'\); stratifying needs at least 2$"):
        plan_split(pd.DataFrame({"y": ["a"] * 10}), label="y")
    with pytest.raises(DataError, match=r"^data: 2 rows, fewer than the 3 splits asked "
                       r"for \(train, validation, test\)$") as err:
        plan_split(pd.DataFrame({"y": ["a", "b"]}), label="y")
    assert err.value.param == "data"  # the CLI names its DATA argument


def test_dedupe_needs_text_and_keeps_exact_split_without_duplicates():
    frame = pd.DataFrame({"y": ["a", "b"] * 10, "n": range(20)})
    with pytest.raises(WorkbenchError, match=r"^dedupe: no free-text column to find "
                       r"duplicates in; name the text columns$"):
        plan_split(frame, label="y", dedupe=True)
    texts = frame.assign(t=[f"entirely different sentence {i} " * (i + 1) for i in range(20)])
    a = plan_split(texts, label="y", dedupe=True, ratios="0.5,0.5", seed=2)
    b = plan_split(texts, label="y", ratios="0.5,0.5", seed=2)
    assert a.rows == b.rows  # nothing to keep together: the exact allocation is used


def test_groups_keep_strata_balanced():
    frame = labelled(400, seed=3).assign(conv=lambda d: np.arange(len(d)) // 4)
    plan = plan_split(frame, label="y", stratify=["who"], group="conv",
                      ratios=[0.6, 0.2, 0.2], seed=0, leakage=False)
    sizes = pd.Series(plan.strata).value_counts()
    for s, counts in plan.manifest["strata"].items():
        for p, r in zip(plan.parts, [0.6, 0.2, 0.2]):
            assert abs(counts[p] - r * sizes[s]) <= 4, (s, counts)  # at most one group off


def test_fewer_groups_than_splits():
    frame = pd.DataFrame({"y": ["a", "b"] * 10, "conv": [1, 2] * 10})
    with pytest.raises(WorkbenchError, match=r"^group: 'conv' has 2 distinct values, fewer "
                       r"than the 3 splits asked for$"):
        plan_split(frame, label="y", group="conv")


def test_strata_too_small_names_crossed_strata():
    frame = pd.DataFrame({"y": ["a"] * 10 + ["b"] * 10, "g": ["m"] * 19 + ["w"]})
    with pytest.raises(WorkbenchError, match=r"^label: 1 y x g stratum too small to split "
                       r"into 3 \(fewer than 3 rows\): 'b\|w' \(1 row\); set the minimum stratum "
                       r"size to 3"):
        plan_split(frame, label="y", stratify=["g"])


# ------------------------------------------------------------------ saved, store, CLI
def test_make_split_saves_datasetdict_with_lineage(project, tmp_path):
    from workbench.core.store import Store
    from workbench.data import import_dataset

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
    with pytest.raises(NotFoundError, match=rf"^split {rep.run_id} has no part 'validation'"
                       r".*; it has: train, test$"):
        split_frame(project, rep.run_id, "validation")
    with pytest.raises(WorkbenchError, match=rf"^no split with id 99; stored splits: "
                       rf"{rep.run_id}$"):
        split_frame(project, 99)
    with pytest.raises(ConfigError, match=r"^'split:x' is not a split reference"):
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
    assert list(manifest["counts"]) == ["train", "validation", "test"]
    assert all(abs(manifest["counts"][p] - r * 363) < 1
               for p, r in zip(manifest["counts"], [0.8, 0.1, 0.1]))
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
    pd.DataFrame({"y": ["a", "b"]}).to_csv(tmp_path / "two.csv", index=False)
    few = run_cli("split", str(tmp_path / "two.csv"), "--label", "y", env=env)
    assert few.returncode == 2 and few.stderr.strip() == (  # the library's "data:" is DATA here
        "error: DATA: 2 rows, fewer than the 3 splits asked for (train, validation, test)")


# ------------------------------------------------------------------ property tests
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def frames_and_ratios(draw):
    n = draw(st.integers(3, 150))
    n_labels = draw(st.integers(2, 5))
    n_attr = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.ones(n_labels) * 0.7)
    y = rng.choice([f"c{i}" for i in range(n_labels)], n, p=weights)
    y[:2] = ["c0", "c1"]  # at least two classes
    attr = rng.choice([f"g{i}" for i in range(n_attr)], n)
    k = draw(st.sampled_from([2, 3]))
    cuts = sorted(draw(st.lists(st.integers(1, 99), min_size=k - 1, max_size=k - 1,
                                unique=True)))
    ratios = [b - a for a, b in zip([0, *cuts], [*cuts, 100])]
    return pd.DataFrame({"y": y, "a": attr}), [r / 100 for r in ratios]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=frames_and_ratios(), seed=st.integers(0, 10_000))
def test_property_exact_strata_union_and_seed(data, seed):
    frame, ratios = data
    k = len(ratios)
    try:
        plan = plan_split(frame, label="y", stratify=["a"], ratios=ratios, seed=seed,
                          min_stratum=k, leakage=False)
    except WorkbenchError as exc:
        assert min(ratios) * len(frame) < 1, exc  # a split would get no rows at all
        assert "rounds to 0" in str(exc)
        return
    sizes = pd.Series(plan.strata).value_counts()
    for s, counts in plan.manifest["strata"].items():
        for p, r in zip(plan.parts, ratios):
            assert abs(counts[p] - r * sizes[s]) < 1 + 1e-9, (s, counts, r)
    for p, r in zip(plan.parts, ratios):
        assert abs(plan.manifest["counts"][p] - r * len(frame)) < 1 + 1e-9
    ids = [i for p in plan.parts for i in plan.rows[p]]
    assert sorted(ids) == list(range(len(frame)))  # union is the input, no row twice
    again = plan_split(frame, label="y", stratify=["a"], ratios=ratios, seed=seed,
                       min_stratum=k, leakage=False)
    assert again.rows == plan.rows
    if len(frame) >= 20 and min(ratios) * len(frame) >= 1:  # else a split may be empty
        other = plan_split(frame, label="y", stratify=["a"], ratios=ratios, seed=seed + 1,
                           min_stratum=k, leakage=False)
        assert other.rows != plan.rows


@settings(max_examples=60, deadline=None)
@given(data=frames_and_ratios(), n_groups=st.integers(3, 40), seed=st.integers(0, 10_000))
def test_property_groups_never_span_splits(data, n_groups, seed):
    frame, ratios = data
    rng = np.random.default_rng(seed)
    frame = frame.assign(conv=rng.integers(0, n_groups, len(frame)))
    try:
        plan = plan_split(frame, label="y", group="conv", ratios=ratios, seed=seed,
                          min_stratum=1, leakage=False)
    except WorkbenchError as exc:  # too few groups, or a split left empty: said plainly
        assert str(exc).startswith(("group: ", "ratios: "))  # never a crash
        return
    where = plan.assignment()
    for rows in frame.groupby("conv").groups.values():
        assert len({where[i] for i in rows}) == 1
    assert sorted(i for p in plan.parts for i in plan.rows[p]) == list(range(len(frame)))
    assert all(plan.rows[p] for p in plan.parts)


def test_docstring_examples_run():
    import doctest

    import workbench.splits._leakage
    import workbench.splits._split

    for mod in (workbench.splits._split, workbench.splits._leakage):
        assert doctest.testmod(mod).failed == 0


# ---------------------------------------------------------------------- conversations
def chats(n: int = 24) -> pd.DataFrame:
    """``n`` multi-turn conversations with a topic to stratify on; rows 1 and 2 hold the
    same turns (row 2 with an extra key), row 3 the same user text as row 0 but a
    different answer."""
    rows = []
    for i in range(n):
        rows.append([{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": f"Order {i} has not arrived, what now?"},
                     {"role": "assistant", "content": f"Order {i} ships on day {i % 7}."},
                     {"role": "user", "content": "Thanks!"},
                     {"role": "assistant", "content": "You are welcome."}])
    rows[2] = [dict(t, name="x") if t["role"] == "system" else dict(t) for t in rows[1]]
    rows[2][0].pop("name")
    rows[3] = [dict(t) for t in rows[0]]
    rows[3][2]["content"] = "A totally different reply about refunds and returns policy."
    return pd.DataFrame({"id": [f"c{i}" for i in range(n)],
                         "topic": ["billing" if i % 3 else "shipping" for i in range(n)],
                         "messages": rows})


def test_conversations_split_whole_and_stratified_on_another_column(project, tmp_path):
    from workbench.data import import_dataset, parse_messages

    frame = chats()
    path = tmp_path / "chat.jsonl"
    frame.to_json(path, orient="records", lines=True)
    dv, _ = import_dataset(project, str(path))
    rep = make_split(project, dv.ref, label="topic", ratios=[0.5, 0.5], seed=3)
    assert rep.manifest["strata"] == {"billing": {"train": 8, "test": 8},
                                      "shipping": {"train": 4, "test": 4}}
    assert rep.manifest["leakage"]["text_columns"] == ["messages"]  # found by itself
    _, dd = load_split(project, rep.run_id)
    for part in ("train", "test"):
        df = dd[part].to_pandas()
        for rid, m in zip(df["_row_id"], df["messages"]):  # every turn of every row
            assert parse_messages(m) == frame["messages"][rid]


def test_leakage_compares_conversations_by_their_turns():
    plan = plan_split(chats(), label="topic", ratios=[0.5, 0.5], seed=0)
    lk = plan.manifest["leakage"]
    assert lk["exact"]["clusters"] == 1  # rows 1 and 2: the same turns, stored apart
    assert lk["exact"]["examples"][0]["rows"] == [1, 2]
    # compared as turns ("role: content" per turn), not as the stored structure
    assert lk["exact"]["examples"][0]["text"].startswith("system: be brief. user: order 1 ")
    assert [0, 3] not in [e["rows"] for e in lk["near"]["examples"]]  # other answer
    dedup = plan_split(chats(), label="topic", ratios=[0.5, 0.5], dedupe=True)
    assert dedup.assignment()[1] == dedup.assignment()[2]


@pytest.mark.parametrize("kwargs,message", [
    ({"label": "messages"}, r"^label: column 'messages' holds conversations; a whole "
                            r"conversation is one row, so stratify or group on another "
                            r"column \(id, topic\)"),
    ({"label": "topic", "stratify": ["messages"]}, r"^stratify: column 'messages' holds"),
    ({"label": "topic", "group": "messages"}, r"^group: column 'messages' holds"),
])
def test_conversation_columns_are_not_strata(kwargs, message):
    with pytest.raises(ConfigError, match=message) as err:
        plan_split(chats(), **kwargs)
    assert err.value.param == message[1:].split(":")[0]  # the CLI shows it as --label etc.


def test_counterfactual_twins_stay_with_their_source_rows(tmp_path):
    from workbench.checks import load_suite
    from workbench.clean import clean_frame

    rules = tmp_path / "cf.yaml"
    for id_line, frame in (("id_column: id\n", chats()), ("", chats().drop(columns="id"))):
        frame["messages"] = [[dict(t, content=t["content"] + (" She paid." if i % 2 else ""))
                              for t in m] for i, m in enumerate(frame["messages"])]
        rules.write_text(id_line + "clean:\n  - {type: counterfactual_augment, "
                         "columns: [messages]}\n")
        out, _ = clean_frame(frame, load_suite(rules, check_types=False,
                                               require_expectations=False))
        assert len(out) == 36
        for seed in range(3):
            plan = plan_split(out, label="topic", seed=seed)
            part = plan.assignment()
            src = {v: p for p, v in enumerate(out["id"])} if id_line else None
            for t in range(24, 36):
                mark = out["counterfactual_of"][t]
                assert part[t] == part[src[mark] if src else int(mark)]
            assert plan.manifest["counterfactual_twins"]["rows"] == 12


def test_a_file_of_nothing_but_conversations_splits_at_random(project, tmp_path):
    """OpenAI's fine-tuning format holds only ``messages``: no other column to stratify
    on. Without --label the split is a plain random one, each conversation whole."""
    rows = [{"messages": [{"role": "user", "content": f"Question {i}?"},
                          {"role": "assistant", "content": f"Answer number {i}."}]}
            for i in range(20)]
    src = tmp_path / "chat.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    env = {"WORKBENCH_PROJECT": str(project.root)}
    assert run_cli("data", "import", str(src), "--name", "chat", env=env).returncode == 0
    refused = run_cli("split", "chat", "--label", "messages", env=env)
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith("column (none); or leave the label out for a "
                                           "random split")
    r = run_cli("split", "chat", "--seed", "0", env=env)
    assert r.returncode == 0, r.stderr
    assert "label=(none: random split)" in r.stdout
    assert "all      16     2           2     20" in r.stdout
    plan = plan_split(pd.DataFrame(rows), label=None, seed=0)
    assert plan.manifest["label"] is None and plan.manifest["counts"] == {
        "train": 16, "validation": 2, "test": 2}
    assert sorted(i for p in plan.parts for i in plan.rows[p]) == list(range(20))
    again = plan_split(pd.DataFrame(rows), label=None, seed=0)
    assert again.rows == plan.rows  # reproducible
    # with strata only, still stratified on them
    frame = pd.DataFrame(rows).assign(topic=["ab"[i % 2] for i in range(20)])
    strat = plan_split(frame, label=None, stratify=["topic"], ratios=[0.5, 0.5], seed=0)
    assert strat.manifest["strata"] == {"a": {"train": 5, "test": 5},
                                        "b": {"train": 5, "test": 5}}
