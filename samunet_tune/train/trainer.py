"""The training loop, in the accelerate style: prepare, accumulate, backward, save_state.

One loop for every strategy; what trains is the strategy's business, where it runs (CPU, one
GPU, DDP via `accelerate launch`) is accelerate's.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F

from samunet_tune.config import Recipe, dump_config, instantiate
from samunet_tune.modeling.prompts import Prompts
from samunet_tune.strategies.parts import base_samunet
from samunet_tune.train import checkpoints
from samunet_tune.train.build import build_datasets, build_model_for_recipe
from samunet_tune.train.evaluation import validate_masks
from samunet_tune.train.feature_cache import FeatureCache
from samunet_tune.train.losses import LOSSES
from samunet_tune.train.recipe import DEFAULT_LOSS, DEFAULT_OPTIMIZER, TrainRecipe
from samunet_tune.train.scalar_log import ScalarLog


def batch_prompts(batch: dict) -> Prompts:
    return Prompts(
        boxes=batch.get("boxes"),
        points=batch.get("points"),
        point_labels=batch.get("point_labels"),
        image_index=batch["image_index"],
    )


class Trainer:
    """Runs one recipe. Args: recipe (the loaded YAML, for recipe.yaml) and its validated settings."""

    def __init__(self, recipe: Recipe, settings: TrainRecipe) -> None:
        self.recipe = recipe
        self.settings = settings
        self.output_dir = Path(settings.output_dir)
        self.checkpoint_dir = self.output_dir / "checkpoints"

    # set-up -------------------------------------------------------------------------------
    def _setup(self) -> None:
        from accelerate import Accelerator
        from accelerate.utils import DataLoaderConfiguration, DistributedDataParallelKwargs, set_seed

        from samunet_tune.modeling.memory import set_activation_checkpointing, set_channels_last
        from samunet_tune.strategies import build_strategy

        settings = self.settings
        self.accelerator = accelerator = Accelerator(
            gradient_accumulation_steps=settings.train.gradient_accumulation_steps,
            mixed_precision=settings.train.mixed_precision,
            # On a machine without CUDA, `accelerate launch --multi_gpu` only becomes gloo
            # processes (MULTI_CPU) when the Accelerator is told it runs on the CPU.
            cpu=settings.train.cpu or not torch.cuda.is_available(),
            dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),
            step_scheduler_with_optimizer=False,
            # Box-only prompts leave some prompt-encoder weights (point and mask embeddings)
            # without gradients; DDP must be told, or it waits for them forever.
            kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
            dynamo_backend="inductor" if settings.train.compile else "no",
        )
        set_seed(settings.seed)
        model = build_model_for_recipe(settings.model)
        if accelerator.num_processes > 1 and settings.train.sync_batchnorm:
            if accelerator.device.type == "cuda":
                # The reference trains with DDP + SyncBatchNorm; state-dict keys stay the same.
                model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
            elif accelerator.is_main_process:
                print("note: SyncBatchNorm needs GPUs; on CPU processes each BatchNorm uses its own batch")
        self.image_size = model.config.image_size
        self.strategy = build_strategy(settings.strategy.name, **settings.strategy.options)
        module = self.strategy.apply(model)
        # Memory savers (BENCHMARKS.md P5): recompute ViT blocks in backward; NHWC conv branch.
        set_activation_checkpointing(module, settings.train.activation_checkpointing)
        set_channels_last(module, settings.train.channels_last)
        if accelerator.is_main_process:
            print(self.strategy.parameter_table(module))

        train_set, self.val_set = build_datasets(settings, self.image_size)
        self.train_loader = torch.utils.data.DataLoader(
            train_set,
            batch_size=settings.data.batch_size,
            shuffle=True,
            collate_fn=train_set.collate,
            num_workers=settings.data.num_workers,
            persistent_workers=settings.data.num_workers > 0,
            pin_memory=torch.cuda.is_available(),
            generator=torch.Generator().manual_seed(settings.seed),
        )
        self.train_set = train_set
        trainable = [p for p in module.parameters() if p.requires_grad]
        self.optimizer = instantiate(settings.optimizer or DEFAULT_OPTIMIZER, trainable, path="optimizer", lines=self.recipe.lines)
        self.scheduler = None
        if settings.scheduler is not None:
            self.scheduler = instantiate(settings.scheduler, self.optimizer, path="scheduler", lines=self.recipe.lines)
        self.loss_fn = instantiate(settings.loss or DEFAULT_LOSS, registry=LOSSES, path="loss", lines=self.recipe.lines)

        self.module, self.optimizer, self.train_loader = accelerator.prepare(module, self.optimizer, self.train_loader)
        if self.scheduler is not None:
            # Not prepared: accelerate would step it once per process; we step it per epoch or step.
            accelerator.register_for_checkpointing(self.scheduler)
        # Model weights are checkpointed by the strategy (trainable part only), not by accelerate.
        accelerator.register_save_state_pre_hook(lambda models, weights, output_dir: weights.clear())
        accelerator.register_load_state_pre_hook(lambda models, input_dir: models.clear())

        self.feature_cache = None
        if settings.train.feature_cache != "off":
            if self.strategy.image_encoder_trainable:
                raise ValueError(
                    f"train.feature_cache={settings.train.feature_cache} needs a strategy whose image encoder is "
                    f"frozen (e.g. decoder-only); {settings.strategy.name!r} trains it. Set train.feature_cache=off."
                )
            if settings.data.augment:
                raise ValueError("train.feature_cache needs augmentation-free images: set data.augment=null")
            folder = self.output_dir / "feature_cache" if settings.train.feature_cache == "disk" else None
            self.feature_cache = FeatureCache(folder)

    @property
    def unwrapped(self):
        return self.accelerator.unwrap_model(self.module)

    def _train_mode(self) -> None:
        self.module.train()
        for frozen in self.strategy.frozen_eval_modules(self.unwrapped):
            frozen.eval()

    # one step -----------------------------------------------------------------------------
    def _loss(self, batch: dict) -> torch.Tensor:
        images = batch["images"]
        if self.feature_cache is not None:
            images = self.feature_cache.encode(base_samunet(self.module).encode_image, images, batch["sample_ids"])
        logits = self.module(images, batch_prompts(batch))
        logits = F.interpolate(logits.float(), size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        return self.loss_fn(logits[:, 0], batch["masks"].float())

    # the loop -----------------------------------------------------------------------------
    def fit(self) -> dict:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        try:
            return self._fit()
        finally:
            # accelerate keeps its state in a process-wide singleton; forget it (the process group
            # stays) so one Python session can run several recipes with different precisions.
            from accelerate.state import AcceleratorState

            AcceleratorState._reset_state()

    def _fit(self) -> dict:
        self._setup()
        accelerator, settings = self.accelerator, self.settings
        if accelerator.is_main_process:
            (self.output_dir / "recipe.yaml").write_text(dump_config(self.recipe.config, header=self.recipe.header))
        state = self._resume()
        steps_per_epoch = math.ceil(len(self.train_loader) / settings.train.gradient_accumulation_steps)
        max_steps = settings.max_steps or steps_per_epoch * settings.train.epochs
        log = ScalarLog(self.output_dir / "logs", settings.logging.tensorboard) if accelerator.is_main_process else None
        sample_log = self._sample_log()
        progress = self._progress(max_steps, state.global_step)
        history: list[dict] = []
        started = time.time()
        try:
            stop = state.global_step >= max_steps
            while not stop and state.epoch < settings.train.epochs:
                self.train_loader.set_epoch(state.epoch)
                self.train_set.set_epoch(state.epoch)
                batches = self.train_loader
                if state.batches_in_epoch:
                    batches = accelerator.skip_first_batches(self.train_loader, state.batches_in_epoch)
                self._train_mode()
                running = []
                for batch in batches:
                    with accelerator.accumulate(self.module):
                        loss = self._loss(batch)
                        accelerator.backward(loss)
                        if accelerator.sync_gradients and settings.train.clip_grad_norm:
                            accelerator.clip_grad_norm_(self.module.parameters(), settings.train.clip_grad_norm)
                        self.optimizer.step()
                        self.optimizer.zero_grad()
                    running.append(loss.detach())
                    if sample_log is not None:
                        sample_log.write(f"{state.epoch}\t{state.global_step}\t{' '.join(batch['sample_ids'])}\n")
                    state.batches_in_epoch += 1
                    if not accelerator.sync_gradients:
                        continue
                    state.global_step += 1
                    if self.scheduler is not None and settings.train.scheduler_interval == "step":
                        self.scheduler.step()
                    step_loss = accelerator.reduce(torch.stack(running).mean(), reduction="mean").item()
                    running = []
                    scalars = {"train/loss": step_loss, "train/lr": self.optimizer.param_groups[0]["lr"]}
                    if log and state.global_step % settings.logging.every_n_steps == 0:
                        log.log(state.global_step, scalars)
                    history.append({"step": state.global_step, **scalars})
                    if progress is not None:
                        progress.set_postfix(loss=f"{step_loss:.4f}", lr=f"{scalars['train/lr']:.2e}")
                        progress.update(1)
                    every = settings.validation.every_n_steps
                    if every and state.global_step % every == 0 and self._validate(state, log):
                        stop = True
                    if state.global_step % settings.checkpoint.every_n_steps == 0:
                        self._save(state)
                    if state.global_step >= max_steps or stop:
                        stop = True
                        break
                if not stop or state.batches_in_epoch >= len(self.train_loader):
                    state.epoch += 1
                    state.batches_in_epoch = 0
                    if self.scheduler is not None and settings.train.scheduler_interval == "epoch":
                        self.scheduler.step()
                    if settings.validation.every_epoch and self._validate(state, log):
                        stop = True
        except KeyboardInterrupt:
            if accelerator.is_main_process:
                print(f"\ninterrupted at step {state.global_step}; checkpoints in {self.checkpoint_dir} are intact: "
                      f"rerun with resume=auto to continue")
            raise
        finally:
            if progress is not None:
                progress.close()
            if sample_log is not None:
                sample_log.close()
        self._save(state)
        metrics = self._finish(state, history, time.time() - started)
        if log:
            log.close()
        return metrics

    def _sample_log(self):
        """logs/samples-rank<R>.tsv: epoch, step, sample ids of each batch this process trained on
        (to audit data order, sharding and resume); off unless logging.sample_ids is set."""
        if not self.settings.logging.sample_ids:
            return None
        folder = self.output_dir / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        return open(folder / f"samples-rank{self.accelerator.process_index}.tsv", "a")

    def _progress(self, total: int, initial: int):
        if not (self.accelerator.is_main_process and self.settings.logging.progress_bar):
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, initial=initial, desc="train", unit="step", dynamic_ncols=True)

    def _resume(self) -> checkpoints.TrainerState:
        path = checkpoints.resolve_resume(self.settings.resume, self.checkpoint_dir)
        if path is None:
            return checkpoints.TrainerState()
        from safetensors.torch import load_file

        self.accelerator.load_state(str(path))
        self.strategy.load_trainable_state_dict(self.unwrapped, load_file(str(path / checkpoints.TRAINABLE_FILE)))
        state = checkpoints.read_state(path)
        if self.accelerator.is_main_process:
            print(f"resumed from {path} (step {state.global_step}, epoch {state.epoch}, batch {state.batches_in_epoch})")
        return state

    def _save(self, state: checkpoints.TrainerState) -> None:
        trainable = self.strategy.trainable_state_dict(self.unwrapped)
        checkpoints.save_checkpoint(self.accelerator, self.checkpoint_dir, state, trainable, self.settings.checkpoint.keep_last)

    def _validate(self, state: checkpoints.TrainerState, log: ScalarLog | None) -> bool:
        """Validate, track the best checkpoint; True when early stopping says stop."""
        if self.val_set is None:
            return False
        settings = self.settings.validation
        metrics = validate_masks(self.accelerator, self.module, self.val_set, self.settings.data.batch_size, self.image_size)
        self._train_mode()
        self.last_validation = metrics
        if self.accelerator.is_main_process:
            from tqdm.auto import tqdm

            tqdm.write(
                f"step {state.global_step}: val dice {metrics['dice']:.4f} iou {metrics['iou']:.4f} "
                f"({metrics['count']} masks; baselines box-fill {metrics['baseline_box_dice']:.4f}, "
                f"ellipse {metrics['baseline_ellipse_dice']:.4f})"
            )
        if log:
            log.log(state.global_step, {f"val/{k}": v for k, v in metrics.items() if k != "count"})
        value = metrics[settings.metric]
        if state.best_metric is None or value > state.best_metric:
            state.best_metric, state.best_step = value, state.global_step
            state.evaluations_without_improvement = 0
            if self.accelerator.is_main_process:
                self.strategy.save_final(self.unwrapped, self.output_dir / "best", self._base_model_ref())
        else:
            state.evaluations_without_improvement += 1
        patience = settings.early_stopping_patience
        return patience is not None and state.evaluations_without_improvement >= patience

    def _base_model_ref(self) -> str | None:
        """What adapters are applied onto: the pretrained folder or Hub id. None for random
        initial weights, which nobody could rebuild from a name."""
        from samunet_tune.modeling.builders import MODELS

        pretrained = self.settings.model.pretrained
        if pretrained == "hub":
            return MODELS.get(self.settings.model.name).pretrained.hf_hub_id
        return pretrained

    def _plot(self) -> None:
        """logs/plots/*.png (loss, validation Dice) for people to look at; never fails a run."""
        from samunet_tune.eval.plots import plot_run

        try:
            plot_run(self.output_dir)
        except Exception as error:  # a plotting problem must not lose a finished training run
            print(f"warning: could not write plots: {error!r}")

    def _finish(self, state: checkpoints.TrainerState, history: list[dict], seconds: float) -> dict:
        accelerator = self.accelerator
        accelerator.wait_for_everyone()
        metrics = {
            "global_step": state.global_step,
            "epochs_completed": state.epoch,
            "train_seconds": round(seconds, 2),
            "final_train_loss": history[-1]["train/loss"] if history else None,
            "best": {"metric": self.settings.validation.metric, "value": state.best_metric, "step": state.best_step},
            "validation": getattr(self, "last_validation", None),
            "world_size": accelerator.num_processes,
            "strategy": self.settings.strategy.name,
            "model": self.settings.model.name,
            "trainer_state": asdict(state),
        }
        if self.feature_cache is not None:
            metrics["feature_cache"] = {"hits": self.feature_cache.hits, "misses": self.feature_cache.misses}
        if accelerator.is_main_process:
            self.strategy.save_final(self.unwrapped, self.output_dir / "final", self._base_model_ref())
            (self.output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
            self._plot()
            print(f"done: {state.global_step} steps in {seconds:.1f}s -> {self.output_dir}")
        accelerator.wait_for_everyone()
        return metrics
