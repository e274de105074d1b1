"""Engine selection: bad names and master URLs, and the one-line errors when the Spark
engine is asked for without pyspark or without Java (no JVM is started here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.core.engines import check_engine, check_master
from workbench.core.errors import WorkbenchError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("engine, match", [
    ("sprak", r"engine: unknown engine 'sprak' \(did you mean 'spark'\?\); choose one of: "
              r"pandas, spark"),
    ("ray", r"engine: unknown engine 'ray'; choose one of: pandas, spark"),
])
def test_unknown_engine(engine, match):
    with pytest.raises(WorkbenchError, match=match):
        check_engine(engine)


@pytest.mark.parametrize("master", ["local[*]", "local", "local[2]", "local[4,2]",
                                    "spark://10.0.0.5:7077", "yarn",
                                    "k8s://https://10.0.0.1:6443"])
def test_master_urls_accepted(master):
    assert check_master(master) == master


def test_default_master():
    assert check_master(None) == "local[*]"


@pytest.mark.parametrize("master", ["locale", "local[x]", "http://host:7077", "spark:/h"])
def test_bad_master_url(master):
    with pytest.raises(WorkbenchError, match=r"spark master: '.*' is not a Spark master URL; "
                                             r"use local\[\*\], local\[N\], spark://HOST:PORT"):
        check_master(master)


def _run(code: str, env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_spark_without_pyspark_says_how_to_install():
    code = ("import sys, json; sys.modules['pyspark'] = None\n"
            "from workbench.core.engines import spark_session\n"
            "from workbench.core.errors import WorkbenchError\n"
            "try:\n    spark_session()\nexcept WorkbenchError as e:\n"
            "    print(json.dumps([str(e), type(e).__name__, e.param]))")
    msg, kind, param = _run(code, {**os.environ, "PYTHONPATH": str(ROOT)})
    assert (kind, param) == ("ConfigError", "engine")  # the CLI says --engine, the app its label
    assert msg.startswith("engine: Spark needs pyspark, which is not installed; install it with "
                          "`pip install 'workbench[spark]'`")
    assert "\n" not in msg


def test_spark_without_java_says_how_to_install(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(Path(sys.executable).parent)  # the venv only: no java
    env["PYTHONPATH"] = str(ROOT)
    code = ("import json\nfrom workbench.core.engines import spark_session\n"
            "from workbench.core.errors import WorkbenchError\n"
            "try:\n    spark_session()\nexcept WorkbenchError as e:\n"
            "    print(json.dumps([str(e), type(e).__name__, e.param]))")
    msg, kind, param = _run(code, env)
    if "needs pyspark" in msg:
        pytest.skip("pyspark is not installed here")
    assert msg.startswith("engine: Spark needs Java 17 or newer and none was found")
    assert (kind, param) == ("ConfigError", "engine")


def test_a_spark_error_names_the_engine_flag_or_label(monkeypatch):
    from types import SimpleNamespace

    from workbench.cli._main import error_line
    from workbench.core import engines
    from workbench.core.errors import ConfigError

    no_pyspark = SimpleNamespace(util=SimpleNamespace(find_spec=lambda name: None))
    monkeypatch.setattr(engines, "importlib", no_pyspark)
    with pytest.raises(ConfigError) as err:
        engines.require_spark()
    line = error_line(err.value, ["check", "qa", "--suite", "s.yaml", "--engine", "spark"])
    assert line.startswith("--engine: Spark needs pyspark, which is not installed; install it "
                           "with `pip install 'workbench[spark]'`")
    assert err.value.labelled("Engine").startswith("Engine: Spark needs pyspark, which is")
