"""Leakage checks: exact and near duplicates across splits, probe prompts, --dedupe."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import run_cli
from workbench.core.errors import WorkbenchError
from workbench.probes import probe_prompts
from workbench.splits import (
    find_duplicates,
    leakage_rows,
    make_split,
    pick_text_columns,
    plan_split,
    probe_overlap,
)
from workbench.splits._leakage import normalise

PROBESET = """
name: occupation_gender
version: 2
attribute: gender
groups:
  woman: [The woman, My sister]
  man: [The man]
fillers:
  occupation: [nurse, engineer]
templates:
  - id: worked_as
    text: "{subject} worked as a {occupation} and"
  - "{subject} is good at"
"""


WORDS = ("station battery screen forecast rain wind sensor app account order refund "
         "label courier firmware pole solar panel humidity pressure alert email").split()


def leaky_frame() -> pd.DataFrame:
    import random

    rnd = random.Random(4)
    base = [" ".join(rnd.sample(WORDS, 8)).capitalize() + f" question {i}?" for i in range(30)]
    texts = base + [
        "  " + base[0].upper() + " ",                                 # exact copy of row 0
        base[1][:5] + base[1][6:],                                   # typo of row 1
        "Yesterday the woman worked as a nurse and then went home.",  # a probe prompt
    ]
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "question": texts,
                         "y": (["a", "b"] * 20)[: len(texts)]})


def test_normalise_and_text_columns():
    assert normalise("  Ｈow\tdo I   PAY? ") == "how do i pay?"
    assert normalise(None) == "" and normalise(float("nan")) == ""
    frame = leaky_frame()
    assert pick_text_columns(frame, None, exclude=["y"]) == ["question"]  # ids are not text
    assert pick_text_columns(frame, ["id"]) == ["id"]
    with pytest.raises(WorkbenchError, match=r"^text: no column 'questoin' \(did you mean "
                       r"'question'\?\); columns: id, question, y$"):
        pick_text_columns(frame, ["questoin"])


def test_exact_and_near_duplicates_with_threshold():
    frame = leaky_frame()
    d = find_duplicates(frame, ["question"], near_threshold=0.8)
    assert d.exact == [[0, 30]]
    assert (1, 31) in {(a, b) for a, b, _ in d.near}
    assert d.cluster_of[0] == d.cluster_of[30] and d.cluster_of[1] == d.cluster_of[31]
    strict = find_duplicates(frame, ["question"], near_threshold=0.99)
    assert (1, 31) not in {(a, b) for a, b, _ in strict.near}


def test_report_counts_cross_split_leaks_and_dedupe_removes_them():
    frame = leaky_frame()
    found = None
    for seed in range(20):  # find a seed where the duplicates land apart
        plan = plan_split(frame, label="y", ratios="0.5,0.5", seed=seed)
        if plan.manifest["leakage"]["cross_split"] == 2:
            found = plan
            break
    assert found is not None
    lk = found.manifest["leakage"]
    assert lk["exact"]["clusters"] == 1 and lk["exact"]["cross_split_clusters"] == 1
    assert lk["near"]["cross_split_pairs"] >= 1
    rows = leakage_rows(lk)
    assert {"exact duplicate", "near duplicate"} <= {r["kind"] for r in rows}
    deduped = plan_split(frame, label="y", ratios="0.5,0.5", seed=seed, dedupe=True)
    where = deduped.assignment()
    assert where[0] == where[30] and where[1] == where[31]
    assert deduped.manifest["leakage"]["cross_split"] == 0
    assert deduped.manifest["leakage"]["dedupe"] is True


def test_dedupe_on_demo_keeps_every_cluster_inside_one_split():
    from tests.conftest import ROOT

    demo = pd.read_csv(ROOT / "workbench" / "demo" / "support_qa.csv").dropna(subset=["topic"])
    demo = demo.reset_index(drop=True)
    plan = plan_split(demo, label="topic", stratify=["persona"], seed=0, dedupe=True)
    where = plan.assignment()
    d = find_duplicates(demo, ["question", "answer"])
    for rows in d.exact:
        assert len({where[i] for i in rows}) == 1
    for a, b, _ in d.near:
        assert where[a] == where[b]
    for p, r in zip(plan.parts, [0.8, 0.1, 0.1]):  # still close to the ratios
        assert abs(plan.manifest["counts"][p] - r * len(demo)) <= 0.02 * len(demo)


def test_probe_overlap_and_tolerant_loader(project):
    assert probe_prompts(project).prompts == [] or probe_prompts(project).sources
    (project.root / "probesets").mkdir()
    (project.root / "probesets" / "gender.yaml").write_text(PROBESET)
    (project.root / "probesets" / "broken.yaml").write_text("name: [unclosed\n")
    found = probe_prompts(project)
    assert "The woman worked as a nurse and" in found.prompts
    assert "My sister is good at" in found.prompts
    assert "occupation_gender@v2" in found.sources
    assert any(s.startswith("broken.yaml: ") for s in found.skipped)
    frame = leaky_frame()
    hits = probe_overlap(frame, ["question"], found.prompts)
    assert hits == {32: "The woman worked as a nurse and"}
    plan = plan_split(frame, label="y", probe_prompts=found.prompts)
    po = plan.manifest["leakage"]["probe_overlap"]
    assert po["rows"] == 1 and po["examples"][0]["row"] == 32


@pytest.mark.slow
def test_cli_leakage_fail_on_leak_and_probe_sets(project, tmp_path):
    (project.root / "probesets").mkdir()
    (project.root / "probesets" / "gender.yaml").write_text(PROBESET)
    leaky_frame().to_csv(tmp_path / "leaky.csv", index=False)
    env = {"WORKBENCH_PROJECT": str(project.root)}
    ok = run_cli("split", str(tmp_path / "leaky.csv"), "--label", "y", "--ratios", "0.5,0.5",
                 "--near-threshold", "0.85", "--json", "-", env=env)
    assert ok.returncode == 0, ok.stderr
    manifest = json.loads(ok.stdout)
    assert manifest["leakage"]["near"]["threshold"] == 0.85
    # the project's gender.yaml shadows the bundled set of that name
    assert "occupation_gender@v2" in manifest["leakage"]["probe_overlap"]["probe_sets"]
    assert "gender@v1" not in manifest["leakage"]["probe_overlap"]["probe_sets"]
    assert "1 rows containing one of" in ok.stderr
    gate = run_cli("split", "leaky", "--label", "y", "--ratios", "0.5,0.5", "--dedupe",
                   "--fail-on-leak", env=env)
    assert gate.returncode == 1  # no duplicate crosses, but a probe prompt is in the data
    assert "[--dedupe" in gate.stdout


def test_make_split_records_probe_sets(project, tmp_path):
    leaky_frame().to_csv(tmp_path / "leaky.csv", index=False)
    rep = make_split(project, str(tmp_path / "leaky.csv"), label="y", ratios="0.5,0.5",
                     probe_prompts=probe_prompts(project))
    po = rep.manifest["leakage"]["probe_overlap"]
    assert isinstance(po["probe_sets"], list)  # bundled sets, if any, are listed by name
    assert po["prompts"] == len(probe_prompts(project).prompts)
