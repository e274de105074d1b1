"""`workbench check` (10 rules, 1M rows x 5 columns) against a hand-written pandas script
computing the same counts; both started as processes.

Both read the same stored Parquet copy with a warm file cache (one untimed run of each
first), and are timed alternately, so a change in machine load hits both alike. The check
runs as a user types it (its defaults: no Data Docs), and its JSON result must hold the
same pass/fail and unexpected counts as the script's output.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import BIN, Row

ROWS_N = 1_000_000
REPEAT = 5

SUITE = """\
name: bench
expectations:
  - {type: expect_table_row_count_to_be_between, min_value: 1}
  - {type: expect_column_values_to_not_be_null, column: id}
  - {type: expect_column_values_to_be_unique, column: id}
  - {type: expect_column_values_to_not_be_null, column: text}
  - {type: expect_column_value_lengths_to_be_between, column: text, min_value: 1, max_value: 40}
  - {type: expect_column_values_to_match_regex, column: text, regex: "^[a-z ]+$"}
  - {type: expect_column_values_to_be_in_set, column: cat, value_set: [a, b, c, d]}
  - {type: expect_column_values_to_be_between, column: x, min_value: 0, max_value: 0.99}
  - {type: expect_column_values_to_not_be_null, column: y}
  - {type: expect_column_mean_to_be_between, column: y, min_value: -1, max_value: 1}
"""

BASELINE = """\
import sys, json
import pandas as pd
df = pd.read_parquet(sys.argv[1])
n = len(df)
out = []
out.append(bool(n >= 1))
out.append(int(df["id"].isna().sum()))
ids = df["id"].dropna(); out.append(int(ids.duplicated(keep=False).sum()))
out.append(int(df["text"].isna().sum()))
t = df["text"].dropna(); ln = t.str.len(); out.append(int(((ln < 1) | (ln > 40)).sum()))
out.append(int((~t.str.match(r"^[a-z ]+$")).sum()))
c = df["cat"].dropna(); out.append(int((~c.isin(["a", "b", "c", "d"])).sum()))
x = df["x"].dropna(); out.append(int(((x < 0) | (x > 0.99)).sum()))
out.append(int(df["y"].isna().sum()))
out.append(bool(-1 <= df["y"].mean() <= 1))
print(json.dumps(out))
"""


def _frame():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    words = np.array(["alpha", "beta", "gamma", "delta", "station", "rain"])
    text = pd.Series(words[rng.integers(0, 6, ROWS_N)]) + " " + words[rng.integers(0, 6, ROWS_N)]
    return pd.DataFrame({"id": np.arange(ROWS_N), "text": text,
                         "cat": np.array(list("abcde"))[rng.integers(0, 5, ROWS_N)],
                         "x": rng.random(ROWS_N), "y": rng.normal(size=ROWS_N)})


def _alternating(runs, *, repeat: int) -> list[float]:
    """Median wall time of each ``(argv, env, expected exit code)``, run in turn ``repeat``
    times after one untimed run of each (which warms the file cache for both)."""
    times: list[list[float]] = [[] for _ in runs]
    for i in range(repeat + 1):
        for k, (argv, env, code) in enumerate(runs):
            t0 = time.perf_counter()
            rc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL).returncode
            if i:
                times[k].append(time.perf_counter() - t0)
            assert rc == code, (argv, rc)
    return [statistics.median(t) for t in times]


def check_vs_pandas():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wb = str(BIN / "workbench")
        env = {**os.environ, "WORKBENCH_PROJECT": str(tmp / "proj")}
        subprocess.run([wb, "init", str(tmp / "proj")], check=True, capture_output=True)
        data = tmp / "bench.parquet"
        _frame().to_parquet(data, index=False)
        subprocess.run([wb, "data", "import", str(data), "--name", "bench"], check=True,
                       capture_output=True, env=env)
        (tmp / "bench.yaml").write_text(SUITE)
        (tmp / "baseline.py").write_text(BASELINE)
        argv = [wb, "check", "bench", "--suite", str(tmp / "bench.yaml"), "--json",
                str(tmp / "r.json")]
        stored = next((tmp / "proj" / ".workbench" / "datasets" / "bench").glob("*.parquet"))
        script = [sys.executable, str(tmp / "baseline.py"), str(stored)]
        # exit code 1 is expected from the check: the data breaks some rules on purpose
        load_before = os.getloadavg()[0]
        measured, baseline = _alternating([(argv, env, 1), (script, None, 0)], repeat=REPEAT)
        load_after = os.getloadavg()[0]
        # the two really compute the same thing: pass/fail and unexpected counts agree
        mine = json.loads((tmp / "r.json").read_text())["results"]
        theirs = json.loads(subprocess.run(script, capture_output=True, text=True,
                                           check=True).stdout)
        assert len(mine) == len(theirs) == 10
        for r, t in zip(mine, theirs):
            assert (r["success"] == t) if isinstance(t, bool) else r["unexpected_count"] == t, \
                (r, t)
    return [Row("checks: 10 rules on 1M rows", "workbench check (process)",
                "pandas script, same counts (process)", measured, baseline,
                f"medians of {REPEAT}, timed alternately after a warm-up run of each; both "
                "include interpreter start and reading the Parquet copy; 1-minute load "
                f"average {load_before:.1f} before, {load_after:.1f} after, on "
                f"{os.cpu_count()} cores")]


ROWS = [check_vs_pandas]
