"""Leakage checks for splits: exact and near duplicates, and bias-probe prompts in the data.

Normalisation (for exact duplicates and probe overlap): Unicode NFKC, case folding,
runs of whitespace collapsed to one space, ends stripped. Near duplicates compare the
sets of character 5-grams of the normalised text with punctuation removed: MinHash LSH
(datasketch) proposes candidate pairs and the exact Jaccard similarity confirms them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import ConfigError, WorkbenchError, did_you_mean

SHINGLE = 5
NUM_PERM = 128
EXAMPLES = 20
_WS = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]")


def normalise(text: Any) -> str:
    """Text as compared for exact duplicates.

    >>> normalise("  How do I  PAY? ")
    'how do i pay?'
    """
    if text is None or (isinstance(text, float) and text != text):
        return ""
    return _WS.sub(" ", unicodedata.normalize("NFKC", str(text)).casefold()).strip()


def conversation_text(messages: Any) -> str:
    """A conversation as compared for leakage: its turns, ``role: content`` one per line,
    so two conversations match when their turns do, whatever shape they were stored in.

    >>> conversation_text([{"role": "user", "content": "Hi"}, {"role": "assistant",
    ...                    "content": "Hey", "weight": 1}])
    'user: Hi\\nassistant: Hey'
    """
    from ..data import parse_messages

    try:
        turns = parse_messages(messages, strict=False)
    except WorkbenchError:
        return ""
    return "\n".join(f"{t.get('role', '?')}: {t.get('content') or ''}" for t in turns)


def normalised_column(series: pd.Series) -> list[str]:
    """:func:`normalise` of every value; a column of conversations by its turns."""
    from ..data import is_conversation_column

    if is_conversation_column(series):
        return [normalise(conversation_text(v)) if isinstance(v, (list, tuple, np.ndarray))
                else "" for v in series]
    return series.map(normalise).tolist()


def _shingles(text: str) -> set[str]:
    bare = _WS.sub(" ", _PUNCT.sub("", text)).strip()
    if len(bare) <= SHINGLE:
        return {bare} if bare else set()
    return {bare[i:i + SHINGLE] for i in range(len(bare) - SHINGLE + 1)}


def pick_text_columns(frame: pd.DataFrame, columns: Sequence[str] | None, *,
                      exclude: Sequence[str] = ()) -> list[str]:
    """The input-text columns: ``columns`` if given, else the free-text ones.

    Free text = a column of conversations, or a string column, not excluded, where most
    values contain a space (so ids and category codes are left out).
    """
    if columns:
        for c in columns:
            if c not in frame.columns:
                cols = [str(x) for x in frame.columns]
                raise ConfigError(f"text: no column '{c}'{did_you_mean(c, cols)}; "
                                  f"columns: {', '.join(cols)}", param="text")
        return list(dict.fromkeys(columns))
    from ..data import is_conversation_column

    out = []
    for c in frame.columns:
        if c in exclude or c == "_row_id":
            continue
        if is_conversation_column(frame[c]):  # conversations are compared by their turns
            out.append(str(c))
            continue
        s = frame[c].dropna()
        if len(s) == 0 or not (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object):
            continue
        s = s.astype(str)
        if s.str.contains(" ", regex=False).mean() >= 0.5:
            out.append(str(c))
    return out


@dataclass(frozen=True)
class Duplicates:
    """Duplicate structure of a frame.

    Attributes
    ----------
    keys : normalised text of every row
    exact : clusters (lists of row positions, size >= 2) of identical normalised text
    near : ``(row a, row b, jaccard)`` for near-duplicate pairs that are not exact
    cluster_of : a cluster id per row joining exact and near duplicates
    """

    keys: list[str]
    exact: list[list[int]]
    near: list[tuple[int, int, float]]
    cluster_of: np.ndarray = field(repr=False)


def _row_texts(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    parts = [normalised_column(frame[c]) for c in columns]
    return [" \u241f ".join(t) for t in zip(*parts)]  # a visible separator between columns


def find_duplicates(frame: pd.DataFrame, columns: Sequence[str], *,
                    near_threshold: float = 0.8) -> Duplicates:
    """Exact duplicates of the normalised text and near duplicates above ``near_threshold``.

    "Near" here is similarity: the Jaccard index of character shingles, found with MinHash
    and confirmed exactly. The data rule ``expect_column_near_duplicate_rate_to_be_at_most``
    counts a narrower kind, texts a typo apart (``typo_duplicate_of`` in the checks stage).
    """
    keys = _row_texts(frame, columns)
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        if key.replace("\u241f", "").strip():
            by_key[key].append(i)
    exact = sorted((rows for rows in by_key.values() if len(rows) > 1), key=lambda r: r[0])
    reps = [rows[0] for rows in by_key.values()]
    near = _jaccard_pairs([keys[i] for i in reps], near_threshold)
    near = [(reps[a], reps[b], sim) for a, b, sim in near]

    parent = list(range(len(keys)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for rows in exact:
        for i in rows[1:]:
            parent[find(i)] = find(rows[0])
    for a, b, _ in near:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    return Duplicates(keys, exact, near, np.array([find(i) for i in range(len(keys))]))


def _jaccard_pairs(texts: list[str], threshold: float) -> list[tuple[int, int, float]]:
    from datasketch import MinHash, MinHashLSH

    shingles = [_shingles(t) for t in texts]
    idx = [i for i, s in enumerate(shingles) if s]
    if len(idx) < 2:
        return []
    hashes = MinHash.bulk([[s.encode("utf-8") for s in shingles[i]] for i in idx],
                          num_perm=NUM_PERM, seed=1)
    # LSH bands tuned a little below the threshold so borderline pairs are proposed;
    # the exact Jaccard below decides.
    lsh = MinHashLSH(threshold=max(0.05, threshold - 0.1), num_perm=NUM_PERM)
    for i, h in zip(idx, hashes):
        lsh.insert(i, h)
    pairs = []
    for i, h in zip(idx, hashes):
        for j in lsh.query(h):
            if j > i:
                a, b = shingles[i], shingles[j]
                sim = len(a & b) / len(a | b)
                if sim >= threshold:
                    pairs.append((i, j, round(sim, 4)))
    return sorted(pairs)


# --------------------------------------------------------------------------- probes
@dataclass(frozen=True)
class ProbePrompts:
    """Prompts of the probe sets a project holds, and where they came from."""

    prompts: list[str]
    sources: list[str]
    skipped: list[str]


def probe_overlap(frame: pd.DataFrame, columns: Sequence[str],
                  prompts: Sequence[str]) -> dict[int, str]:
    """Rows whose text contains a whole probe prompt (normalised): row -> the prompt."""
    by_len: dict[int, dict[tuple[str, ...], str]] = defaultdict(dict)
    for p in prompts:
        words = tuple(normalise(p).split())
        if words:
            by_len[len(words)][words] = p
    hits: dict[int, str] = {}
    if not by_len:
        return hits
    for c in columns:
        for i, text in enumerate(normalised_column(frame[c])):
            if i in hits:
                continue
            words = text.split()
            for n, table in by_len.items():
                found = next((table[tuple(words[a:a + n])] for a in range(len(words) - n + 1)
                              if tuple(words[a:a + n]) in table), None)
                if found is not None:
                    hits[i] = found
                    break
    return hits


# --------------------------------------------------------------------------- report
def _snippet(text: str, n: int = 120) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def report(frame: pd.DataFrame, columns: Sequence[str], dups: Duplicates | None, *,
           part_of: Sequence[str], probe_prompts: Sequence[str] | None,
           near_threshold: float, dedupe: bool) -> dict[str, Any]:
    """The manifest's ``leakage`` section for one assignment of rows to splits."""
    out: dict[str, Any] = {
        "checked": True, "text_columns": list(columns), "dedupe": dedupe,
        "normalisation": "NFKC, casefold, whitespace collapsed",
        "exact": {"clusters": 0, "rows": 0, "cross_split_clusters": 0, "examples": []},
        "near": {"threshold": near_threshold, "method": f"minhash char-{SHINGLE}-grams "
                 "+ exact jaccard", "pairs": 0, "cross_split_pairs": 0, "examples": []},
        "probe_overlap": {"prompts": len(probe_prompts or []), "rows": 0,
                          "by_split": {}, "examples": []},
    }
    if not columns:
        out["note"] = "no free-text column found: name the text columns to check for leakage"
    if dups is not None:
        cross = [rows for rows in dups.exact if len({part_of[i] for i in rows}) > 1]
        out["exact"].update(clusters=len(dups.exact), rows=sum(map(len, dups.exact)),
                            cross_split_clusters=len(cross))
        out["exact"]["examples"] = [
            {"rows": rows, "splits": [part_of[i] for i in rows],
             "text": _snippet(dups.keys[rows[0]])} for rows in (cross + [
                 r for r in dups.exact if r not in cross])[:EXAMPLES]]
        near_cross = [(a, b, s) for a, b, s in dups.near if part_of[a] != part_of[b]]
        out["near"].update(pairs=len(dups.near), cross_split_pairs=len(near_cross))
        ordered = near_cross + [p for p in dups.near if part_of[p[0]] == part_of[p[1]]]
        out["near"]["examples"] = [
            {"rows": [a, b], "splits": [part_of[a], part_of[b]], "similarity": s,
             "text": [_snippet(dups.keys[a]), _snippet(dups.keys[b])]}
            for a, b, s in ordered[:EXAMPLES]]
    if probe_prompts and columns:
        hits = probe_overlap(frame, columns, probe_prompts)
        by_split: dict[str, int] = defaultdict(int)
        for i in hits:
            by_split[part_of[i]] += 1
        out["probe_overlap"].update(rows=len(hits), by_split=dict(sorted(by_split.items())))
        out["probe_overlap"]["examples"] = [
            {"row": i, "split": part_of[i], "prompt": p} for i, p in
            sorted(hits.items())[:EXAMPLES]]
    out["cross_split"] = (out["exact"]["cross_split_clusters"]
                          + out["near"]["cross_split_pairs"])
    return out


def leakage_rows(leakage: dict[str, Any]) -> list[dict[str, Any]]:
    """The leakage examples as flat table rows (for the CLI and the page)."""
    rows = []
    for ex in leakage.get("exact", {}).get("examples", []):
        rows.append({"kind": "exact duplicate", "rows": ", ".join(map(str, ex["rows"])),
                     "splits": ", ".join(ex["splits"]),
                     "cross split": len(set(ex["splits"])) > 1, "similarity": 1.0,
                     "text": ex["text"]})
    for ex in leakage.get("near", {}).get("examples", []):
        rows.append({"kind": "near duplicate", "rows": ", ".join(map(str, ex["rows"])),
                     "splits": ", ".join(ex["splits"]),
                     "cross split": len(set(ex["splits"])) > 1,
                     "similarity": ex["similarity"], "text": " ~ ".join(ex["text"])})
    for ex in leakage.get("probe_overlap", {}).get("examples", []):
        rows.append({"kind": "probe prompt", "rows": str(ex["row"]), "splits": ex["split"],
                     "cross split": False, "similarity": None, "text": ex["prompt"]})
    return rows
