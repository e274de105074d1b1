from pages._ui import header, placeholder

header("Evaluate", "Score a model on a split: accuracy, BLEU and ROUGE with confidence intervals.")
placeholder("evaluation.")
