"""Workbench projects: a folder with ``checks/``, ``reports/``, a config file and a
hidden state folder holding the store, dataset versions, runs and the model cache."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from .config import ConfigSource, read_yaml
from .errors import ConfigError

CONFIG_FILE = "workbench.yaml"
STATE_DIR = ".workbench"

_GITIGNORE = ".workbench/\nreports/*\n!reports/.gitkeep\n"


@dataclass(frozen=True)
class Project:
    """A workbench project rooted at ``root``."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def state(self) -> Path:
        return self.root / STATE_DIR

    @property
    def checks_dir(self) -> Path:
        return self.root / "checks"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def datasets_dir(self) -> Path:
        return self.state / "datasets"

    @property
    def runs_dir(self) -> Path:
        return self.state / "runs"

    @property
    def models_dir(self) -> Path:
        """The model cache; ``$WORKBENCH_MODEL_CACHE`` shares one across projects."""
        shared = os.environ.get("WORKBENCH_MODEL_CACHE")
        return Path(shared) if shared else self.state / "models"

    @property
    def cache_dir(self) -> Path:
        return self.state / "cache"

    @property
    def uploads_dir(self) -> Path:
        return self.state / "uploads"

    @property
    def hf_home(self) -> Path:
        return self.state / "hf_home"

    @property
    def db_url(self) -> str:
        url = os.environ.get("WORKBENCH_DB_URL")
        if url:
            return url
        return f"sqlite:///{self.state / 'store.db'}"

    @property
    def config(self) -> dict:
        return self._read_config()[0]

    @property
    def config_source(self) -> ConfigSource:
        """Where the project's settings come from, with the line of each key (for errors)."""
        return self._read_config()[1]

    def _read_config(self) -> tuple[dict, ConfigSource]:
        try:
            text = self.config_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}, ConfigSource(str(self.config_path))
        data, source = read_yaml(text, str(self.config_path))
        if data is None:
            return {}, source
        if not isinstance(data, dict):
            raise ConfigError(f"{self.config_path}: expected a mapping at the top level")
        return data, source

    @property
    def name(self) -> str:
        return str(self.config.get("name") or self.root.name)

    def ensure_state(self) -> None:
        """Create the state folders (idempotent)."""
        for d in (self.state, self.datasets_dir, self.runs_dir, self.models_dir,
                  self.cache_dir, self.uploads_dir):
            d.mkdir(parents=True, exist_ok=True)


def init_project(directory: str | os.PathLike, *, name: str | None = None) -> Project:
    """Create a workbench project in ``directory`` (which may exist, but not as a project).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = init_project(pathlib.Path(tempfile.mkdtemp()) / "demo")
    >>> sorted(x.name for x in p.root.iterdir())
    ['.gitignore', '.workbench', 'checks', 'reports', 'workbench.yaml']
    """
    root = Path(directory).resolve()
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root}: exists and is not a directory")
    if (root / CONFIG_FILE).exists():
        raise ConfigError(f"{root}: already a workbench project ({CONFIG_FILE} exists)")
    root.mkdir(parents=True, exist_ok=True)
    (root / "checks").mkdir(exist_ok=True)
    (root / "reports").mkdir(exist_ok=True)
    (root / "reports" / ".gitkeep").touch()
    config = {"name": name or root.name, "version": 1}
    (root / CONFIG_FILE).write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    gi = root / ".gitignore"
    if not gi.exists():
        gi.write_text(_GITIGNORE, encoding="utf-8")
    project = Project(root)
    project.ensure_state()
    return project


def find_project(start: str | os.PathLike | None = None) -> Project:
    """Find the project containing ``start`` (default: ``$WORKBENCH_PROJECT`` or the cwd)."""
    env = os.environ.get("WORKBENCH_PROJECT")
    if start is None and env:
        root = Path(env).resolve()
        if not (root / CONFIG_FILE).is_file():
            raise ConfigError(f"WORKBENCH_PROJECT={env}: no {CONFIG_FILE} there")
        return Project(root)
    here = Path(start or os.getcwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILE).is_file():
            return Project(candidate)
    raise ConfigError(
        f"{here}: not inside a workbench project (no {CONFIG_FILE} here or above); "
        "run 'workbench init DIR' or pass --project"
    )
