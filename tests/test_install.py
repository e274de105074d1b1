"""Build a wheel and import the package from it: package data must be inside."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_package_data_and_imports(tmp_path):
    out = tmp_path / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "-w", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(out.glob("workbench-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "workbench/demo/support_qa.csv" in names
    assert not any(n.startswith(("tests/", "pages/")) for n in names)
    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target",
                           str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    code = ("import workbench, workbench.cli, workbench.models as m; "
            "print(workbench.__file__); print(len(m.demo_texts()))")
    env = {**os.environ, "PYTHONPATH": str(target)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    where, n = proc.stdout.split()
    assert where.startswith(str(target))
    assert int(n) > 300


# distribution name -> the module it is imported as, where the two differ
_MODULE = {"scikit-learn": "sklearn", "rouge-score": "rouge_score", "great-expectations":
           "great_expectations", "PyYAML": "yaml", "SQLAlchemy": "sqlalchemy",
           "APScheduler": "apscheduler", "Jinja2": "jinja2", "vaderSentiment": "vaderSentiment"}
# used through another library, with the code that makes it needed
_THROUGH = {"gguf": "gguf_file="}  # transformers reads the packaged SmolLM2 GGUF with it


def test_every_declared_dependency_is_imported_or_needed():
    import ast
    import re
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0] for d in deps]
    files = [*(ROOT / "workbench").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
    imported, text = set(), ""
    for f in files:
        src = f.read_text(encoding="utf-8")
        text += src
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    unused = [n for n in names if _MODULE.get(n, n.replace("-", "_")) not in imported
              and not (n in _THROUGH and _THROUGH[n] in text)]
    assert unused == []
