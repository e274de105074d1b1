"""Meta-tests of the package layout.

- Stages import only ``core`` and earlier stages, in lifecycle order, and no import cycle
  exists, counting imports inside functions.
- The library never imports streamlit; heavy packages are imported lazily, each only in
  the modules allowed to; ``workbench --help`` stays light.
- Pages import only the library's public surface.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "workbench"
#: The stages, in the order data flows. A stage may import core and the stages before it.
STAGES = ("core", "data", "models", "checks", "clean", "splits", "train", "generation",
          "evaluation", "probes", "review", "reports", "cli")
HEAVY = ("torch", "transformers", "great_expectations", "evaluate", "peft", "accelerate",
         "datasets", "sklearn", "scipy", "matplotlib", "optuna", "apscheduler", "pyspark",
         "vaderSentiment", "sacrebleu", "rouge_score", "fairlearn", "datasketch", "tokenizers")
# Which modules may (lazily) import each heavy package.
ALLOWED = {
    "great_expectations": {"workbench/checks/_gx.py", "workbench/checks/_spark.py"},
    "evaluate": {"workbench/evaluation/metrics/_evaluate.py"},
    "streamlit": set(),
}
# Local `evaluate` metric modules are scripts that only `evaluate.load(path)` runs (from
# workbench/evaluation/metrics/_evaluate.py); evaluate requires them to import it at the top.
METRIC_MODULES = LIB / "evaluation" / "metrics" / "modules"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _lib_files() -> list[Path]:
    return sorted(p for p in LIB.rglob("*.py") if METRIC_MODULES not in p.parents)


MODULES = {_module_name(p): p for p in _lib_files()}


def _imports(path: Path):
    """``(module, top_level, node)`` for every import in ``path``, relative ones resolved;
    ``from pkg import mod`` names the submodule when ``pkg.mod`` is one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(n) for n in tree.body}
    guarded = set()
    for node in tree.body:  # `if TYPE_CHECKING:` blocks are not real imports
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded |= {id(n) for n in ast.walk(node)}
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        top = id(node) in top_level
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, top
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                mod = ".".join([*base, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            for a in node.names:
                sub = f"{mod}.{a.name}"
                yield (sub if sub in MODULES else mod), top


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "workbench" and parts[1] in STAGES \
        else None


@functools.cache
def _graph() -> dict[str, set[str]]:
    return {name: {m for m, _top in _imports(path) if m in MODULES and m != name}
            for name, path in MODULES.items()}


def test_every_library_module_sits_in_a_stage():
    top = sorted(p.name for p in LIB.glob("*.py"))
    assert top == ["__init__.py", "__main__.py"], top
    packages = sorted(p.name for p in LIB.iterdir() if (p / "__init__.py").is_file())
    assert packages == sorted(STAGES), packages


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_stages_import_only_core_and_earlier_stages(module):
    mine = _stage(module)
    if mine is None:
        return
    for target in _graph()[module]:
        theirs = _stage(target)
        if theirs is None or theirs == mine:
            continue
        assert theirs == "core" or STAGES.index(theirs) < STAGES.index(mine), (
            f"{module} imports {target}: the {mine} stage may import only core and the "
            f"stages before it ({', '.join(STAGES[:STAGES.index(mine)])})")


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_cycle_check_finds_a_cycle(tmp_path, monkeypatch):
    """The detector itself: two modules importing each other inside functions."""
    pkg = tmp_path / "workbench" / "core"
    pkg.mkdir(parents=True)
    (pkg / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "b.py").write_text("def g():\n    from .a import f\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = {_module_name(p): p for p in pkg.glob("*.py")}
    monkeypatch.setattr(sys.modules[__name__], "MODULES", found)
    _graph.cache_clear()
    with pytest.raises(AssertionError, match="workbench.core.a -> workbench.core.b"):
        test_no_import_cycles()
    _graph.cache_clear()


def test_metric_modules_are_only_loaded_through_evaluate():
    modules = sorted(METRIC_MODULES.glob("*/*.py"))
    assert [p.stem for p in modules] == [p.parent.name for p in modules] != []
    for path in _lib_files():
        text = path.read_text(encoding="utf-8")
        assert "metrics.modules" not in text and "from .modules" not in text, path
    for path in modules:
        assert {m.split(".")[0] for m, _top in _imports(path)} <= {
            "datasets", "evaluate", "workbench"}, path


@pytest.mark.parametrize("path", _lib_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_heavy_imports_are_lazy_and_placed(path):
    rel = str(path.relative_to(ROOT))
    for name, top in _imports(path):
        mod = name.split(".")[0]
        assert mod != "streamlit", f"{rel} imports streamlit: keep the library UI-free"
        if mod in HEAVY:
            assert not top, f"{rel} imports {mod} at module level: import it inside a function"
        if mod in ALLOWED:
            assert rel in ALLOWED[mod], f"{rel} imports {mod}; only {sorted(ALLOWED[mod])} may"


@pytest.mark.parametrize("path", sorted((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"],
                         ids=lambda p: p.name)
def test_pages_use_the_public_library_only(path):
    for name, _top in _imports(path):
        if name.startswith("workbench"):
            private = [part for part in name.split(".") if part.startswith("_")]
            assert not private, f"{path.name} imports the private module {name}"


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


def test_a_check_report_leaves_the_other_stages_unimported():
    """`workbench check` writes a check report only: importing the reports package for it
    does not import the evaluation, generation or training stages (their reports arrive
    on first use), and each of those reports is still there when asked for."""
    code = ("import sys, json, workbench.reports as r\n"
            "before = [m for m in ('workbench.evaluation', 'workbench.generation', "
            "'workbench.train') if m in sys.modules]\n"
            "names = {n: getattr(r, n).__module__ for n in r.__all__}\n"
            "print(json.dumps({'before': before, 'names': names}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["before"] == []
    assert res["names"]["write_html"] == "workbench.reports._evaluation"
    assert res["names"]["lr_chart"] == "workbench.reports._train"
    assert res["names"]["write_mitigation_report"] == "workbench.reports._probes"
