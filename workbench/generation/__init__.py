"""Generation: batched, cached completions for any prompt set (evaluations and probes),
in one process or shared across the processes of a launch.
"""

from __future__ import annotations

from ._generate import (
    CACHE_VERSION,
    GenerationCache,
    GenerationSettings,
    cache_for,
    encode_prompts,
    generate,
    generate_across_processes,
    generate_ids,
    generate_samples,
)

__all__ = [
    "cache_for", "CACHE_VERSION", "encode_prompts", "generate",
    "generate_across_processes", "generate_ids", "generate_samples", "GenerationCache",
    "GenerationSettings",
]
