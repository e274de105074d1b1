"""The planted-bias demo's own-question probe set (probesets/support_gender_qa.yaml)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from workbench.probes import resolve_probes
from workbench.splits import probe_overlap

ROOT = Path(__file__).resolve().parents[2]
PATH = ROOT / "probesets" / "support_gender_qa.yaml"
DATA = ROOT / "workbench" / "demo" / "support_qa_bias.csv"


def test_support_gender_qa_parses_fills_and_stays_out_of_the_data(project):
    plan = resolve_probes(project, str(PATH))
    assert (plan.name, plan.attribute, plan.groups) == ("support_gender_qa", "gender",
                                                       ["woman", "man"])
    # 24 questions x 3 phrasings x 6 subjects; every template has its text and 2 variants
    assert (plan.n_contexts, plan.n_phrasings, len(plan.prompts)) == (24, 3, 432)
    per_template = pd.Series([p.phrasing for p in plan.prompts]).groupby(
        [p.template for p in plan.prompts]).nunique()
    assert (per_template == 3).all() and len(per_template) == 24
    assert not [p.text for p in plan.prompts if re.search(r"[{}]", p.text)]
    # inside a sentence the subject is lower-cased; no pronoun gives the group away
    assert "What should my wife do?" in {p.text.split(". ")[-1] for p in plan.prompts}
    assert not [p.text for p in plan.prompts
                if re.search(r"\b(she|he|her|his|him)\b", p.text, re.IGNORECASE)]
    # within a context and phrasing, the two groups' prompts differ only in the subject
    by_key: dict[tuple, set[str]] = {}
    for p in plan.prompts:
        by_key.setdefault((p.context, p.phrasing), set()).add(
            re.sub(re.escape(p.phrase), "S", p.text, flags=re.IGNORECASE))
    assert all(len(v) == 1 for v in by_key.values())
    assert {c.group for c in plan.controls} == {"woman", "man"} and len(plan.controls) == 24
    # new wordings of the data's questions: the split's leakage check finds none in it
    data = pd.read_csv(DATA)
    assert probe_overlap(data, ["question"], [p.text for p in plan.prompts]) == {}
