"""`workbench --help` start-up against importing pandas alone."""

from __future__ import annotations

import sys

from run import BIN, Row, time_process


def cli_help_startup():
    measured = time_process([str(BIN / "workbench"), "--help"], repeat=7)
    baseline = time_process([sys.executable, "-c", "import pandas"], repeat=7)
    return [Row("cli: workbench --help", "workbench --help", "python -c 'import pandas'",
                measured, baseline, "median of 7 process starts each")]


ROWS = [cli_help_startup]
