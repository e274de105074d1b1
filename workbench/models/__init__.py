"""Models: one spec parser, the model cache, preparation, loading, devices and processes.

A spec is a local folder, ``run:ID``, ``packaged:NAME``, ``tiny:gpt2[:DATASET]`` or a hub id
(see :func:`prepare_model`). Remote code is never trusted; only safetensors are written.
"""

from __future__ import annotations

from ._devices import (
    DeviceChoice,
    choose_device,
    free_port,
    inference_device,
    is_main_process,
    launch_command,
    partial_state,
    place_model,
    torchrun_command,
    world,
)
from ._models import (
    AUTO_CLASSES,
    PACKAGED_MODELS,
    TINY_MODELS,
    ModelInfo,
    ModelTask,
    build_tiny_gpt2,
    demo_texts,
    exclusive_model_use,
    has_chat_template,
    list_models,
    load_causal_lm,
    load_model,
    model_fingerprint,
    model_task,
    prepare_model,
)
from ._spec import ModelSpec, parse_model_spec, trained_run_id

__all__ = [
    "choose_device", "DeviceChoice", "inference_device", "place_model",
    "AUTO_CLASSES", "load_model", "model_task", "ModelTask",
    "build_tiny_gpt2", "demo_texts", "exclusive_model_use", "free_port", "has_chat_template",
    "is_main_process", "launch_command", "list_models", "load_causal_lm",
    "model_fingerprint", "ModelInfo", "ModelSpec", "PACKAGED_MODELS", "parse_model_spec",
    "partial_state", "trained_run_id",
    "prepare_model", "TINY_MODELS", "torchrun_command", "world",
]
