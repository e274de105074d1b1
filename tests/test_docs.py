"""Docs that are checked: every docstring example in the library runs, and the README's
layout table and docs/architecture.md name every stage package."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "workbench"
MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for p in LIB.rglob("*.py")
    if "modules" not in p.relative_to(LIB).parts[:3] and "migrations" not in p.parts
    and ">>> " in p.read_text(encoding="utf-8"))


def test_some_modules_have_examples():
    assert len(MODULES) >= 10, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    # examples that make projects or caches do it in a temporary folder
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False)
    assert result.attempted > 0, f"{name}: no example ran"
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"


def test_docs_name_every_stage():
    stages = sorted(p.name for p in LIB.iterdir() if (p / "__init__.py").is_file())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for stage in stages:
        assert f"`workbench/{stage}/`" in readme, f"README's layout table lacks workbench/{stage}/"
        assert f"**`{stage}/`**" in architecture, f"docs/architecture.md lacks a paragraph on {stage}/"
