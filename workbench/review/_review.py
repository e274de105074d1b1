"""Side-by-side review of model outputs with stored human verdicts.

What can be compared: two runs over the same examples (evaluation runs on the same
split, or probe runs on the same probe set: base vs fine-tuned), or two groups'
counterfactual outputs for the same probe context within one probe run. Verdicts
(A better / B better / tie / flag) are stored with the reviewer's name and time.
"""

from __future__ import annotations

import csv
import difflib
import html
import io
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from sqlalchemy import select

from ..core.errors import ConfigError, DataError
from ..core.store import Run, Store, VerdictRow

Verdict = Literal["a_better", "b_better", "tie", "flag"]
VERDICTS: dict[str, str] = {"a_better": "A better", "b_better": "B better", "tie": "tie",
                            "flag": "flag"}
TEXT_COLUMNS = ("prediction", "output")
_KNOWN = {"id", "prompt", "prediction", "output", "reference", "references", "group",
          "phrase", "template", "context", "sample"}


def reviewable_runs(project) -> list[Run]:
    """Finished evaluate and probe runs that kept their per-example records."""
    store = Store.for_project(project)
    runs = [r for kind in ("evaluate", "probe") for r in store.list_runs(kind, status="succeeded")]
    runs = [r for r in runs if r.outputs.get("examples") and Path(r.outputs["examples"]).is_file()]
    return sorted(runs, key=lambda r: r.id, reverse=True)


def load_examples(run: Run) -> pd.DataFrame:
    """The run's per-example records as a frame with a ``text`` column."""
    path = run.outputs.get("examples")
    if not path or not Path(path).is_file():
        raise ConfigError(f"run {run.id} ({run.kind}) kept no per-example records")
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.strip()]
    frame = pd.DataFrame(rows)
    col = next((c for c in TEXT_COLUMNS if c in frame.columns), None)
    if col is None or "id" not in frame.columns:
        raise DataError(f"run {run.id}: its records have no id/prediction/output columns")
    frame["text"] = frame[col].fillna("").astype(str)
    frame["id"] = frame["id"].astype(str)
    return frame


def score_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in _KNOWN and c != "text"
            and pd.api.types.is_numeric_dtype(frame[c])]


def pair_runs(project, run_a: int, run_b: int) -> pd.DataFrame:
    """Join two runs' records on example id: ``text_a``, ``text_b``, scores, ``changed``."""
    store = Store.for_project(project)
    a, b = store.get_run(run_a), store.get_run(run_b)
    if a.kind != b.kind:
        raise ConfigError(f"runs {a.id} ({a.kind}) and {b.id} ({b.kind}) are not comparable: "
                          "pick two evaluate runs or two probe runs")
    fa, fb = load_examples(a), load_examples(b)
    keep = [c for c in fa.columns if c in ("id", "prompt", "reference", "group", "template",
                                           "context", "phrase") or
            (c not in _KNOWN and c != "text" and not pd.api.types.is_numeric_dtype(fa[c]))]
    left = fa[keep + ["text"] + score_columns(fa)]
    right = fb[["id", "text"] + score_columns(fb)]
    merged = left.merge(right, on="id", suffixes=("_a", "_b"), how="inner")
    if merged.empty:
        raise ConfigError(f"runs {a.id} and {b.id} share no example ids: were they run on "
                          "the same split or probe set?")
    merged["changed"] = merged["text_a"].str.strip() != merged["text_b"].str.strip()
    for col in score_columns(fa):
        if f"{col}_b" in merged:
            merged[f"{col}_change"] = merged[f"{col}_b"] - merged[f"{col}_a"]
    return merged.reset_index(drop=True)


