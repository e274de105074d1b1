"""Run by tests/generation/test_distributed.py under `accelerate launch` (one copy per process)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from workbench.core.project import Project
from workbench.generation import GenerationSettings, generate
from workbench.models import partial_state, world

root, out_dir, prompts_file = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
prompts = json.loads(prompts_file.read_text())
project = Project(root)
state = partial_state()
rank, size = world()
sharded = generate(project, "tiny:gpt2", prompts, across_processes=True,
                   settings=GenerationSettings(max_new_tokens=8, batch_size=3),
                   progress=lambda d, t: None)
# every process generates every prompt and writes the same keys at the same time
state.wait_for_everyone()
overlap = generate(project, "tiny:gpt2", prompts, progress=lambda d, t: None,
                   settings=GenerationSettings(max_new_tokens=5, batch_size=2))
(out_dir / f"rank{rank}.json").write_text(json.dumps({
    "rank": rank, "world_size": size, "state_processes": state.num_processes,
    "backend": state.backend, "sharded": sharded, "overlap": overlap}))
