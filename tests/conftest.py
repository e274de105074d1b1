from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]

# pyspark.sql.connect takes a __main__ without a file or spec (as in a pytest-xdist worker)
# for a doctest run and exits the process, unless the session looks interactive. A name for
# __main__ would break multiprocessing's spawn, which re-imports it in each child.
_main = sys.modules.get("__main__")
if os.environ.get("PYTEST_XDIST_WORKER") and _main is not None \
        and getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    sys.ps1 = ""

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


def app_page(page: str):
    """The real app entry point (on ``$WORKBENCH_PROJECT``), switched to ``pages/PAGE.py``
    as the navigation would; run from the repository root."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    return at


def wait_for_success(at, text: str, timeout: float = 240) -> list[str]:
    """Rerun ``at`` until a success message holding ``text`` shows (a background job of
    the page finished); those messages."""
    import time

    found = lambda: [s.value for s in at.success if text in s.value]  # noqa: E731
    deadline = time.time() + timeout
    while time.time() < deadline and not found():
        time.sleep(2)
        at.run()
    return found()


# ------------------------------------------------------------------ PostgreSQL server
def _pg_bindir() -> Path | None:
    """Debian's PostgreSQL server binaries (``$WORKBENCH_PG_BIN`` overrides), newest first."""
    if os.environ.get("WORKBENCH_PG_BIN"):
        return Path(os.environ["WORKBENCH_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a throwaway PostgreSQL server's ``wb`` database, for the whole session.

    initdb + pg_ctl in a temp folder (as the ``postgres`` user when run as root), on
    127.0.0.1 and a free port; stopped and deleted afterwards. Missing binaries skip the
    tests only outside CI; a server that does not start fails them.
    """
    import shutil
    import socket
    import tempfile

    bindir = _pg_bindir()
    if bindir is None or not (bindir / "initdb").is_file():
        where = (f"$WORKBENCH_PG_BIN={bindir}" if os.environ.get("WORKBENCH_PG_BIN")
                 else "/usr/lib/postgresql/*/bin")
        msg = (f"PostgreSQL server binaries not found (no initdb in {where}); `make postgres` "
               "(part of `make test`) installs Debian's postgresql package")
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg + "; skipped because $CI is unset")
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
    if os.geteuid() == 0:  # initdb refuses to run as root
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data, log = base / "data", base / "log"

    def pg(tool: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*as_user, str(bindir / tool), *args], capture_output=True,
                              text=True, timeout=120, cwd=base)

    def fail(step: str, proc: subprocess.CompletedProcess) -> None:
        # the server's own FATAL/ERROR line says why; pg_ctl's last line only says "see log"
        logged = [x for x in (log.read_text() if log.exists() else "").splitlines()
                  if "FATAL" in x or "ERROR" in x]
        said = [x for x in (proc.stderr + proc.stdout).splitlines() if x.strip()]
        why = (logged or said or [f"exit code {proc.returncode}"])[-1 if logged else 0]
        pytest.fail(f"the test PostgreSQL server ({bindir}) failed at {step}: {why.strip()}")

    started = False
    try:
        proc = pg("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")
        if proc.returncode:
            fail("initdb", proc)
        # A throwaway server: no fsync (nothing here must survive a power cut).
        opts = f"-k {base} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
        proc = pg("pg_ctl", "-D", str(data), "-o", opts, "-l", str(log), "-w", "-t", "60",
                  "start")
        if proc.returncode:
            fail("pg_ctl start", proc)
        started = True
        proc = pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "wb")
        if proc.returncode:
            fail("createdb", proc)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/wb"
    finally:
        if started:
            pg("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def make_postgres_db(postgres_url):
    """Make new empty databases on the session's server (``make() -> URL``), dropped after."""
    import uuid

    from sqlalchemy import create_engine, pool

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    made: list[str] = []

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        made.append(name)
        return postgres_url.rsplit("/", 1)[0] + "/" + name

    yield make
    with admin.connect() as conn:
        for name in made:  # FORCE: engines cached by the store still hold connections
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
