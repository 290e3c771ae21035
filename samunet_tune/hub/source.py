"""What `samunet-tune push` publishes from: a training run directory or a model folder.

A training run (`samunet-tune train`) holds `final/` and maybe `best/` (a save_pretrained folder
or a LoRA adapter folder), `recipe.yaml`, `metrics.json`, `logs/scalars.csv`, and maybe
`logs/plots/*.png` (`samunet-tune plot`) and `eval/` (`samunet-tune eval --out RUN/eval`). A model
folder is a save_pretrained or adapter folder alone, e.g. from `samunet-tune convert`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from samunet_tune.modeling.weights_io import (
    ADAPTER_CONFIG_NAME,
    CONFIG_NAME,
    WEIGHTS_NAME,
)

ADAPTER_WEIGHTS_NAME = "adapter_model.safetensors"
CHECKPOINTS = ("final", "best")
RUN_FILES = ("recipe.yaml", "metrics.json")


@dataclass
class PublishSource:
    """Everything found about the model being published.

    Args:
        weights_dir: the save_pretrained folder or the LoRA adapter folder.
        is_adapter: `weights_dir` holds adapter_config.json.
        run_dir: the training run the weights come from, if known.
        checkpoint: "final" or "best" within `run_dir`.
        recipe: the run's resolved recipe.yaml.
        train_metrics: the run's metrics.json.
        validation_by_step: validation scalars of logs/scalars.csv, {step: {"dice": ..., ...}}.
        eval_dir: an evaluation folder (`samunet-tune eval --out`), if any.
        eval_metrics: its metrics.json.
    """

    weights_dir: Path
    is_adapter: bool
    run_dir: Path | None = None
    checkpoint: str | None = None
    recipe: dict[str, Any] | None = None
    train_metrics: dict[str, Any] | None = None
    validation_by_step: dict[int, dict[str, float]] = field(default_factory=dict)
    eval_dir: Path | None = None
    eval_metrics: dict[str, Any] | None = None

    @property
    def model_config(self) -> dict[str, Any]:
        return read_json(self.weights_dir / CONFIG_NAME)

    @property
    def adapter_config(self) -> dict[str, Any] | None:
        return read_json(self.weights_dir / ADAPTER_CONFIG_NAME) if self.is_adapter else None


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable JSON file ({error})") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _is_run_dir(folder: Path) -> bool:
    return any((folder / name).is_dir() for name in CHECKPOINTS) and any((folder / name).is_file() for name in RUN_FILES)


def _check_weights_dir(folder: Path) -> bool:
    """True for an adapter folder, False for a full model folder; anything else raises."""
    if (folder / ADAPTER_CONFIG_NAME).is_file():
        needed = (ADAPTER_WEIGHTS_NAME, CONFIG_NAME)
    else:
        needed = (CONFIG_NAME, WEIGHTS_NAME)
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        pickles = sorted(p.name for p in folder.glob("*") if p.suffix in (".bin", ".pt", ".pth", ".ckpt", ".pkl"))
        hint = (
            f" It holds {', '.join(pickles)}: samunet-tune never publishes pickles; convert them first "
            "(`samunet-tune convert reference ... --trust-pickle`)." if pickles else ""
        )
        raise FileNotFoundError(
            f"{folder} is not a model to publish: {', '.join(missing)} missing. Give a training output directory "
            f"(final/ + recipe.yaml), a save_pretrained folder ({CONFIG_NAME} + {WEIGHTS_NAME}) or a LoRA adapter "
            f"folder ({ADAPTER_CONFIG_NAME} + {ADAPTER_WEIGHTS_NAME} + {CONFIG_NAME}).{hint}"
        )
    return (folder / ADAPTER_CONFIG_NAME).is_file()


def find_source(path: str | Path, checkpoint: str = "final", eval_dir: str | Path | None = None) -> PublishSource:
    """Inspect OUTPUT_OR_MODEL_DIR.

    Args:
        path: a training run directory, its final/ or best/ folder, or a model folder.
        checkpoint: which of the run's final/ and best/ to publish.
        eval_dir: an evaluation folder to take the evaluation table and plots from (default:
            RUN/eval when it holds metrics.json).
    """
    if checkpoint not in CHECKPOINTS:
        raise ValueError(f"checkpoint={checkpoint!r}: choose one of {', '.join(CHECKPOINTS)}")
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder: give a training output directory or a model folder")
    run_dir = None
    if _is_run_dir(path) and not (path / CONFIG_NAME).is_file():
        run_dir, weights_dir = path, path / checkpoint
        if not weights_dir.is_dir():
            present = [name for name in CHECKPOINTS if (path / name).is_dir()]
            raise FileNotFoundError(
                f"{weights_dir} is missing: the run {path} has {', '.join(present)}/ only; pass --checkpoint {present[0]}"
            )
    else:
        weights_dir = path
        if path.name in CHECKPOINTS and _is_run_dir(path.parent):
            run_dir, checkpoint = path.parent, path.name
    source = PublishSource(weights_dir=weights_dir, is_adapter=_check_weights_dir(weights_dir))
    if run_dir is not None:
        source.run_dir, source.checkpoint = run_dir, checkpoint
        if (run_dir / "recipe.yaml").is_file():
            source.recipe = yaml.safe_load((run_dir / "recipe.yaml").read_text()) or {}
        if (run_dir / "metrics.json").is_file():
            source.train_metrics = read_json(run_dir / "metrics.json")
        source.validation_by_step = read_validation_scalars(run_dir / "logs" / "scalars.csv")
        if eval_dir is None and (run_dir / "eval" / "metrics.json").is_file():
            eval_dir = run_dir / "eval"
    if eval_dir is not None:
        eval_dir = Path(eval_dir)
        if not (eval_dir / "metrics.json").is_file():
            raise FileNotFoundError(f"{eval_dir / 'metrics.json'} is missing: --eval takes a `samunet-tune eval --out` folder")
        source.eval_dir, source.eval_metrics = eval_dir, read_json(eval_dir / "metrics.json")
    return source


def read_validation_scalars(path: Path) -> dict[int, dict[str, float]]:
    """{step: {"dice": ..., "iou": ..., "baseline_box_dice": ...}} from the val/* rows of scalars.csv."""
    by_step: dict[int, dict[str, float]] = {}
    if not path.is_file():
        return by_step
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            name = row.get("name") or ""
            if name.startswith("val/"):
                try:
                    by_step.setdefault(int(float(row["step"])), {})[name[4:]] = float(row["value"])
                except (KeyError, TypeError, ValueError):
                    continue  # a damaged line: the card falls back to metrics.json
    return by_step
