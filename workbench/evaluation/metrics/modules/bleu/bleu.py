"""BLEU: sacrebleu's corpus BLEU on the 0-100 scale, with sacrebleu's signature.

Defaults of ``sacrebleu.metrics.BLEU()`` (13a tokenizer, mixed case, exp smoothing).
Also returns sacrebleu's per-segment statistics, so any subset's corpus BLEU (bootstrap
resamples, slices) is the sum of its statistics. A workbench local metric module.
"""

import datasets
import evaluate

from workbench.evaluation.metrics._text import bleu_scores_from_stats, bleu_stats

_FEATURES = [
    datasets.Features({"predictions": datasets.Value("string"),
                       "references": datasets.Sequence(datasets.Value("string"))}),
    datasets.Features({"predictions": datasets.Value("string"),
                       "references": datasets.Value("string")}),
]


class Bleu(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=__doc__, citation="Post, 2018: A Call for Clarity in Reporting BLEU "
                                          "Scores", features=_FEATURES,
            inputs_description="predictions: list of str; references: list of str, or of "
                               "lists of str (several references per prediction)")

    def _compute(self, predictions, references, n_jobs=None):
        stats, signature = bleu_stats(predictions, references, n_jobs=n_jobs)
        total = [sum(col) for col in zip(*stats)]
        return {"bleu": bleu_scores_from_stats([total])[0], "signature": signature,
                "stats": stats}
