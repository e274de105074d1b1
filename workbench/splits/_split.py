"""Stratified, leak-free, reproducible train/validation/test splits.

A split is a run of kind ``"split"`` in the store. Its ``outputs`` hold ``path`` (a
``datasets.DatasetDict`` saved with ``save_to_disk`` under ``<state>/splits/<run id>``)
and ``manifest`` (dataset, seed, ratios, counts per split and per stratum, leakage).
Every part keeps all columns of the source dataset version plus ``_row_id``, the row's
position in that version.

Strata are the label crossed with any extra ``stratify`` columns. Without groups each
stratum is cut by largest-remainder rounding, so every split holds ``ratio x size`` of
each stratum within one row, and the split totals are within one row of ``ratio x rows``
too. With ``group`` (or ``dedupe``) whole groups are placed greedily where they bring
every stratum closest to its target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..core.errors import (
    ConfigError,
    DataError,
    NotFoundError,
    did_you_mean,
)
from ..core.store import DatasetVersion, Run, Store
from ._leakage import ProbePrompts

Part = Literal["train", "validation", "test"]
PARTS_2: tuple[str, ...] = ("train", "test")
PARTS_3: tuple[str, ...] = ("train", "validation", "test")
OTHER = "other"
MARKER = "counterfactual_of"  # the twin-marker column of counterfactual_augment
NULL = "<null>"
STRATUM_SEP = "|"
DEFAULT_RATIOS = (0.8, 0.1, 0.1)


@dataclass(frozen=True)
class SplitPlan:
    """Which rows go where, before anything is saved.

    Attributes
    ----------
    parts : names of the splits, in ratio order
    rows : part -> row positions (in the order the part will be stored)
    strata : stratum name of every input row
    manifest : the manifest without ``dataset`` (filled in by :func:`make_split`)
    """

    parts: tuple[str, ...]
    rows: dict[str, list[int]]
    strata: list[str]
    manifest: dict[str, Any]

    def assignment(self) -> list[str]:
        """The part of every input row, by position."""
        out = [""] * len(self.strata)
        for part, ids in self.rows.items():
            for i in ids:
                out[i] = part
        return out


@dataclass(frozen=True)
class SplitReport:
    """A saved split: its run id, folder and manifest."""

    run_id: int
    path: Path
    manifest: dict[str, Any]
    plan: SplitPlan = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "path": str(self.path), **self.manifest}


# ----------------------------------------------------------------------------- checks
def parse_ratios(ratios: str | Sequence[float]) -> tuple[float, ...]:
    """Validate ``ratios`` (a sequence or ``"0.8,0.1,0.1"``): 2 or 3 positive, summing to 1."""
    shown = ratios if isinstance(ratios, str) else ",".join(f"{r:g}" for r in ratios)
    allowed = ("must be 2 (train,test) or 3 (train,validation,test) positive numbers "
               "that sum to 1")
    try:
        values = tuple(float(x) for x in (ratios.split(",") if isinstance(ratios, str)
                                          else ratios))
    except (TypeError, ValueError):
        raise ConfigError(f"ratios: {allowed}; got '{shown}'", param="ratios") from None
    if len(values) not in (2, 3):
        raise ConfigError(f"ratios: {allowed}; got {len(values)} numbers ('{shown}')",
                          param="ratios")
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise ConfigError(f"ratios: {allowed}; got a number that is not positive "
                          f"('{shown}')", param="ratios")
    if abs(sum(values) - 1) > 1e-6:
        raise ConfigError(f"ratios: {allowed}; got '{shown}', which sums to "
                          f"{sum(values):g}", param="ratios")
    return values


def _check_column(frame: pd.DataFrame, col: str, param: str) -> None:
    if col not in frame.columns:
        cols = [str(c) for c in frame.columns]
        raise DataError(f"{param}: no column '{col}'{did_you_mean(col, cols)}; "
                        f"columns: {', '.join(cols)}", param=param)


def _value_str(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return NULL
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


NO_LABEL = "all"  # the one stratum of a split without a label or strata


def _strata(frame: pd.DataFrame, label: str | None, stratify: Sequence[str]) -> list[str]:
    cols = [c for c in (label, *stratify) if c is not None]
    if not cols:  # no label and no strata: one stratum, a plain random split
        return [NO_LABEL] * len(frame)
    values = [frame[c].map(_value_str).tolist() for c in cols]
    return [STRATUM_SEP.join(t) for t in zip(*values)]


def _check_label_values(values: pd.Series, label: str, n: int) -> None:
    """Refuse a label column with nulls or a single class: stratifying needs 2 classes."""
    nulls = int(values.isna().sum())
    if nulls:
        raise ConfigError(f"label: column '{label}' has {nulls} null value"
                          f"{'s' if nulls != 1 else ''} out of {n} rows; drop or fill "
                          "them first (for example with 'workbench clean')", param="label")
    classes = values.map(_value_str).unique()
    if len(classes) < 2:
        raise ConfigError(f"label: column '{label}' has a single class "
                          f"('{classes[0]}'); stratifying needs at least 2", param="label")


MAX_LISTED = 10  # strata an error names before it counts the rest


def _merge_small(strata: list[str], *, k: int, min_stratum: int | None,
                 label: str | None, stratify: Sequence[str]) -> tuple[list[str], list[str]]:
    """Merge strata under ``min_stratum`` rows into ``other``; refuse ones under ``k``."""
    sizes = pd.Series(strata).value_counts()
    if min_stratum is None:
        small = sizes[sizes < k].sort_index()
        if len(small):
            what = "label" if not stratify else \
                f"{' x '.join(c for c in (label, *stratify) if c is not None)}"
            listed = ", ".join(f"'{s}' ({n} row{'s' if n != 1 else ''})"
                               for s, n in small.head(MAX_LISTED).items())
            if len(small) > MAX_LISTED:  # hundreds of strata: name a few, count the rest
                listed += f" and {len(small) - MAX_LISTED} more"
            raise ConfigError(
                f"label: {len(small)} {what} strat{'a' if len(small) != 1 else 'um'} "
                f"too small to split into {k} (fewer than {k} rows): {listed}; set the "
                f"minimum stratum size to {k} to merge strata under {k} rows into one "
                f"'{OTHER}' stratum", param="label")
        return strata, []
    if min_stratum < 1:
        raise ConfigError(f"min stratum: must be a positive number of rows; got "
                          f"{min_stratum}", param="min_stratum")
    merged = sorted(s for s, n in sizes.items() if n < min_stratum)
    if not merged:
        return strata, []
    if OTHER in sizes.index and OTHER not in merged:
        merged.append(OTHER)  # an existing 'other' stratum joins the merged one
    gone = set(merged)
    return [OTHER if s in gone else s for s in strata], sorted(merged)


# ------------------------------------------------------------------------- allocation
def _fractions(ratios: Sequence[float]) -> list[Fraction]:
    fr = [Fraction(r).limit_denominator(1_000_000) for r in ratios]
    total = sum(fr)
    return [f / total for f in fr]


def _largest_remainder(n: int, ratios: Sequence[Fraction]) -> list[int]:
    """Integers summing to ``n``, each ``floor`` or ``ceil`` of ``ratio * n``."""
    exact = [r * n for r in ratios]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(ratios)), key=lambda j: (-(exact[j] - counts[j]), j))
    for j in order[: n - sum(counts)]:
        counts[j] += 1
    return counts


def allocate(sizes: Sequence[int], ratios: Sequence[float], *,
             rng: np.random.Generator) -> np.ndarray:
    """Controlled rounding of ``sizes x ratios``: an integer table whose rows sum to
    ``sizes``, whose every cell is the floor or ceil of ``size * ratio``, and whose column
    totals are the floor or ceil of ``sum(sizes) * ratio``.

    The remainders form a small transport problem (strata -> splits); it is filled
    greedily in a seeded random order (a stratum's extra row goes first to a split it
    would otherwise miss, so rare strata reach the held-out splits) and completed with
    augmenting paths, which always succeed because the fractional table is a feasible flow.
    """
    fr = _fractions(ratios)
    k, n_s = len(fr), len(sizes)
    table = np.zeros((n_s, k), dtype=np.int64)
    allowed = np.zeros((n_s, k), dtype=bool)
    rest = np.zeros(n_s, dtype=np.int64)
    col_frac = [Fraction(0)] * k
    for s, n in enumerate(sizes):
        for j in range(k):
            x = fr[j] * n
            table[s, j] = math.floor(x)
            allowed[s, j] = x != table[s, j]
            col_frac[j] += x - table[s, j]
        rest[s] = n - table[s].sum()
    extra = np.zeros((n_s, k), dtype=bool)  # which cells get their ceil
    order = rng.permutation(n_s)
    for caps in ([math.floor(c) for c in col_frac], [math.ceil(c) for c in col_frac]):
        room = np.array(caps) - extra.sum(axis=0)
        for s in order:  # greedy: splits the stratum would miss first, then most room
            while rest[s] > 0:
                options = [j for j in range(k) if allowed[s, j] and not extra[s, j]
                           and room[j] > 0]
                if not options:
                    break
                j = max(options, key=lambda c: (table[s, c] == 0, room[c], c))
                extra[s, j], rest[s], room[j] = True, rest[s] - 1, room[j] - 1
        progress = True
        while progress and rest.any():  # augmenting paths through the graph of splits
            progress = False
            for s in order:
                while rest[s] > 0 and _augment(s, extra, allowed, room):
                    rest[s] -= 1
                    progress = True
    if rest.any():  # pragma: no cover - impossible by the flow argument above
        raise RuntimeError("controlled rounding failed")
    return table + extra


def _augment(s: int, extra: np.ndarray, allowed: np.ndarray, room: np.ndarray) -> bool:
    """Find stratum s -> split j0 -> stratum s1 -> split j1 ... -> split with room."""
    k = extra.shape[1]
    start = [j for j in range(k) if allowed[s, j] and not extra[s, j]]
    prev: dict[int, tuple[int, int] | None] = {j: None for j in start}
    queue = list(start)
    while queue:
        j = queue.pop(0)
        if room[j] > 0:
            room[j] -= 1
            while prev[j] is not None:
                s1, j_from = prev[j]  # s1 moves its extra from j_from to j
                extra[s1, j_from], extra[s1, j] = False, True
                j = j_from
            extra[s, j] = True
            return True
        movers = np.flatnonzero(extra[:, j])
        for j2 in range(k):
            if j2 in prev:
                continue
            can = movers[allowed[movers, j2] & ~extra[movers, j2]]
            if len(can):
                prev[j2] = (int(can[0]), j)
                queue.append(j2)
    return False


def _assign_groups(strata_codes: np.ndarray, n_strata: int, groups: np.ndarray,
                   ratios: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """Place whole groups, largest first, where they bring strata closest to target."""
    k, n = len(ratios), len(strata_codes)
    r = np.asarray(ratios, dtype=float)
    sizes = np.bincount(strata_codes, minlength=n_strata)
    target = sizes[:, None] * r[None, :]
    total_target = n * r
    cur = np.zeros((n_strata, k))
    cur_total = np.zeros(k)
    uniq, inverse = np.unique(groups, return_inverse=True)
    members: list[list[int]] = [[] for _ in uniq]
    for i, g in enumerate(inverse):
        members[g].append(i)
    shuffled = rng.permutation(len(uniq))
    order = sorted(shuffled, key=lambda g: -len(members[g]))  # stable: ties stay random
    part = np.empty(n, dtype=np.int64)
    for g in order:
        rows = members[g]
        codes, counts = np.unique(strata_codes[rows], return_counts=True)
        # increase of sum((cur - target)^2) over strata, plus the same for split totals
        dev = cur[codes] - target[codes]
        cost = (counts[:, None] * (2 * dev + counts[:, None])).sum(axis=0)
        m = len(rows)
        cost = cost + m * (2 * (cur_total - total_target) + m)
        j = int(np.argmin(cost))
        part[rows] = j
        cur[codes, j] += counts
        cur_total[j] += m
    return part


# ----------------------------------------------------------------------------- planning
def plan_split(frame: pd.DataFrame, *, label: str | None, stratify: Sequence[str] = (),
               group: str | None = None, ratios: str | Sequence[float] = DEFAULT_RATIOS,
               seed: int = 0, min_stratum: int | None = None,
               text_columns: Sequence[str] | None = None, near_threshold: float = 0.8,
               dedupe: bool = False, probe_prompts: Sequence[str] | None = None,
               leakage: bool = True) -> SplitPlan:
    """Decide the split of ``frame`` (nothing is saved; see :func:`make_split`).

    Parameters
    ----------
    frame : the rows to split; positions are the row ids
    label : column to stratify on (no nulls, at least two classes); ``None``: no label,
        stratified on ``stratify`` alone or, without it, a plain random split (a file of
        conversations in OpenAI's format may hold nothing but its ``messages`` column)
    stratify : extra columns crossed with the label into joint strata
    group : rows sharing a value here never span two splits
    ratios : 2 (train, test) or 3 (train, validation, test) positive numbers summing to 1
    seed : the same seed gives identical splits
    min_stratum : merge strata with fewer rows into one ``"other"`` stratum
    text_columns : input text for the leakage checks (default: free-text columns)
    near_threshold : Jaccard similarity (0-1] above which two rows are near duplicates
    dedupe : keep each duplicate cluster inside one split instead of only reporting it
    probe_prompts : bias-probe prompts to look for in the data
    leakage : run the leakage checks at all

    Examples
    --------
    >>> df = pd.DataFrame({"y": ["a"] * 6 + ["b"] * 4})
    >>> plan = plan_split(df, label="y", ratios=[0.5, 0.5], seed=1)
    >>> plan.manifest["strata"]
    {'a': {'train': 3, 'test': 3}, 'b': {'train': 2, 'test': 2}}
    """
    ratios = parse_ratios(ratios)
    parts = PARTS_2 if len(ratios) == 2 else PARTS_3
    stratify = list(dict.fromkeys(stratify))
    keyed = [("label", label)] if label is not None else []  # the label, when there is one
    for param, col in [*keyed, *[("stratify", c) for c in stratify]]:
        _check_column(frame, col, param)
    if group is not None:
        _check_column(frame, group, "group")
    if label is not None and label in stratify:
        raise ConfigError(f"stratify: '{label}' is already the label; stratify on "
                          "other columns", param="stratify")
    _refuse_conversations(frame, [*keyed, *[("stratify", c) for c in stratify],
                                  *([("group", group)] if group else [])])
    if not 0 < near_threshold <= 1:
        raise ConfigError(f"near threshold: must be in (0, 1]; got {near_threshold:g}",
                          param="near_threshold")
    k, n = len(parts), len(frame)
    if n < k:
        raise DataError(f"data: {n} row{'s' if n != 1 else ''}, fewer than the {k} "
                        f"splits asked for ({', '.join(parts)})", param="data")
    if label is not None:
        _check_label_values(frame[label], label, n)
    raw_strata = _strata(frame, label, stratify)
    strata, merged = _merge_small(raw_strata, k=k, min_stratum=min_stratum, label=label,
                                  stratify=stratify)

    from . import _leakage

    texts = _leakage.pick_text_columns(frame, text_columns,
                                       exclude=[*(c for _, c in keyed), *stratify,
                                                *([group] if group else [])])
    clusters = _leakage.find_duplicates(frame, texts, near_threshold=near_threshold) \
        if (leakage or dedupe) and texts else None

    if dedupe and not texts:
        raise ConfigError("dedupe: no free-text column to find duplicates in; name the "
                          "text columns", param="dedupe")
    # dedupe with no duplicate at all needs no groups: keep the exact allocation
    twins = _twin_sources(frame)
    grouped = group is not None or bool(twins) or (dedupe and clusters is not None
                                                   and len(np.unique(clusters.cluster_of)) < n)
    rng = np.random.default_rng(seed)
    names = sorted(set(strata))
    code_of = {s: i for i, s in enumerate(names)}
    codes = np.array([code_of[s] for s in strata], dtype=np.int64)
    if not grouped:
        sizes = np.bincount(codes, minlength=len(names))
        table = allocate(sizes.tolist(), ratios, rng=rng)
        part_of = np.empty(n, dtype=np.int64)
        for s in range(len(names)):
            rows = rng.permutation(np.flatnonzero(codes == s))
            bounds = np.concatenate([[0], np.cumsum(table[s])])
            for j in range(k):
                part_of[rows[bounds[j]:bounds[j + 1]]] = j
    else:
        groups = _union_groups(frame, group, clusters.cluster_of if (dedupe and clusters)
                               else None, twins=twins)
        n_groups = len(np.unique(groups))
        if n_groups < k:
            what = f"'{group}' has {n_groups} distinct value{'s' if n_groups != 1 else ''}" \
                if group else f"the data has {n_groups} distinct duplicate clusters"
            raise ConfigError(f"group: {what}, fewer than the {k} splits asked for", param="group")
        part_of = _assign_groups(codes, len(names), groups, ratios, rng)
    rows = {}
    for j, p in enumerate(parts):
        rows[p] = [int(i) for i in rng.permutation(np.flatnonzero(part_of == j))]
    empty = [p for p in parts if not rows[p]]
    if empty:
        if not grouped:
            r = ratios[parts.index(empty[0])]
            raise ConfigError(f"ratios: split '{empty[0]}' gets no rows ({r:g} x {n} "
                              "rows rounds to 0); use a larger ratio or more data", param="ratios")
        opt, how = ("group", f"groups of '{group}'") if group else \
            ("dedupe", "duplicate clusters")
        raise ConfigError(f"{opt}: keeping {how} together leaves split '{empty[0]}' "
                          "empty; use smaller groups or other ratios", param=opt)

    counts = {p: len(rows[p]) for p in parts}
    per_stratum: dict[str, dict[str, int]] = {s: {p: 0 for p in parts} for s in names}
    for j, p in enumerate(parts):
        for i in rows[p]:
            per_stratum[strata[i]][p] += 1
    manifest: dict[str, Any] = {
        "seed": int(seed), "ratios": list(ratios), "counts": counts, "strata": per_stratum,
        "label": label, "stratify": stratify, "group": group, "rows": n,
        "min_stratum": min_stratum, "merged_strata": merged, "dedupe": dedupe,
    }
    if twins:
        manifest["counterfactual_twins"] = {"column": MARKER, "rows": len(twins),
                                            "note": "each twin kept in its source row's split"}
    if leakage:
        manifest["leakage"] = _leakage.report(
            frame, texts, clusters, part_of=[parts[j] for j in part_of],
            probe_prompts=probe_prompts, near_threshold=near_threshold, dedupe=dedupe)
    else:
        manifest["leakage"] = {"checked": False}
    return SplitPlan(parts, rows, strata, manifest)


def _refuse_conversations(frame: pd.DataFrame, columns: list[tuple[str, str]]) -> None:
    """Strata and groups are values, not conversations: name another column."""
    from ..data import is_conversation_column

    for param, col in columns:
        if is_conversation_column(frame[col]):
            others = [str(c) for c in frame.columns
                      if c != col and not is_conversation_column(frame[c])]
            raise ConfigError(f"{param}: column '{col}' holds conversations; a whole "
                              "conversation is one row, so stratify or group on another "
                              f"column ({', '.join(others) or 'none'})"
                              + ("; or leave the label out for a random split"
                                 if param == "label" else ""), param=param)


def _twin_sources(frame: pd.DataFrame) -> dict[int, int]:
    """Counterfactual twins (``counterfactual_augment``, mode add) and their source rows,
    by position: a twin in another split than its source would leak that row.

    The marker names the source by its id: the value of a unique column of the source
    rows that holds every marker (the rules' ``id_column``), else its position.
    """
    if MARKER not in frame.columns:
        return {}
    marks = frame[MARKER]
    is_twin = marks.notna().to_numpy()
    if not is_twin.any():
        return {}
    wanted = [_value_str(v) for v in marks[is_twin]]
    sources = np.flatnonzero(~is_twin)
    for c in frame.columns:
        if c == MARKER:
            continue
        keys = frame[c].iloc[sources].map(_value_str)
        if keys.is_unique and set(wanted) <= set(keys):
            at = dict(zip(keys, sources.tolist()))
            break
    else:
        at = {str(int(p)): int(p) for p in sources}
    twins = np.flatnonzero(is_twin).tolist()
    return {t: at[w] for t, w in zip(twins, wanted) if w in at}


def _union_groups(frame: pd.DataFrame, group: str | None,
                  cluster_of: np.ndarray | None, *,
                  twins: dict[int, int] | None = None) -> np.ndarray:
    """Group ids joining rows that share a group value or a duplicate cluster (and each
    counterfactual twin with its source row)."""
    n = len(frame)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for keys in ([frame[group].map(_value_str).to_numpy()] if group else []) + \
            ([cluster_of] if cluster_of is not None else []):
        first: dict[Any, int] = {}
        for i, key in enumerate(keys):
            if key in first:
                a, b = find(i), find(first[key])
                if a != b:
                    parent[a] = b
            else:
                first[key] = i
    for t, src in (twins or {}).items():
        a, b = find(t), find(src)
        if a != b:
            parent[a] = b
    return np.array([find(i) for i in range(n)], dtype=np.int64)


# ------------------------------------------------------------------------------ saving
def _resolve_version(project, data: str | DatasetVersion) -> tuple[DatasetVersion, pd.DataFrame]:
    from ..data import default_name, load_frame, resolve_data, save_version

    if isinstance(data, DatasetVersion):
        return load_frame(project, data)
    dv, frame, src = resolve_data(project, data)
    if dv is None:  # a file: store it first so the split has a version to point to
        dv, _ = save_version(project, frame, name=default_name(str(data)), source=src)
        dv, frame = load_frame(project, dv)
    return dv, frame


def make_split(project, data: str | DatasetVersion, *, label: str | None,
               stratify: Sequence[str] = (), group: str | None = None,
               ratios: str | Sequence[float] = DEFAULT_RATIOS, seed: int = 0,
               min_stratum: int | None = None, text_columns: Sequence[str] | None = None,
               near_threshold: float = 0.8, dedupe: bool = False,
               probe_prompts: ProbePrompts | None = None) -> SplitReport:
    """Split a dataset version, save the DatasetDict and record the run.

    ``data`` is a stored ``NAME[@VERSION]``, a :class:`DatasetVersion` or a file (stored
    as a dataset version first). Other parameters are those of :func:`plan_split`;
    ``probe_prompts`` (from :func:`workbench.probes.probe_prompts`) are looked for in the
    data, as leakage into the bias probes.
    """
    dv, frame = _resolve_version(project, data)
    prompts = probe_prompts
    plan = plan_split(frame, label=label, stratify=stratify, group=group, ratios=ratios,
                      seed=seed, min_stratum=min_stratum, text_columns=text_columns,
                      near_threshold=near_threshold, dedupe=dedupe,
                      probe_prompts=prompts.prompts if prompts else None)
    manifest = {"dataset": {"name": dv.name, "version": dv.version}, **plan.manifest}
    if prompts is not None:
        manifest["leakage"]["probe_overlap"]["probe_sets"] = prompts.sources
        if prompts.skipped:
            manifest["leakage"]["probe_overlap"]["skipped"] = prompts.skipped
    config = {"data": dv.ref, "label": label, "stratify": list(stratify), "group": group,
              "ratios": list(parse_ratios(ratios)), "seed": int(seed),
              "min_stratum": min_stratum, "text_columns": text_columns,
              "near_threshold": near_threshold, "dedupe": dedupe}
    store = Store.for_project(project)
    with store.record("split", name=dv.ref, config=config,
                      input_hashes={"dataset": dv.content_hash}) as out:
        run_id = out["run_id"]
        path = (project.state / "splits" / str(run_id)).resolve()
        _save(frame, plan, path)
        manifest = {"run_id": run_id, **manifest}
        out["path"] = str(path)
        out["manifest"] = manifest
        store.add_lineage(("dataset", dv.ref), ("run", run_id), "split")
    return SplitReport(run_id, path, manifest, plan)


def _save(frame: pd.DataFrame, plan: SplitPlan, path: Path) -> None:
    from datasets import Dataset, DatasetDict
    from datasets.utils import logging as ds_logging

    was_on = ds_logging.is_progress_bar_enabled()
    ds_logging.disable_progress_bar()  # a library call stays quiet; the CLI reports
    try:
        _save_parts(Dataset, DatasetDict, frame, plan, path)
    finally:
        if was_on:
            ds_logging.enable_progress_bar()


def _save_parts(Dataset, DatasetDict, frame: pd.DataFrame, plan: SplitPlan, path: Path) -> None:
    full = frame.reset_index(drop=True).copy()
    full["_row_id"] = np.arange(len(full), dtype=np.int64)
    ds = Dataset.from_pandas(full, preserve_index=False)  # one schema for every part
    parts = DatasetDict({p: ds.select(plan.rows[p]).flatten_indices() for p in plan.parts})
    path.parent.mkdir(parents=True, exist_ok=True)
    parts.save_to_disk(str(path))


# ----------------------------------------------------------------------------- loading
def parse_split_ref(ref: str | int) -> tuple[int, str | None]:
    """``"split:ID[:PART]"``, ``"ID"`` or an int -> ``(run id, part or None)``."""
    if isinstance(ref, (int, np.integer)):
        return int(ref), None
    text = str(ref).strip()
    body = text.removeprefix("split:")
    rid, _, part = body.partition(":")
    try:
        return int(rid), (part or None)
    except ValueError:
        raise ConfigError(f"'{ref}' is not a split reference; use split:ID[:PART] "
                          "(for example split:3:test)") from None


def get_split_run(project, ref: str | int) -> Run:
    """The run of a split ``ref``; an unknown id names the splits that exist."""
    rid, _ = parse_split_ref(ref)
    store = Store.for_project(project)
    try:
        run = store.get_run(rid, kind="split")
    except NotFoundError:
        ids = [str(r.id) for r in store.list_runs("split", status="succeeded")]
        raise NotFoundError(f"no split with id {rid}; stored splits: "
                            + (", ".join(ids) if ids else "none (make one with "
                               "'workbench split DATA --label COL')")) from None
    if run.status != "succeeded" or "path" not in run.outputs:
        raise NotFoundError(f"split {rid} did not finish ({run.status}"
                            f"{': ' + run.error if run.error else ''})")
    return run


def load_split(project, ref: str | int) -> tuple[Run, Any]:
    """Load a saved split: ``(run, DatasetDict)``. ``ref`` is ``split:ID``, ``ID`` or an int."""
    from datasets import load_from_disk

    run = get_split_run(project, ref)
    path = Path(run.outputs["path"])
    if not path.exists():
        raise NotFoundError(f"split {run.id}: its folder {path} is missing")
    return run, load_from_disk(str(path))


def split_frame(project, ref: str | int, part: str | None = None) -> pd.DataFrame:
    """One part (``train`` | ``validation`` | ``test``) of a split as a DataFrame.

    ``part`` may also come inside ``ref`` (``split:3:test``); it defaults to ``test``.
    """
    _, ref_part = parse_split_ref(ref)
    part = part or ref_part or "test"
    run, dd = load_split(project, ref)
    if part not in dd:
        raise NotFoundError(f"split {run.id} has no part '{part}'{did_you_mean(part, dd)}; "
                            f"it has: {', '.join(dd)}")
    return dd[part].to_pandas()


def strata_table(manifest: dict[str, Any]) -> pd.DataFrame:
    """Rows per stratum and split with each stratum's share of every split (percent).

    >>> m = {"counts": {"train": 3, "test": 1},
    ...      "strata": {"a": {"train": 2, "test": 1}, "b": {"train": 1, "test": 0}}}
    >>> strata_table(m)[["stratum", "train", "train %"]].to_dict("records")[0]
    {'stratum': 'a', 'train': 2, 'train %': 66.7}
    """
    parts = list(manifest["counts"])
    rows = []
    for stratum, counts in manifest["strata"].items():
        row: dict[str, Any] = {"stratum": stratum, **{p: counts[p] for p in parts},
                               "rows": sum(counts.values())}
        for p in parts:
            total = manifest["counts"][p]
            row[f"{p} %"] = round(100 * counts[p] / total, 1) if total else 0.0
        rows.append(row)
    return pd.DataFrame(rows, columns=["stratum", *parts, "rows", *[f"{p} %" for p in parts]])


def list_splits(project) -> list[Run]:
    """Finished splits, newest first."""
    return Store.for_project(project).list_runs("split", status="succeeded")


__all__ = ["SplitPlan", "SplitReport", "plan_split", "make_split", "load_split", "split_frame",
           "parse_split_ref", "get_split_run", "list_splits", "strata_table", "parse_ratios", "allocate"]
