"""Benchmark runner: every row is a ratio of two timings taken in this one run.

    .venv/bin/python benchmarks/run.py            # all rows
    .venv/bin/python benchmarks/run.py cli        # rows whose name contains "cli"
    .venv/bin/python benchmarks/run.py --skip scale   # all rows but the scale: ones

Each ``benchmarks/bench_*.py`` defines ``ROWS``: a list of functions returning
``Row`` values. Ratios, not absolute times, are what to compare across machines.
"""

from __future__ import annotations

import importlib.util
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent


@dataclass
class Row:
    name: str
    measured: str          # what the numerator is
    baseline: str          # what the denominator is
    measured_s: float
    baseline_s: float
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.measured_s / self.baseline_s if self.baseline_s else float("nan")


def time_process(argv: list[str], *, repeat: int = 5, cwd: Path = ROOT, env=None) -> float:
    """Median wall time of running ``argv`` as a fresh process."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_call(fn, *, repeat: int = 5) -> float:
    """Median wall time of calling ``fn()`` in this process."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def load_rows():
    rows = []
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = mod
        spec.loader.exec_module(mod)
        rows += getattr(mod, "ROWS", [])
    return rows


def main(argv: list[str]) -> int:
    skip = None
    if "--skip" in argv:  # --skip PATTERN: leave out the rows whose name contains it
        at = argv.index("--skip")
        skip, argv = argv[at + 1], argv[:at] + argv[at + 2:]
    pattern = argv[0] if argv else ""
    fns = [f for f in load_rows() if pattern in f.__name__
           and not (skip and skip in f.__name__)]
    head = f"{'benchmark':<34} {'measured':>10} {'baseline':>10} {'ratio':>8}  what"
    print(head)
    print("-" * len(head), flush=True)
    failed = []
    for fn in fns:  # each row printed as it is measured: a later failure loses none
        print(f"running {fn.__name__} ...", file=sys.stderr, flush=True)
        try:
            rows = fn()
        except Exception as exc:  # the other rows still run; the exit code says so
            failed.append(fn.__name__)
            print(f"{fn.__name__}: FAILED: {type(exc).__name__}: {exc}", flush=True)
            continue
        for r in rows:
            print(f"{r.name:<34} {r.measured_s:>9.3f}s {r.baseline_s:>9.3f}s {r.ratio:>7.2f}x  "
                  f"{r.measured} / {r.baseline}{'  (' + r.note + ')' if r.note else ''}",
                  flush=True)
    if failed:
        print(f"{len(failed)} benchmark(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main(sys.argv[1:]))