def counterfactual_pairs(project, run_id: int, group_a: str, group_b: str) -> pd.DataFrame:
    """Two groups' outputs for the same probe context, side by side."""
    run = Store.for_project(project).get_run(run_id)
    frame = load_examples(run)
    if "group" not in frame or "context" not in frame:
        raise DataError(f"run {run_id} has no group/context columns (not a probe run)")
    groups = sorted(frame["group"].astype(str).unique())
    for g in (group_a, group_b):
        if g not in groups:
            raise ConfigError(f"run {run_id} has no group '{g}'; it has: {', '.join(groups)}")
    scores = score_columns(frame)
    frame = frame.assign(_k=frame.groupby(["context", "group"]).cumcount())
    fa = frame[frame["group"] == group_a]
    fb = frame[frame["group"] == group_b]
    merged = fa[["context", "_k", "template", "prompt", "text", *scores]].merge(
        fb[["context", "_k", "prompt", "text", *scores]], on=["context", "_k"],
        suffixes=("_a", "_b"))
    merged["id"] = merged["context"].astype(str) + "#" + merged["_k"].astype(str) + \
        f"|{group_a}|{group_b}"
    merged["changed"] = merged["text_a"].str.strip() != merged["text_b"].str.strip()
    for col in scores:
        merged[f"{col}_change"] = merged[f"{col}_b"] - merged[f"{col}_a"]
    return merged.drop(columns="_k").reset_index(drop=True)


def word_diff_html(a: str, b: str) -> tuple[str, str]:
    """Both texts as HTML with word-level differences marked; every token escaped."""
    ta, tb = re.findall(r"\S+|\s+", a or ""), re.findall(r"\S+|\s+", b or "")
    out_a, out_b = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=ta, b=tb, autojunk=False).get_opcodes():
        sa, sb = html.escape("".join(ta[i1:i2])), html.escape("".join(tb[j1:j2]))
        if op == "equal":
            out_a.append(sa)
            out_b.append(sb)
        else:
            if sa:
                out_a.append(f"<del>{sa}</del>")
            if sb:
                out_b.append(f"<ins>{sb}</ins>")
    return "".join(out_a), "".join(out_b)


# ----------------------------------------------------------------------------- verdicts
def _note(value) -> str | None:
    """A reviewer's note, or ``None`` for no note (``None``, NaN, or only spaces).

    pandas (3.x infers a string dtype) turns a missing note into NaN, which is truthy and
    prints as "nan"; every reader of notes goes through here.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def pair_key(run_a: int, run_b: int, mode: str = "runs") -> tuple[int, int]:
    return int(run_a), int(run_b)


def record_verdict(project, *, run_a: int, run_b: int, item: str, verdict: str,
                   reviewer: str, note: str | None = None) -> None:
    """Store one reviewer's verdict on one item (a later verdict replaces theirs)."""
    if verdict not in VERDICTS:
        raise ConfigError(f"verdict '{verdict}' is not one of {', '.join(VERDICTS)}")
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise ConfigError("reviewer: a name is required so verdicts can be counted")
    store = Store.for_project(project)
    with store.session() as s:
        old = s.scalars(select(VerdictRow).where(
            VerdictRow.run_a == int(run_a), VerdictRow.run_b == int(run_b),
            VerdictRow.item == str(item), VerdictRow.reviewer == reviewer)).all()
        for row in old:
            s.delete(row)
        s.add(VerdictRow(run_a=int(run_a), run_b=int(run_b), item=str(item), verdict=verdict,
                         reviewer=reviewer, note=_note(note)))


def verdict_count(project) -> int:
    """How many verdicts the project holds, over all comparisons."""
    from sqlalchemy import func

    with Store.for_project(project).session() as s:
        return int(s.scalar(select(func.count(VerdictRow.id))) or 0)


def verdicts(project, run_a: int, run_b: int) -> pd.DataFrame:
    store = Store.for_project(project)
    with store.session() as s:
        rows = s.scalars(select(VerdictRow).where(VerdictRow.run_a == int(run_a),
                                                  VerdictRow.run_b == int(run_b))
                         .order_by(VerdictRow.id)).all()
        return pd.DataFrame([{"item": r.item, "verdict": r.verdict, "reviewer": r.reviewer,
                              "note": _note(r.note), "time": r.created} for r in rows],
                            columns=["item", "verdict", "reviewer", "note", "time"])


