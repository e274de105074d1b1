"""Fine-tuning through Hugging Face Trainer: configs, LoRA, learning-rate search, resume.

``load_config`` reads a YAML config, ``train`` checks everything, trains, writes a
checkpoint folder with a model card and records the run (kind ``"train"``) in the store;
``lr_search`` runs a budgeted learning-rate range test.
"""

from __future__ import annotations

from ._card import md_text, update_model_card
from ._config import (
    CardConfig,
    DataConfig,
    LoraConfig,
    LRSearchConfig,
    TrainConfig,
    TrainingSettings,
    load_config,
    parse_config,
    write_learning_rate,
)
from ._lr_search import LRSearchResult, choose_rate, lr_search
from ._run import (
    TrainPlan,
    TrainProgress,
    TrainResult,
    check_checkpoint,
    device_choice,
    find_resumable,
    plan_training,
    run_training,
    train,
)

__all__ = [
    "CardConfig", "DataConfig", "LoraConfig", "LRSearchConfig", "LRSearchResult", "TrainConfig",
    "choose_rate", "lr_search",
    "TrainingSettings", "TrainPlan", "TrainProgress", "TrainResult", "check_checkpoint",
    "device_choice", "find_resumable", "load_config", "parse_config", "plan_training",
    "run_training", "train", "write_learning_rate", "md_text", "update_model_card",
]

from ._status import (  # noqa: E402 - where a run is, for front ends
    base_models,
    column_roles,
    failed_jobs,
    form_config,
    job_phase,
    job_row,
    run_phase,
    run_row,
    split_columns,
    starting_jobs,
)

__all__ += ["base_models", "column_roles", "failed_jobs", "form_config", "job_phase", "job_row",
            "run_phase", "run_row", "split_columns", "starting_jobs"]
