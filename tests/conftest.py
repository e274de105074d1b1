from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]

# Nothing may reach the hub: fail fast instead of hanging on a network call.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.pop("WORKBENCH_PROJECT", None)
# One model cache for the whole test session: SmolLM2 is converted (and tiny:gpt2 built)
# once, not once per temporary project.
if "WORKBENCH_MODEL_CACHE" not in os.environ:
    import tempfile as _tempfile

    os.environ["WORKBENCH_MODEL_CACHE"] = _tempfile.mkdtemp(prefix="workbench-models-")
os.environ.pop("WORKBENCH_DB_URL", None)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A fresh workbench project in a temp folder, with HF_HOME inside its state."""
    from workbench.core.project import init_project

    p = init_project(tmp_path / "proj")
    monkeypatch.setenv("HF_HOME", str(p.hf_home))
    monkeypatch.setenv("WORKBENCH_PROJECT", str(p.root))
    return p


@pytest.fixture(scope="session")
def shared_project(tmp_path_factory):
    """One project per test session, for expensive things like tiny models."""
    from workbench.core.project import init_project

    p = init_project(tmp_path_factory.mktemp("shared") / "proj")
    os.environ["HF_HOME"] = str(p.hf_home)
    return p


@pytest.fixture(scope="session")
def tiny_model(shared_project):
    """Path of a tiny GPT-2 built from the demo texts (built once per session)."""
    from workbench.models import prepare_model

    return prepare_model(shared_project, "tiny:gpt2")


@pytest.fixture(scope="session")
def smollm2(shared_project):
    """Path of the packaged SmolLM2-135M-Instruct, converted once per test session."""
    from workbench.models import prepare_model

    return prepare_model(shared_project, "packaged:smollm2-135m-instruct")


@pytest.fixture
def qa_frame():
    return pd.DataFrame({
        "question": ["How do I reset my station?", "Where is my order?", "Will it rain?",
                     "How do I pay?", "Why is my screen blank?", "Can I change my email?"],
        "answer": ["Hold the button for 10 s.", "It ships today.", "Light rain after 3 pm.",
                   "Use a card in the app.", "Replace the batteries.", "Yes, in Settings."],
        "topic": ["setup", "shipping", "weather", "billing", "troubleshooting", "account"],
    })


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None,
            timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the real ``workbench`` console script in a subprocess."""
    exe = Path(sys.executable).with_name("workbench")
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([str(exe), *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
