"""Per-example text scoring behind the local ``evaluate`` modules.

The modules in ``metrics/modules/`` are thin ``evaluate.Metric`` adapters over these
functions, so the numbers are sacrebleu's and rouge-score's own. Large inputs are split
over the machine's cores (forked workers) because both scorers are pure Python.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Callable, Sequence

#: rouge-score types, in report order.
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
PARALLEL_MIN = 2000  # below this, forking workers costs more than it saves

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.IGNORECASE)
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """Normalise text for exact match: lowercase, drop punctuation, articles, extra spaces.

    The SQuAD convention (``a``, ``an``, ``the``; ASCII punctuation).

    >>> normalize_answer("  The Battery, obviously!  ")
    'battery obviously'
    """
    text = str(text).lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def as_reference_lists(references: Sequence) -> list[list[str]]:
    """Each reference as a list of strings (a plain string becomes a one-item list)."""
    out = []
    for r in references:
        if isinstance(r, str):
            out.append([r])
        else:
            out.append([str(x) for x in r])
    return out


def _workers(n: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)
    return max(1, min(cores, n // (PARALLEL_MIN // 2))) if n >= PARALLEL_MIN else 1


def parallel_map(fn: Callable[[list], list], items: list, *, n_jobs: int | None = None) -> list:
    """``fn`` over contiguous chunks of ``items`` in forked workers; results concatenated."""
    jobs = _workers(len(items)) if n_jobs is None else max(1, n_jobs)
    if jobs == 1 or len(items) < 2:
        return fn(items)
    import multiprocessing as mp

    try:
        ctx = mp.get_context("fork")
    except ValueError:  # no fork on this platform
        return fn(items)
    size = -(-len(items) // jobs)
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    with ctx.Pool(len(chunks)) as pool:
        parts = pool.map(fn, chunks)
    return [x for part in parts for x in part]


def accuracy_scores(predictions: Sequence[str], references: Sequence, *,
                    normalize: bool = True) -> list[int]:
    """1 where the prediction equals any reference (after :func:`normalize_answer`)."""
    norm = normalize_answer if normalize else (lambda s: str(s).strip())
    return [int(norm(p) in {norm(r) for r in refs})
            for p, refs in zip(predictions, as_reference_lists(references))]


def _bleu():
    from sacrebleu.metrics import BLEU

    return BLEU()


def _bleu_stats_chunk(pairs: list[tuple[str, list[str]]]) -> list[list[int]]:
    bleu = _bleu()
    k = max(len(r) for _, r in pairs)
    streams = [[r[j] if j < len(r) else None for _, r in pairs] for j in range(k)]
    return [list(map(int, s)) for s in
            bleu._extract_corpus_statistics([p for p, _ in pairs], streams)]


def bleu_stats(predictions: Sequence[str], references: Sequence, *,
               n_jobs: int | None = None) -> tuple[list[list[int]], str]:
    """sacrebleu's per-segment statistics and its signature.

    Summing the statistics over any subset and calling :func:`bleu_from_stats` gives
    sacrebleu's corpus BLEU of that subset (how bootstrap resampling works).
    """
    refs = as_reference_lists(references)
    pairs = [(str(p), r) for p, r in zip(predictions, refs)]
    stats = parallel_map(_bleu_stats_chunk, pairs, n_jobs=n_jobs) if pairs else []
    bleu = _bleu()
    nrefs = {len(r) for r in refs}
    bleu.num_refs = nrefs.pop() if len(nrefs) == 1 else -1  # "var" in the signature
    return stats, str(bleu.get_signature())


def bleu_scores_from_stats(totals) -> list[float]:
    """Corpus BLEU (0-100) for each row of summed per-segment statistics."""
    bleu = _bleu()
    return [float(bleu._compute_score_from_stats([int(x) for x in t]).score) for t in totals]


def _rouge_chunk(pairs: list[tuple[str, list[str]]], use_stemmer: bool = False,
                 ) -> list[list[float]]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer,
                                      split_summaries=False)
    out = []
    for pred, refs in pairs:
        s = scorer.score(refs[0], pred) if len(refs) == 1 else scorer.score_multi(refs, pred)
        out.append([float(s[t].fmeasure) for t in ROUGE_TYPES])
    return out


def rouge_scores(predictions: Sequence[str], references: Sequence, *, use_stemmer: bool = False,
                 n_jobs: int | None = None) -> dict[str, list[float]]:
    """Per-example rouge-score F-measures for each of :data:`ROUGE_TYPES`.

    Several references: the best-scoring one per type (``score_multi``). rougeLsum
    splits sentences on newlines (no nltk data needed).
    """
    from functools import partial

    pairs = [(str(p), r) for p, r in zip(predictions, as_reference_lists(references))]
    chunk = partial(_rouge_chunk, use_stemmer=use_stemmer)
    rows = parallel_map(chunk, pairs, n_jobs=n_jobs) if pairs else []
    return {t: [r[i] for r in rows] for i, t in enumerate(ROUGE_TYPES)}
