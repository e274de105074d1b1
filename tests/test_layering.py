"""Meta-tests: the library never imports streamlit; heavy packages are imported lazily,
each only in the modules allowed to; `workbench --help` stays light."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "workbench"
HEAVY = ("torch", "transformers", "great_expectations", "evaluate", "peft", "accelerate",
         "datasets", "sklearn", "scipy", "matplotlib", "optuna", "apscheduler", "pyspark",
         "vaderSentiment", "sacrebleu", "rouge_score", "fairlearn", "datasketch", "tokenizers")
# Which modules may (lazily) import each heavy package.
ALLOWED = {
    "great_expectations": {"workbench/checks/_gx.py", "workbench/checks/_spark.py"},
    "evaluate": {"workbench/metrics/_evaluate.py"},
    "streamlit": set(),
}


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(n) for n in tree.body}
    guarded = set()
    for node in tree.body:  # `if TYPE_CHECKING:` blocks are not real imports
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in guarded:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""]
            for name in names:
                if node.__class__ is ast.ImportFrom and node.level:
                    continue
                yield name.split(".")[0], id(node) in top_level


# Local `evaluate` metric modules are scripts that only `evaluate.load(path)` runs (from
# workbench/metrics/_evaluate.py); evaluate requires them to import it at the top.
METRIC_MODULES = LIB / "metrics" / "modules"


def _lib_files():
    return sorted(p for p in LIB.rglob("*.py") if METRIC_MODULES not in p.parents)


def test_metric_modules_are_only_loaded_through_evaluate():
    modules = sorted(METRIC_MODULES.glob("*/*.py"))
    assert [p.stem for p in modules] == [p.parent.name for p in modules] != []
    for path in _lib_files():
        text = path.read_text(encoding="utf-8")
        assert "metrics.modules" not in text and "from .modules" not in text, path
    for path in modules:
        assert {m for m, _top in _imports(path)} <= {"datasets", "evaluate", "workbench"}, path


@pytest.mark.parametrize("path", _lib_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_heavy_imports_are_lazy_and_placed(path):
    rel = str(path.relative_to(ROOT))
    for mod, top in _imports(path):
        assert mod != "streamlit", f"{rel} imports streamlit: keep the library UI-free"
        if mod in HEAVY:
            assert not top, f"{rel} imports {mod} at module level: import it inside a function"
        if mod in ALLOWED:
            assert rel in ALLOWED[mod], f"{rel} imports {mod}; only {sorted(ALLOWED[mod])} may"


def test_help_imports_nothing_heavy():
    code = ("import os, sys, json; os.environ['_WORKBENCH_NO_EXIT']='1';"
            "from workbench.cli import main;\n"
            "import contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out: rc = main(['--help'])\n"
            "heavy = [m for m in ('torch','transformers','great_expectations','evaluate',"
            "'datasets','sklearn','pyspark','streamlit') if m in sys.modules]\n"
            "print(json.dumps({'rc': rc, 'heavy': heavy, 'out': out.getvalue()}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["rc"] == 0
    assert "Usage" in res["out"]
    assert res["heavy"] == []


def test_every_subcommand_help_is_light():
    """Each command group's --help also stays free of heavy imports."""
    code = ("import os, sys, json, contextlib, io; os.environ['_WORKBENCH_NO_EXIT']='1';"
            "from workbench.cli import main, app\n"
            "import typer.main\n"
            "groups = [g.name for g in app.registered_groups] + "
            "[c.name or c.callback.__name__ for c in app.registered_commands]\n"
            "for g in groups:\n"
            "    with contextlib.redirect_stdout(io.StringIO()): main([g, '--help'])\n"
            "heavy = [m for m in ('torch','transformers','great_expectations','evaluate') "
            "if m in sys.modules]\n"
            "print(json.dumps({'groups': groups, 'heavy': heavy}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "data" in res["groups"] and res["heavy"] == []
