"""Work across processes with accelerate: sharded generation and launching.

- :func:`generate_across_processes` runs inside a multi-process launch (``accelerate
  launch`` or ``torchrun``): every process calls it with the same prompts, each generates
  its contiguous share of the distinct prompts (accelerate's ``split_between_processes``)
  and all of them get every completion back, in input order.
- :func:`launch_command` builds the ``accelerate launch`` command line that starts N
  processes on this machine (gloo on CPU, NCCL on GPUs) or follows an accelerate config
  file (multi-node).

torch and accelerate are imported inside the functions.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ._errors import WorkbenchError


def world() -> tuple[int, int]:
    """``(rank, world size)`` of this process, read from the launcher's environment."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    """True in a single process and in rank 0 of a launch."""
    return world()[0] == 0


def partial_state():
    """accelerate's ``PartialState`` for this launch (gloo on CPU, NCCL on GPUs)."""
    import torch
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())


def generate_across_processes(project, model: str, prompts: Sequence[str], *,
                              settings=None,
                              progress: Callable[[int, int], None] | None = None,
                              use_cache: bool = True) -> list[str]:
    """Every completion, in input order, with the work shared by the launched processes.

    Each process must call this with the same ``prompts`` and ``settings``. Identical
    prompts are generated once; each process writes its own completions to the shared
    on-disk cache (SQLite, safe with several writers). In one process this is
    :func:`workbench.generate.generate`. Greedy output equals a single-process run.
    """
    from .generate import GenerationSettings, generate

    settings = settings or GenerationSettings()
    if world()[1] <= 1:
        return generate(project, model, prompts, settings=settings, progress=progress,
                        use_cache=use_cache)
    from accelerate.utils import gather_object

    from .models import prepare_model

    state = partial_state()
    with state.main_process_first():  # one process builds or converts the model
        prepare_model(project, model)
    prompts = ["" if p is None else str(p) for p in prompts]
    unique = list(dict.fromkeys(prompts))
    quiet = progress if state.is_main_process else (lambda done, total: None)
    with state.split_between_processes(unique) as mine:
        texts = generate(project, model, list(mine), settings=settings, progress=quiet,
                         use_cache=use_cache)
    gathered = gather_object(list(texts))  # concatenated in rank order = unique's order
    if len(gathered) != len(unique):
        raise RuntimeError(f"gathered {len(gathered)} completions for {len(unique)} prompts")
    by_prompt = dict(zip(unique, gathered))
    return [by_prompt[p] for p in prompts]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for the rendezvous)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch_command(target: Sequence[str], *, num_processes: int,
                   config_file: str | os.PathLike | None = None,
                   port: int | None = None, module: bool = False) -> tuple[list[str], dict]:
    """The ``accelerate launch`` argv and extra environment to run ``target`` N times.

    Parameters
    ----------
    target
        The script (or, with ``module=True``, the module) and its arguments.
    num_processes
        Processes on this machine (without ``config_file``) or in total.
    config_file
        An accelerate config (``accelerate config``) for a multi-node or GPU setup; its
        ``num_processes`` is overridden by ``num_processes``.
    port
        Rendezvous port on 127.0.0.1 (default: a free one).
    module
        Run ``target[0]`` as ``python -m``.

    Returns
    -------
    (argv, env)
        Start it with ``subprocess.run(argv, env={**os.environ, **env})``.
    """
    if not isinstance(num_processes, int) or num_processes < 1:
        raise WorkbenchError(f"--num-processes: must be an integer >= 1; got {num_processes!r}")
    argv = [sys.executable, "-m", "accelerate.commands.launch"]
    env: dict[str, str] = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise WorkbenchError(f"--accelerate-config: no such file {path}")
        argv += ["--config_file", str(path), "--num_processes", str(num_processes)]
    else:
        import torch

        if not torch.cuda.is_available():
            # accelerate's MULTI_CPU launcher starts one process; its multi-GPU launcher is
            # torch.distributed.run, and the processes pick gloo on CPU.
            env["ACCELERATE_USE_CPU"] = "1"
        argv += ["--multi_gpu", "--num_machines", "1", "--num_processes", str(num_processes),
                 "--mixed_precision", "no", "--dynamo_backend", "no",
                 "--main_process_ip", "127.0.0.1",
                 "--main_process_port", str(port or free_port())]
    if module:
        argv.append("--module")
    argv += [str(t) for t in target]
    return argv, env


__all__ = ["generate_across_processes", "is_main_process", "launch_command", "world"]
