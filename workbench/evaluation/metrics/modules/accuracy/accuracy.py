"""Accuracy: the share of predictions equal to a reference.

Label accuracy for classification (``normalize=False`` compares stripped strings) and,
for generated text, exact match after normalisation (lowercase; ASCII punctuation,
the articles a/an/the and extra whitespace removed). A workbench local metric module,
loaded with ``evaluate.load(<path to this folder>)``.
"""

import datasets
import evaluate

from workbench.evaluation.metrics._text import accuracy_scores

_FEATURES = [
    datasets.Features({"predictions": datasets.Value("string"),
                       "references": datasets.Sequence(datasets.Value("string"))}),
    datasets.Features({"predictions": datasets.Value("string"),
                       "references": datasets.Value("string")}),
]


class Accuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=__doc__, citation="", features=_FEATURES,
            inputs_description="predictions: list of str; references: list of str, or of "
                               "lists of str (a match with any counts); normalize: bool")

    def _compute(self, predictions, references, normalize=True):
        scores = accuracy_scores(predictions, references, normalize=normalize)
        return {"accuracy": sum(scores) / len(scores) if scores else float("nan"),
                "per_example": scores}
