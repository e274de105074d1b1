"""The README's terminal walk-through, run as written by a new user.

The commands are read from README.md (the block after "The same steps from the
terminal"), run with the installed ``workbench`` console script in a fresh project made by
``workbench init``, with the tiny model in place of SmolLM2 (``tiny:gpt2``; the demo
config keeps everything else, with fewer steps). The run ids the README shows are mapped to
the ids this project records. Each step's outcome is checked: its exit code, its ``--json``
(with ``run_id``) and the run row the store holds.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil

import pytest

from tests.conftest import ROOT, run_cli
from workbench.core.store import Store

TINY = "tiny:gpt2"
KINDS = {"check": "check", "clean": "clean", "split": "split", "train": "train",
         "probe": "probe"}


def walkthrough() -> list[tuple[list[str], str]]:
    """``(argv, comment)`` for each command of the README's terminal walk-through."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```bash", text.index("The same steps from the terminal"))
    block = text[start + len("```bash"):text.index("```", start + len("```bash"))]
    steps = []
    for line in block.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue  # blank, or a comment continuing the line above
        command, _, comment = line.partition(" #")
        argv = shlex.split(command)
        assert argv[0] == "workbench", line
        steps.append((argv[1:], comment.strip()))
    return steps


def _tiny_config(project) -> None:
    """configs/demo_lora.yaml with the tiny model and a handful of steps."""
    text = (ROOT / "configs" / "demo_lora.yaml").read_text(encoding="utf-8")
    text = text.replace("model: packaged:smollm2-135m-instruct", f"model: {TINY}")
    for key, value in (("max_steps", 4), ("eval_steps", 2), ("save_steps", 4),
                       ("logging_steps", 1), ("max_length", 64)):
        text, n = re.subn(rf"^(\s+{key}:)\s*\d+", rf"\g<1> {value}", text, flags=re.MULTILINE)
        assert n == 1, key
    assert f"model: {TINY}" in text
    (project / "configs").mkdir()
    (project / "configs" / "demo_lora.yaml").write_text(text, encoding="utf-8")


def _readme_id(comment: str) -> int | None:
    """The run id the README says a step made (``# split:5``, ``# run:7``, ``# run 6``)."""
    m = re.search(r"\b(?:split:|run:|run )(\d+)\b", comment)
    return int(m.group(1)) if m else None


def _substitute(argv: list[str], ids: dict[int, int]) -> list[str]:
    """The README's model and run ids replaced by the tiny model and this project's ids."""
    out = []
    for i, arg in enumerate(argv):
        arg = arg.replace("packaged:smollm2-135m-instruct", TINY)
        m = re.fullmatch(r"(split:|run:)?(\d+)(:\w+)?", arg)
        prev = argv[i - 1] if i else ""
        if m and int(m.group(2)) in ids and (m.group(1) or prev in ("--before", "--after")
                                             or prev == "--compare" or argv[i - 2:i - 1] == ["--compare"]):
            arg = f"{m.group(1) or ''}{ids[int(m.group(2))]}{m.group(3) or ''}"
        out.append(arg)
    return out


