"""Execution engines beyond one pandas frame: a shared SparkSession.

``spark_session(master)`` starts (or reuses) one SparkSession per process: ``local[*]``
by default, any Spark master URL otherwise, with the web UI off, the driver bound to
127.0.0.1 for local masters and Spark's own logging cut down to errors. Asking for Spark
without pyspark or without Java raises a one-line :class:`WorkbenchError` saying how to
install them. pyspark is imported inside the functions that need it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from .errors import ConfigError

ENGINES = ("pandas", "spark")
DEFAULT_MASTER = "local[*]"
INSTALL_HINT = ("install it with `pip install 'workbench[spark]'` (or `pip install pyspark`); "
                "`make app` / `make test` install it")
_MASTER_RE = re.compile(
    r"^(local(\[(\*|\d+)(,\d+)?\])?|local-cluster\[\d+,\d+,\d+\]|yarn|"
    r"(spark|mesos|k8s)://\S+)$")
_QUIET_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.parquet.name = org.apache.parquet
logger.parquet.level = error
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
"""


def check_engine(engine: str) -> str:
    """Return ``engine`` if it is known, else raise naming the choices."""
    if engine not in ENGINES:
        from .errors import did_you_mean

        raise ConfigError(f"engine: unknown engine '{engine}'{did_you_mean(engine, ENGINES)}"
                          f"; choose one of: {', '.join(ENGINES)}", param="engine")
    return engine


def check_master(master: str | None) -> str:
    """A Spark master URL (``local[*]`` when None), checked for its form only."""
    master = DEFAULT_MASTER if master in (None, "") else str(master).strip()
    if not _MASTER_RE.match(master):
        raise ConfigError(
                          f"spark master: '{master}' is not a Spark master URL; use local[*], "
                          "local[N], spark://HOST:PORT, yarn or k8s://https://HOST:PORT",
                          param="spark_master")
    return master


def java_home() -> str | None:
    """The Java installation Spark will use (``$JAVA_HOME`` or ``java`` on PATH)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return home
    java = shutil.which("java")
    return str(Path(java).resolve().parent.parent) if java else None


def require_spark() -> None:
    """Raise a one-line error unless pyspark and Java are both installed."""
    if importlib.util.find_spec("pyspark") is None:
        raise ConfigError(f"engine: Spark needs pyspark, which is not installed; {INSTALL_HINT}",
                          param="engine")
    if java_home() is None:
        raise ConfigError("engine: Spark needs Java 17 or newer and none was found "
                          "(no $JAVA_HOME, no `java` on PATH); install it with "
                          "`apt-get install openjdk-17-jre-headless` (`make app` / `make test` "
                          "do) or set JAVA_HOME", param="engine")


def _quiet_conf_dir() -> Path:
    """A Spark conf folder holding only a quiet ``log4j2.properties``."""
    folder = Path(tempfile.gettempdir()) / f"workbench-spark-conf-{os.getuid()}"
    folder.mkdir(exist_ok=True)
    path = folder / "log4j2.properties"
    if not path.exists() or path.read_text() != _QUIET_LOG4J:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(_QUIET_LOG4J)
        os.replace(tmp, path)
    return folder


def spark_session(master: str | None = None, *, app_name: str = "workbench",
                  conf: dict[str, str] | None = None):
    """Start or reuse this process's SparkSession on ``master`` (default ``local[*]``).

    Parameters
    ----------
    master
        A Spark master URL: ``local[*]``, ``local[N]``, ``spark://HOST:PORT``, ``yarn``,
        ``k8s://...``; None reuses the running session, or starts ``local[*]``. A running
        session on another master is stopped first.
    app_name
        The application name shown by the cluster manager.
    conf
        Extra Spark settings (``spark.executor.memory`` ...).

    Returns
    -------
    pyspark.sql.SparkSession
    """
    wanted = master
    master = check_master(master)
    require_spark()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    if "JAVA_HOME" not in os.environ:
        os.environ["JAVA_HOME"] = java_home() or ""
    # a cluster's own SPARK_CONF_DIR wins; otherwise Spark logs errors only
    os.environ.setdefault("SPARK_CONF_DIR", str(_quiet_conf_dir()))
    import warnings

    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        if wanted in (None, "") or active.sparkContext.master == master:
            return active
        active.stop()
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC"))
    if master.startswith("local"):
        builder = (builder.config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.sql.shuffle.partitions", "8"))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - py4j / JVM start-up errors vary
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"spark master: could not start Spark on '{master}': "
                          f"{first}", param="spark_master") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def stop_spark() -> None:
    """Stop this process's SparkSession, if any."""
    if "pyspark" not in sys.modules:
        return
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()


__all__ = ["DEFAULT_MASTER", "ENGINES", "check_engine", "check_master", "require_spark",
           "spark_session", "stop_spark"]
