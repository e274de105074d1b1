"""Stratified splitting and the leakage checks, against scikit-learn's stratified split."""

from __future__ import annotations

import numpy as np
import pandas as pd
from run import time_call

ROWS_N = 100_000
TEXT_N = 5_000


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = np.array("station battery screen forecast rain wind sensor app account order "
                     "refund label courier firmware pole solar panel humidity alert".split())
    return pd.DataFrame({
        "y": rng.choice(["a", "b", "c", "d"], n, p=[0.5, 0.3, 0.15, 0.05]),
        "g": rng.choice(["m", "w", "n"], n),
        "text": [" ".join(rng.choice(words, 12)) + f" {i}" for i in range(n)],
    })


def split_vs_sklearn():
    from sklearn.model_selection import train_test_split

    from workbench.splits import plan_split

    frame = _frame(ROWS_N)
    strata = frame["y"] + "|" + frame["g"]

    def sk():
        train, rest = train_test_split(np.arange(ROWS_N), test_size=0.2, stratify=strata,
                                       random_state=0)
        train_test_split(rest, test_size=0.5, stratify=strata.iloc[rest], random_state=0)

    ours = time_call(lambda: plan_split(frame, label="y", stratify=["g"], seed=0,
                                        leakage=False), repeat=3)
    return [run_row("splits: 100k rows, 12 strata", "plan_split (exact, no leakage)",
                    "sklearn train_test_split x2 (stratified)", ours, time_call(sk, repeat=3))]


def leakage_vs_split():
    from workbench.splits import plan_split

    frame = _frame(TEXT_N)
    with_leak = time_call(lambda: plan_split(frame, label="y", seed=0), repeat=1)
    without = time_call(lambda: plan_split(frame, label="y", seed=0, leakage=False), repeat=3)
    return [run_row("splits: leakage checks, 5k texts", "plan_split with leakage checks",
                    "plan_split without", with_leak, without)]


def run_row(name, measured, baseline, m, b):
    from run import Row

    return Row(name, measured, baseline, m, b, "median of 3 (leakage: 1 run)")


ROWS = [split_vs_sklearn, leakage_vs_split]