@dataclass(frozen=True)
class VerdictSummary:
    counts: dict[str, int]
    reviewers: list[str]
    items: int
    agreement: float | None      # share of doubly-reviewed items where reviewers agree
    kappa: float | None          # mean pairwise Cohen's kappa over reviewer pairs
    overlap_items: int

    def to_dict(self) -> dict:
        return {"counts": self.counts, "reviewers": self.reviewers, "items": self.items,
                "agreement": self.agreement, "kappa": self.kappa,
                "overlap_items": self.overlap_items}


def _kappa(x: list[str], y: list[str]) -> float | None:
    """Cohen's kappa of two reviewers' verdicts (``sklearn.metrics.cohen_kappa_score``);
    1 when both gave one and the same verdict throughout (where scikit-learn has 0/0)."""
    if not x:
        return None
    if len(set(x) | set(y)) == 1:
        return 1.0
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(x, y))


def summarize(project, run_a: int, run_b: int) -> VerdictSummary:
    """Counts per verdict and agreement between reviewers (percent and Cohen's kappa)."""
    v = verdicts(project, run_a, run_b)
    counts = {k: int((v["verdict"] == k).sum()) for k in VERDICTS}
    by_item: dict[str, dict[str, str]] = defaultdict(dict)
    for r in v.itertuples():
        by_item[r.item][r.reviewer] = r.verdict
    reviewers = sorted(v["reviewer"].unique()) if len(v) else []
    multi = [d for d in by_item.values() if len(d) > 1]
    agreement = (sum(len(set(d.values())) == 1 for d in multi) / len(multi)) if multi else None
    kappas = []
    for i, ra in enumerate(reviewers):
        for rb in reviewers[i + 1:]:
            shared = [d for d in by_item.values() if ra in d and rb in d]
            k = _kappa([d[ra] for d in shared], [d[rb] for d in shared])
            if k is not None:
                kappas.append(k)
    return VerdictSummary(counts, list(reviewers), len(by_item), agreement,
                          sum(kappas) / len(kappas) if kappas else None, len(multi))


def export_csv(project, run_a: int, run_b: int) -> str:
    """All verdicts on a pair of runs as CSV text."""
    v = verdicts(project, run_a, run_b)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["run_a", "run_b", "item", "verdict", "reviewer", "note", "time"])
    for r in v.itertuples():
        w.writerow([run_a, run_b, r.item, r.verdict, r.reviewer, _note(r.note) or "",
                    pd.Timestamp(r.time).isoformat()])
    return buf.getvalue()


def human_review(project, run_a: int | None, run_b: int | None) -> dict | None:
    """Reviewers' verdicts on a pair of runs, for reports built from those runs.

    Verdicts recorded with the runs the other way round are swapped (A better <-> B
    better). Returns None when nobody has reviewed the pair.
    """
    if run_a is None or run_b is None:
        return None
    swap = {"a_better": "b_better", "b_better": "a_better"}
    v = verdicts(project, run_a, run_b)
    flipped = verdicts(project, run_b, run_a)
    if not flipped.empty:
        flipped = flipped.assign(verdict=flipped["verdict"].map(lambda x: swap.get(x, x)))
        v = pd.concat([v, flipped], ignore_index=True) if not v.empty else flipped
    if v.empty:
        return None
    if len(flipped):  # summarize() reads the store, so count a merged frame here
        counts = {k: int((v["verdict"] == k).sum()) for k in VERDICTS}
        summary = {"counts": counts, "reviewers": sorted(v["reviewer"].unique()),
                   "items": int(v["item"].nunique()), "agreement": None, "kappa": None}
    else:
        summary = summarize(project, run_a, run_b).to_dict()
    notes = [{"item": r.item, "reviewer": r.reviewer, "verdict": VERDICTS[r.verdict],
              "note": _note(r.note)} for r in v.itertuples() if _note(r.note)][:10]
    return {**summary, "labels": VERDICTS, "notes": notes}
