"""Locate files inside installed PyPI packages without importing them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .errors import ConfigError


def package_root(pkg: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(pkg)
    if spec is None or not (spec.origin or spec.submodule_search_locations):
        raise ConfigError(
            f"the package '{pkg}' is not installed; run the README's setup command "
            f"(it installs it with: pip install --no-deps {pkg.replace('_', '-')})")
    if spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(spec.origin).parent


def package_path(pkg: str, rel: str) -> Path:
    path = package_root(pkg) / rel
    if not path.exists():
        raise ConfigError(f"the installed package '{pkg}' has no {rel}")
    return path
