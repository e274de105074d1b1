"""BLEU + ROUGE on 10k pairs: through the workbench (evaluate modules) vs the libraries."""

from __future__ import annotations

import random
import time

from run import ROOT, Row

N = 10_000


def _pairs() -> tuple[list[str], list[str]]:
    import csv

    with (ROOT / "workbench" / "demo" / "support_qa.csv").open(encoding="utf-8") as fh:
        answers = [r["answer"] for r in csv.DictReader(fh) if r["answer"]]
    rng = random.Random(0)
    refs, preds = [], []
    for i in range(N):
        ref = answers[i % len(answers)]
        words = ref.split()
        pred = [w for w in words if rng.random() > 0.3] or words[:1]
        refs.append(ref)
        preds.append(" ".join(pred))
    return preds, refs


def metrics_workbench_vs_direct():
    import sacrebleu
    from rouge_score import rouge_scorer

    from workbench.evaluation.metrics import ROUGE_TYPES, compute_scores

    preds, refs = _pairs()
    compute_scores(preds[:10], refs[:10], metrics="bleu,rouge")  # import evaluate first
    t0 = time.perf_counter()
    wb = compute_scores(preds, refs, metrics="bleu,rouge").values()
    t_wb = time.perf_counter() - t0
    t0 = time.perf_counter()
    bleu = sacrebleu.corpus_bleu(preds, [refs]).score
    sc = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=False)
    rows = [sc.score(r, p) for p, r in zip(preds, refs)]
    direct = {t: sum(s[t].fmeasure for s in rows) / N for t in ROUGE_TYPES}
    t_direct = time.perf_counter() - t0
    same = abs(wb["bleu"] - bleu) < 1e-9 and all(abs(wb[t] - direct[t]) < 1e-12
                                                 for t in ROUGE_TYPES)
    return [Row("metrics: BLEU+ROUGE 10k pairs", "workbench (evaluate)",
                "sacrebleu + rouge-score", t_wb, t_direct,
                f"identical numbers: {same}; evaluate import excluded")]


ROWS = [metrics_workbench_vs_direct]
