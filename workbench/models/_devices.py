"""Processes and devices: where this process sits in a launch, and how to launch N.

- :func:`world`, :func:`is_main_process`, :func:`partial_state`: this process's rank in an
  ``accelerate launch`` / ``torchrun`` run (training and generation share them; sharded
  generation itself is :func:`workbench.generation.generate_across_processes`).
- :func:`choose_device` picks where inference runs (generation, scorers, likelihoods) from
  what is available: CUDA in bf16 (fp16 where bf16 is unsupported), else the CPU in fp32,
  as training does; :func:`inference_device` asks torch; :func:`place_model` moves a loaded
  model there.
- :func:`launch_command` builds the ``accelerate launch`` command line that starts N
  processes on this machine (gloo on CPU, NCCL on GPUs) or follows an accelerate config
  file (multi-node); :func:`torchrun_command` the same with ``torchrun``.

torch and accelerate are imported inside the functions.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..core.errors import ConfigError


@dataclass(frozen=True)
class DeviceChoice:
    """Where a model runs and in which precision; ``label`` goes into every signature."""

    device: Literal["cpu", "cuda"]
    precision: Literal["fp32", "bf16", "fp16"]

    @property
    def label(self) -> str:
        """``cpu-fp32``, ``cuda-bf16``..."""
        return f"{self.device}-{self.precision}"

    @property
    def torch_dtype(self):
        import torch

        return {"fp32": torch.float32, "bf16": torch.bfloat16,
                "fp16": torch.float16}[self.precision]


def choose_device(*, cuda: bool, bf16: bool = False) -> DeviceChoice:
    """The device and precision for inference, from what this machine has.

    >>> choose_device(cuda=False).label
    'cpu-fp32'
    >>> choose_device(cuda=True, bf16=True).label, choose_device(cuda=True).label
    ('cuda-bf16', 'cuda-fp16')
    """
    if cuda:
        return DeviceChoice("cuda", "bf16" if bf16 else "fp16")
    return DeviceChoice("cpu", "fp32")


def _gpu_build() -> bool:
    """Whether the installed torch is built for a GPU (CUDA or ROCm), read from its
    ``version.py`` without importing torch (a CPU wheel cannot use a GPU)."""
    import importlib.util
    import re

    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return False
    try:
        text = (Path(next(iter(spec.submodule_search_locations))) / "version.py").read_text()
    except OSError:
        return True  # unknown: ask torch itself
    builds = re.findall(r"^(?:cuda|hip)\s*(?::[^=]*)?=\s*(.+?)\s*$", text, flags=re.MULTILINE)
    return any(v not in ("None", "''", '""') for v in builds)


def inference_device() -> DeviceChoice:
    """:func:`choose_device` for this process (torch asked whether CUDA and bf16 work).

    With a CPU-only torch build this is ``cpu-fp32`` without importing torch, so a fully
    cached generation stays light.
    """
    if "torch" not in sys.modules and not _gpu_build():
        return choose_device(cuda=False)
    import torch

    cuda = torch.cuda.is_available()
    return choose_device(cuda=cuda, bf16=cuda and torch.cuda.is_bf16_supported())


def place_model(model, choice: DeviceChoice | None = None):
    """``model`` on the chosen device in its precision (on the CPU: left as loaded, fp32)."""
    choice = choice or inference_device()
    if choice.device == "cpu":
        return model
    return model.to(device=choice.device, dtype=choice.torch_dtype)


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
        raise ConfigError(f"num processes: must be an integer >= 1; got {num_processes!r}",
                          param="num_processes")
    argv = [sys.executable, "-m", "accelerate.commands.launch"]
    env: dict[str, str] = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"accelerate config: no such file {path}", param="accelerate_config")
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


def torchrun_command(target: Sequence[str], *, num_processes: int, port: int | None = None,
                     module: bool = False) -> tuple[list[str], dict]:
    """The ``torchrun`` argv and extra environment to run ``target`` N times on this machine.

    Same contract as :func:`launch_command` (without a config file).
    """
    if not isinstance(num_processes, int) or num_processes < 1:
        raise ConfigError(f"num processes: must be an integer >= 1; got {num_processes!r}",
                          param="num_processes")
    import torch

    env = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    if not torch.cuda.is_available():
        env["ACCELERATE_USE_CPU"] = "1"
    argv = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
            "--nproc_per_node", str(num_processes), "--master_addr", "127.0.0.1",
            "--master_port", str(port or free_port())]
    if module:
        argv.append("--module")
    return argv + [str(t) for t in target], env


__all__ = ["choose_device", "DeviceChoice", "inference_device", "is_main_process",
           "launch_command", "place_model",
           "torchrun_command", "world"]
