"""The command line's contract: usage errors are exit 2 in one line with a did-you-mean,
a library error about a parameter names its flag, a run is never compared with itself,
and every ``--json`` of a command that records a run carries ``run_id``.

Every case runs the installed ``workbench`` console script as a subprocess.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from tests.conftest import run_cli
from workbench.cli._main import error_line
from workbench.core.errors import ConfigError, DataError

# (argv, the one line on stderr); one case per command group and subcommand
USAGE = [
    (["--bogus"], "workbench: no such option --bogus (did you mean --debug?)"),
    (["bogus"], "workbench: no such command 'bogus'; commands: init, clean"),
    (["evalute"], "workbench: no such command 'evalute' (did you mean 'evaluate'?)"),
    (["init", "x", "--nme", "y"], "workbench init: no such option --nme (did you mean --name?)"),
    (["data", "imprt", "f.csv"], "workbench data: no such command 'imprt' (did you mean 'import'?)"),
    (["data", "import", "f.csv", "--encodng", "latin-1"],
     "workbench data import: no such option --encodng (did you mean --encoding?)"),
    (["data", "list", "--jsn", "-"], "workbench data list: no such option --jsn (did you mean --json?)"),
    (["data", "show", "x", "--rws", "3"], "workbench data show: no such option --rws (did you mean --rows?)"),
    (["data", "export", "x", "o.csv", "--forc"],
     "workbench data export: no such option --forc (did you mean --force?)"),
    (["check", "x", "--suite", "s.yaml", "--bogsu"],
     "workbench check: no such option --bogsu (did you mean --suite?)"),
    (["check", "histroy"], "workbench check: no such command 'histroy' (did you mean 'history'?)"),
    (["check", "x"], "workbench check: missing option --suite"),
    (["check", "history", "--limt", "3"],
     "workbench check history: no such option --limt (did you mean --limit?)"),
    (["clean", "x", "--rules", "r.yaml", "--nam", "y"],
     "workbench clean: no such option --nam (did you mean --name?)"),
    (["clean", "x", "--rules"], "workbench clean: option '--rules' requires an argument."),
    (["split", "x", "--labl", "topic"], "workbench split: no such option --labl (did you mean --label?)"),
    (["split", "shw", "3"], "workbench split: no such command 'shw' (did you mean 'show'?)"),
    (["split", "x", "--label", "t", "--seed", "abc"], "workbench split: --seed: "),
    (["split", "list", "--jsonn", "-"], "workbench split list: no such option --jsonn (did you mean --json?)"),
    (["train", "c.yaml", "--resum"], "workbench train: no such option --resum (did you mean --resume?)"),
    (["evaluate", "--modle", "tiny:gpt2"], "workbench evaluate: no such option --modle (did you mean --model?)"),
    (["evaluate", "--compare", "run:1"], "workbench evaluate: option '--compare' requires 2 arguments."),
    (["probe", "--outputs", "f.csv", "--bogus"], "workbench probe: no such option --bogus (did you mean"),
    (["probe", "--probs", "gender"], "workbench probe: no such option --probs (did you mean --probes?)"),
    (["bias-report", "--befor", "1", "--after", "2"],
     "workbench bias-report: no such option --befor (did you mean --before?)"),
    (["bias-report", "--before", "1"], "workbench bias-report: missing option --after"),
    (["probes", "lst"], "workbench probes: no such command 'lst' (did you mean 'list'?)"),
    (["probe", "list"], ("workbench probe: got unexpected extra argument(s) (list) "
                         "(did you mean 'workbench probes list'?)")),
    (["probe", "foo"], "workbench probe: got unexpected extra argument(s) (foo)"),
    (["probes", "check"], "workbench probes check: missing argument PATH"),
    (["schedule", "lst"], "workbench schedule: no such command 'lst' (did you mean 'list'?)"),
    (["schedule", "run", "--for-second", "3"],
     "workbench schedule run: no such option --for-second (did you mean --for-seconds?)"),
    (["models", "prepar", "tiny:gpt2"], "workbench models: no such command 'prepar' (did you mean 'prepare'?)"),
    (["models", "list", "--jsn", "-"], "workbench models list: no such option --jsn (did you mean --json?)"),
    (["runs", "list", "--kindd", "train"], "workbench runs list: no such option --kindd (did you mean --kind?)"),
    (["runs", "shw", "1"], "workbench runs: no such command 'shw' (did you mean 'show'?)"),
]


@pytest.mark.parametrize(("argv", "line"), USAGE, ids=[" ".join(a) for a, _ in USAGE])
def test_usage_errors_are_one_line_with_did_you_mean_exit_2(project, argv, line):
    proc = run_cli(*argv, cwd=project.root)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(line), lines[0]
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr


def test_a_group_alone_prints_its_help(project):
    proc = run_cli("data", cwd=project.root)
    assert proc.returncode == 2 and "import" in proc.stdout and "internal" not in proc.stderr


SAME = [
    (["evaluate", "--compare", "run:3", "3"],
     "error: --compare: A and B are the same run (run:3); compare two different evaluations"),
    (["evaluate", "--compare", "a.jsonl", "./a.jsonl"], "error: --compare: A and B are the same file ("),
    (["bias-report", "--before", "10", "--after", "run:10"],
     "error: --before and --after are the same run (run:10); compare two different probe runs"),
    (["bias-report", "--before", "r.json", "--after", "./r.json"],
     "error: --before and --after are the same file ("),
]


@pytest.mark.parametrize(("argv", "line"), SAME, ids=[" ".join(a) for a, _ in SAME])
def test_comparing_a_run_with_itself_is_refused(project, argv, line):
    proc = run_cli(*argv, cwd=project.root)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith(line), proc.stderr


PARAMS = [
    # (the library's error, the command line, what the CLI prints)
    (ConfigError("ratios must sum to 1; got 1.1", param="ratios"), ["split", "x", "--label", "t"],
     "--ratios: ratios must sum to 1; got 1.1"),
    (ConfigError("must be >= 0; got -1", param="min_stratum"), ["split", "x", "--label", "t"],
     "--min-stratum: must be >= 0; got -1"),
    (DataError("no column 'answr' (did you mean 'answer'?)", param="reference_col"),
     ["evaluate", "--model", "m", "--data", "d"],
     "--reference-col: no column 'answr' (did you mean 'answer'?)"),
    (DataError("no dataset 'x'", param="data"), ["check", "x", "--suite", "s"], "DATA: no dataset 'x'"),
    (ConfigError("--seed: already named", param="seed"), ["split", "x", "--label", "t"],
     "--seed: already named"),
    (ConfigError("training.epochs: must be >= 1", param="epochs"), ["train", "c.yaml"],
     "training.epochs: must be >= 1"),  # a config field, not a flag of `train`
    (ConfigError("plain"), ["runs", "list"], "plain"),
]


@pytest.mark.parametrize(("exc", "argv", "line"), PARAMS, ids=[p[2][:30] for p in PARAMS])
def test_a_library_error_about_a_parameter_names_its_flag(exc, argv, line):
    assert error_line(exc, argv) == line


def test_a_library_error_through_the_script_is_one_line(project):
    proc = run_cli("split", "nope", "--label", "topic", cwd=project.root)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("error: ") and "--" not in proc.stderr.split(":")[1]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"id": range(12), "question": [f"question number {i} here" for i in range(12)],
                         "answer": [f"answer {i}" for i in range(12)],
                         "topic": ["a", "b"] * 6})


@pytest.mark.slow
def test_every_json_of_a_recorded_run_has_its_run_id(project, tmp_path):
    """check, clean, split, evaluate (predictions and compare); train and probe are in
    test_journey.py, which reads their run ids the same way."""
    from workbench.core.store import Store

    src = tmp_path / "qa.csv"
    _frame().to_csv(src, index=False)
    suite = project.root / "checks" / "qa.yaml"
    suite.write_text("name: qa\nid_column: id\nexpectations:\n"
                     "  - type: expect_column_values_to_not_be_null\n    column: answer\n"
                     "clean:\n  - {type: drop_duplicates}\n", encoding="utf-8")
    assert run_cli("data", "import", str(src), "--name", "qa", cwd=project.root).returncode == 0

    def run_json(*argv: str, code: int = 0) -> dict:
        proc = run_cli(*argv, "--json", "-", cwd=project.root)
        assert proc.returncode == code, proc.stderr
        out = json.loads(proc.stdout)
        run = Store.for_project(project).get_run(out["run_id"])  # a real, recorded run
        assert run.status == "succeeded", run
        said[argv[0]] = proc.stderr  # the human lines go to stderr under --json -
        return out

    said: dict[str, str] = {}

    run_json("check", "qa", "--suite", "checks/qa.yaml", "--no-data-docs")
    run_json("clean", "qa", "--rules", "checks/qa.yaml")
    run_json("split", "qa", "--label", "topic", "--ratios", "0.5,0.5")
    preds = tmp_path / "p.csv"
    pd.DataFrame({"id": range(6), "prediction": ["a b", "c d", "e", "f g", "h", "i j"],
                  "reference": ["a b", "c", "e f", "f g", "x", "i j"]}).to_csv(preds, index=False)
    other = tmp_path / "q.csv"
    pd.DataFrame({"id": range(6), "prediction": ["a b"] * 6,
                  "reference": ["a b", "c", "e f", "f g", "x", "i j"]}).to_csv(other, index=False)
    a = run_json("evaluate", "--predictions", str(preds))
    cmp = run_json("evaluate", "--compare", f"run:{a['run_id']}", str(other))
    assert cmp["run_id"] != a["run_id"]
    # the p column: three decimals, or "< 0.001" below that (one formatter, fmt_p)
    rows = [line.split() for line in said["evaluate"].splitlines() if line.startswith("rouge")]
    assert rows and all(re.search(r"\s(< 0\.001|\d\.\d{3})\s+(B better|B worse|no clear)",
                                  line) for line in said["evaluate"].splitlines()
                        if line.startswith("rouge"))