@pytest.mark.slow
def test_readme_walkthrough_in_a_fresh_project(tmp_path, monkeypatch):
    steps = walkthrough()
    names = [a[0] for a, _ in steps]
    assert names[:4] == ["data", "check", "clean", "check"], names
    for needed in ("split", "train", "evaluate", "probe", "bias-report"):
        assert needed in names, needed

    root = tmp_path / "journey"
    proc = run_cli("init", str(root), cwd=tmp_path)
    assert proc.returncode == 0 and "created project" in proc.stdout, proc.stderr
    shutil.copy(ROOT / "checks" / "support_qa.yaml", root / "checks" / "support_qa.yaml")
    (root / "workbench").mkdir()
    shutil.copytree(ROOT / "workbench" / "demo", root / "workbench" / "demo")  # the demo data
    _tiny_config(root)
    env = {"HF_HOME": str(root / ".workbench" / "hf")}
    monkeypatch.delenv("WORKBENCH_PROJECT", raising=False)

    ids: dict[int, int] = {}  # README run id -> this project's
    state: dict = {"probes": []}
    for i, (argv, comment) in enumerate(steps):
        argv = _substitute(argv, ids)
        if argv[0] == "signoff":  # the README's report id: this project's before/after report
            argv[1] = str(Store.for_project(_project(root)).list_reports("bias-compare")[0]["id"])
        out = tmp_path / f"step{i}.json"
        proc = run_cli(*argv, "--json", str(out), cwd=root, env=env, timeout=1200)
        assert proc.returncode in (0, 1), (argv, proc.returncode, proc.stderr[-2000:])
        assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        payload = json.loads(out.read_text(encoding="utf-8"))
        if argv[0] == "data":
            assert payload["rows"] == 365 and proc.returncode == 0
            continue
        if argv[0] in ("signoff", "model-card"):  # no run of their own
            _check_card(argv, payload, state)
            continue
        if argv[0] == "bias-report":  # compares two recorded runs, and records that
            assert [payload["before"]["run_id"], payload["after"]["run_id"]] == state["probes"]
            run = Store.for_project(_project(root)).get_run(payload["run_id"])
            assert (run.kind, run.status) == ("bias-compare", "succeeded")
            assert proc.returncode == (1 if payload["newly_flagged"] else 0)
            assert f"run{state['probes'][0]}-vs-run{state['probes'][1]}" in proc.stdout
            continue
        assert "run_id" in payload, (argv, sorted(payload))  # every recorded run names itself
        run = Store.for_project(_project(root)).get_run(payload["run_id"])
        assert run.status == "succeeded", (argv, run.status, run.error)
        kind = "compare" if "--compare" in argv else KINDS.get(argv[0], argv[0])
        assert run.kind == kind, (argv, run.kind)
        if _readme_id(comment) is not None:
            ids[_readme_id(comment)] = payload["run_id"]
        _check_step(argv, comment, proc, payload, state)
    assert state["probes"] and "split" in state and "trained" in state


def _check_card(argv, payload, state) -> None:
    """A sign-off covers both probe runs and updates the fine-tune's card; the card then
    carries model-index results and the latest verdict."""
    import yaml

    if argv[0] == "signoff":
        assert payload["runs"] == state["probes"] and payload["decision"] == "probe more"
        assert set(payload["signatures"]) == {"report", "before", "after"}
    [card] = payload["cards"]
    text = open(card, encoding="utf-8").read()
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["model-index"][0]["results"], meta
    risks = text[text.index("## Bias, Risks, and Limitations"):]
    assert f"run:{state['probes'][-1]}" in risks and "**probe more** by Ana" in risks


def _project(root):
    from workbench.core.project import Project

    return Project(root)


def _check_step(argv, comment, proc, payload, state) -> None:
    """What the README's comment says the step gives, where the tiny model can keep it."""
    cmd = argv[0]
    if cmd == "check":
        results = payload["results"]
        failed = sum(not r["success"] for r in results)
        m = re.search(r"exit (\d): (\d+)/(\d+) rules (fail|pass)", comment)
        assert m, comment
        assert proc.returncode == int(m.group(1)) and len(results) == int(m.group(3))
        assert (failed if m.group(4) == "fail" else len(results) - failed) == int(m.group(2))
        assert payload["success"] is (proc.returncode == 0)
    elif cmd == "clean":
        m = re.search(r"(\d+) -> (\d+) rows", comment)
        assert (payload["rows_before"], payload["rows_after"]) == (int(m.group(1)), int(m.group(2)))
    elif cmd == "split":
        assert sum(payload["counts"].values()) == 343, payload["counts"]
        state["split"] = payload
    elif cmd == "train":
        assert payload["steps"] == 4 and payload["eval_loss_end"] is not None
        state["trained"] = payload["run_id"]
    elif cmd == "evaluate" and "--compare" in argv:
        assert payload["n"] == state["split"]["counts"]["test"]
        assert {"bleu", "rougeL"} <= set(payload["metrics"])
        for d in payload["metrics"].values():
            assert d["ci"][0] <= d["diff"] <= d["ci"][1]
    elif cmd == "evaluate":
        assert payload["n"] == state["split"]["counts"]["test"]
        assert {"bleu", "rougeL"} <= set(payload["metrics"])
    elif cmd == "probe":
        assert payload["probe_set"]["name"] == "gender"
        assert proc.returncode == (1 if payload["flagged"] else 0)
        state["probes"].append(payload["run_id"])
