"""Find probe sets: by name, path or benchmark; and every prompt a project's sets send."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import WorkbenchError, unknown_name
from ..splits import ProbePrompts
from ._benchmarks import BENCHMARKS, load_benchmark
from ._sets import ProbePlan, expand, list_probe_sets, load_probe_set_file


def resolve_probes(project, ref: str) -> ProbePlan:
    """A probe set by name, a YAML path, or a benchmark (``bold:gender``, ``crows-pairs``)."""
    ref = ref.strip()
    p = Path(ref).expanduser()
    if p.suffix.lower() in (".yaml", ".yml") or p.is_file():
        return expand(load_probe_set_file(p))
    head = ref.split(":", 1)[0]
    if head in BENCHMARKS:
        return load_benchmark(ref)
    sets = list_probe_sets(project)
    if ref in sets:
        return expand(load_probe_set_file(sets[ref]))
    choices = [*sets, *(b for k, v in BENCHMARKS.items() for b in v.names)]
    raise unknown_name("probe set", ref, choices)


def probe_prompts(project) -> ProbePrompts:
    """Every prompt of every probe set the project holds; unreadable files are skipped.

    The split's leakage check takes them as data (``make_split(probe_prompts=...)``): they
    are exactly the prompts ``workbench probe`` sends (bundled sets, shadowed by a project
    set of the same name).
    """
    prompts, sources, skipped = [], [], []
    for path in list_probe_sets(project).values():
        try:
            plan = expand(load_probe_set_file(path))
        except WorkbenchError as exc:  # a broken probe set must not stop a split
            msg = str(exc).removeprefix(f"{path}: ")
            skipped.append(f"{path.name}: {msg}")
            continue
        prompts.extend(p.text for p in plan.prompts)
        sources.append(f"{plan.name}@v{plan.version}")
    return ProbePrompts(prompts, sources, skipped)


__all__ = ["probe_prompts", "resolve_probes"]
