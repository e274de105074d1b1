"""A budgeted learning-rate range test (Smith 2015; the fastai ``lr_find`` rule).

The learning rate grows exponentially from ``min_lr`` to ``max_lr`` over ``steps``
optimizer steps of the real Trainer on the real data (LoRA or full, as configured). Each
step is a trial stored in the store (rate, loss, smoothed loss). The test stops early when
the smoothed loss exceeds ``divergence`` times its best. The chosen rate is the rate at
the lowest smoothed loss divided by 10: the loss still falls fast there, safely below the
rate where it blows up.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from ..core.errors import ConfigError
from ._config import TrainConfig


@dataclass(frozen=True)
class LRSearchResult:
    """Trials of a range test and the rate it chose."""

    run_id: int
    trials: list[dict]
    chosen_lr: float
    min_loss_lr: float
    steepest_lr: float | None
    rule: str
    stopped_early: bool
    report: str | None = None
    notes: list[str] = field(default_factory=list)
    signature: str = ""
    subtitle: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def rate_at(step: int, steps: int, min_lr: float, max_lr: float) -> float:
    """The exponential schedule: ``min_lr`` at step 0, ``max_lr`` at step ``steps - 1``.

    >>> round(rate_at(0, 5, 1e-4, 1e-2), 6), round(rate_at(4, 5, 1e-4, 1e-2), 6)
    (0.0001, 0.01)
    """
    return min_lr * (max_lr / min_lr) ** (step / max(steps - 1, 1))


def choose_rate(lrs: list[float], smoothed: list[float]) -> tuple[float, float, float | None,
                                                                  str, list[str]]:
    """``(chosen, min_loss_lr, steepest_lr, rule, notes)`` from a smoothed loss curve."""
    notes: list[str] = []
    best = min(range(len(smoothed)), key=smoothed.__getitem__)
    min_lr_loss = lrs[best]
    steepest = None
    if best >= 2:
        slopes = [(smoothed[i + 1] - smoothed[i]) / (math.log(lrs[i + 1]) - math.log(lrs[i]))
                  for i in range(best)]
        steepest = lrs[min(range(len(slopes)), key=slopes.__getitem__)]
    if best == 0:
        notes.append("the loss never fell below its first value: lower lr_search.min_lr or "
                     "check the data")
        return lrs[0], min_lr_loss, steepest, "lowest rate tried (the loss only rose)", notes
    chosen = max(min_lr_loss / 10, lrs[0])
    if best == len(lrs) - 1:
        notes.append("the loss was still falling at lr_search.max_lr: raise it to see where "
                     "training diverges")
    return chosen, min_lr_loss, steepest, "rate at the lowest smoothed loss / 10", notes


def lr_search(project, config: TrainConfig, *, config_path: str | None = None,
              progress: Callable | None = None,
              say: Callable[[str], None] | None = None) -> LRSearchResult:
    """Run the range test for ``config`` and store every trial.

    The loss-versus-rate report is :func:`workbench.reports.write_lr_search_report`.
    """
    from transformers import TrainerCallback

    from ..core.digest import signature
    from ..core.store import Store
    from ._run import TrainProgress, _wrap_lora, build_trainer, plan_training

    s = config.lr_search
    plan = plan_training(project, config, source=config_path, say=say)
    store = Store.for_project(project)
    name = f"lr search {config.name or config.model}"
    trials: list[dict] = []
    state = {"avg": 0.0, "best": math.inf, "stopped": False}

    class RangeTest(TrainerCallback):
        def on_step_begin(self, args, st, control, optimizer=None, **kw):
            lr = rate_at(st.global_step, s.steps, s.min_lr, s.max_lr)
            for group in optimizer.param_groups:
                group["lr"] = lr

        def on_log(self, args, st, control, logs=None, **kw):
            if not logs or "loss" not in logs:
                return
            loss = float(logs["loss"])
            step = st.global_step
            lr = rate_at(step - 1, s.steps, s.min_lr, s.max_lr)
            if not math.isfinite(loss):
                state["stopped"] = True
                control.should_training_stop = True
                return
            state["avg"] = s.smoothing * state["avg"] + (1 - s.smoothing) * loss
            smooth = state["avg"] / (1 - s.smoothing ** (len(trials) + 1))
            trials.append({"step": step, "lr": lr, "loss": loss, "smoothed_loss": smooth})
            store.log_metrics(run_id, step, {"lr": lr, "loss": loss, "smoothed_loss": smooth})
            state["best"] = min(state["best"], smooth)
            if len(trials) > 3 and smooth > s.divergence * state["best"]:
                state["stopped"] = True
                control.should_training_stop = True
            if progress:
                progress(TrainProgress(step, s.steps, loss, None))

    run_config = {**config.model_dump(mode="json"), "config_path": config_path}
    with store.record("lr-search", name=name, config=run_config,
                      input_hashes={"config": config.fingerprint(), "model": plan.model_fp,
                                    "split": plan.data.ref}) as outputs:
        run_id = outputs["run_id"]
        store.add_lineage(("run", plan.data.run.id), ("run", run_id), "lr-search")
        model = _wrap_lora(config, plan.model) if config.method == "lora" else plan.model
        plan.tokenised.eval = []  # the range test reads the training loss only
        trainer = build_trainer(
            plan, model, project.runs_dir / str(run_id) / "lr-search", callbacks=[RangeTest()],
            max_steps=s.steps, num_train_epochs=1, learning_rate=s.min_lr,
            lr_scheduler_type="constant", warmup_steps=0, logging_steps=1,
            logging_first_step=False, eval_strategy="no", save_strategy="no",
            load_best_model_at_end=False, metric_for_best_model=None, greater_is_better=None)
        if say:
            say(f"range test: {s.steps} steps from {s.min_lr:g} to {s.max_lr:g}")
        trainer.train()
        if len(trials) < 3:
            raise ConfigError(f"lr_search: only {len(trials)} finite losses before the loss "
                              "diverged; lower lr_search.min_lr")
        chosen, at_min, steepest, rule, notes = choose_rate(
            [t["lr"] for t in trials], [t["smoothed_loss"] for t in trials])
        if state["stopped"]:
            notes.append(f"stopped after {len(trials)} of {s.steps} steps: the loss diverged")
        sig = signature(lrsearch=f"run:{run_id}", model=config.model, model_fp=plan.model_fp,
                        split=plan.data.ref, method=config.method,
                        range=f"{config.lr_search.min_lr:g}-{config.lr_search.max_lr:g}",
                        steps=config.lr_search.steps, seed=config.training.seed)
        res = LRSearchResult(run_id=run_id, trials=trials, chosen_lr=chosen,
                             min_loss_lr=at_min, steepest_lr=steepest, rule=rule,
                             stopped_early=state["stopped"], notes=notes, signature=sig,
                             subtitle=f"{config.model}, {config.method}, {plan.data.ref}")
        outputs.update({k: v for k, v in res.to_dict().items() if k != "run_id"})
    return res


