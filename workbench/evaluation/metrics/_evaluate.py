"""The only place ``evaluate`` is imported: load the packaged local metric modules.

``evaluate.load`` of a hub name needs the network; a local folder works offline. The
module copies go under the project's state folder (``hf_home``) unless ``HF_HOME`` or
``HF_MODULES_CACHE`` is already set.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._scores import Scores, parse_metrics

MODULES = Path(__file__).parent / "modules"


def module_path(name: str) -> Path:
    """Folder of the local ``evaluate`` module for ``name``."""
    return MODULES / name


def load_metric(name: str, *, project=None):
    """``evaluate.load`` of a packaged metric module (kept in memory, no cache files)."""
    if project is not None and "HF_HOME" not in os.environ:
        for var, sub in (("HF_MODULES_CACHE", "modules"), ("HF_METRICS_CACHE", "metrics"),
                         ("HF_EVALUATE_CACHE", "evaluate")):
            os.environ.setdefault(var, str(project.hf_home / sub))
    import evaluate

    return evaluate.load(str(module_path(name)), keep_in_memory=True)


def compute_scores(predictions: Sequence[str], references: Sequence, *,
                   metrics: str | Sequence[str] | None = None, normalize: bool = True,
                   use_stemmer: bool = False, n_jobs: int | None = None,
                   project=None) -> Scores:
    """Score predictions against references with the packaged ``evaluate`` modules.

    Parameters
    ----------
    predictions
        One string per example.
    references
        One string, or a list of strings, per example.
    metrics
        Names from ``accuracy``, ``bleu``, ``rouge``, ``sentiment`` (the prediction's VADER
        compound, no reference used; default all).
    normalize
        Exact-match normalisation for accuracy.
    use_stemmer
        Porter stemming for ROUGE (off by default, as the issue specifies).
    n_jobs
        Worker processes for BLEU/ROUGE (default: the cores, for large inputs).
    """
    names = parse_metrics(metrics)
    preds = [str(p) for p in predictions]
    refs = [r if isinstance(r, str) else [str(x) for x in r] for r in references]
    if not all(isinstance(r, str) for r in refs):  # one feature type per call
        refs = [[r] if isinstance(r, str) else r for r in refs]
    scores = Scores(len(preds))
    if not preds:
        return scores
    for name in names:
        if name == "sentiment":  # a score of the prediction alone, shared with the data rule
            from ...checks import OUTCOME_SCORES

            scores.per_example["sentiment"] = np.asarray(
                OUTCOME_SCORES["sentiment"].fn(preds), dtype=float)
            continue
        metric = load_metric(name, project=project)
        if name == "accuracy":
            res = metric.compute(predictions=preds, references=refs, normalize=normalize)
            scores.per_example["accuracy"] = np.asarray(res["per_example"], dtype=float)
        elif name == "bleu":
            res = metric.compute(predictions=preds, references=refs, n_jobs=n_jobs)
            scores.bleu_stats = np.asarray(res["stats"], dtype=np.int64)
            scores.bleu_signature = res["signature"]
        else:
            res = metric.compute(predictions=preds, references=refs, use_stemmer=use_stemmer,
                                 n_jobs=n_jobs)
            for k, v in res["per_example"].items():
                scores.per_example[k] = np.asarray(v, dtype=float)
    return scores
