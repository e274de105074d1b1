"""ROUGE: rouge1, rouge2, rougeL and rougeLsum as the mean of per-example F-measures.

Scores come from Google's rouge-score (stemmer off by default; rougeLsum splits
sentences on newlines, so no nltk data is needed). Several references: the best one per
example. No bootstrap aggregation here (upstream's is not seeded); the workbench adds
seeded intervals. A workbench local metric module.
"""

import datasets
import evaluate

from workbench.evaluation.metrics._text import ROUGE_TYPES, rouge_scores

_FEATURES = [
    datasets.Features({"predictions": datasets.Value("string"),
                       "references": datasets.Sequence(datasets.Value("string"))}),
    datasets.Features({"predictions": datasets.Value("string"),
                       "references": datasets.Value("string")}),
]


class Rouge(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=__doc__, citation="Lin, 2004: ROUGE", features=_FEATURES,
            inputs_description="predictions: list of str; references: list of str, or of "
                               "lists of str; use_stemmer: bool")

    def _compute(self, predictions, references, use_stemmer=False, n_jobs=None):
        per = rouge_scores(predictions, references, use_stemmer=use_stemmer, n_jobs=n_jobs)
        out = {t: (sum(per[t]) / len(per[t]) if per[t] else float("nan")) for t in ROUGE_TYPES}
        out["per_example"] = per
        return out
