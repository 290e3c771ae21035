"""Checkpoints that survive a crash: written under a temporary name, renamed when complete.

A checkpoint folder `step-000123/` holds what `accelerator.save_state` writes (optimizer,
scheduler, RNG states, sampler) plus `trainable.safetensors` (only what the strategy trains, so a
frozen ViT is never copied) and `trainer_state.json`, written last. A folder without
`trainer_state.json` is incomplete and never resumed from.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_FILE = "trainer_state.json"
TRAINABLE_FILE = "trainable.safetensors"
_STEP_DIR = re.compile(r"^step-(\d+)$")


@dataclass
class TrainerState:
    global_step: int = 0
    epoch: int = 0
    batches_in_epoch: int = 0  # batches of `epoch` already consumed (mid-epoch resume)
    best_metric: float | None = None
    best_step: int | None = None
    evaluations_without_improvement: int = 0


def complete_checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    if not folder.is_dir():
        return []
    found = [(int(m[1]), p) for p in folder.iterdir() if (m := _STEP_DIR.match(p.name)) and (p / STATE_FILE).is_file()]
    return [path for _, path in sorted(found)]


def resolve_resume(resume: str | None, checkpoint_dir: Path) -> Path | None:
    """'auto' -> the newest complete checkpoint (None if there is none); a path must be complete."""
    if resume in (None, "", "none"):
        return None
    if resume == "auto":
        found = complete_checkpoints(checkpoint_dir)
        return found[-1] if found else None
    path = Path(resume)
    if not (path / STATE_FILE).is_file():
        raise FileNotFoundError(
            f"resume={resume}: {path / STATE_FILE} is missing, so it is not a complete checkpoint; "
            f"complete ones in {checkpoint_dir}: {[p.name for p in complete_checkpoints(checkpoint_dir)]}"
        )
    return path


def read_state(path: Path) -> TrainerState:
    return TrainerState(**json.loads((path / STATE_FILE).read_text()))


def save_checkpoint(accelerator, checkpoint_dir: Path, state: TrainerState, trainable: dict, keep_last: int) -> Path:
    """Write step-N atomically (tmp folder, then rename) and keep only the newest `keep_last`."""
    from safetensors.torch import save_file

    final = checkpoint_dir / f"step-{state.global_step:06d}"
    temporary = checkpoint_dir / f".tmp-step-{state.global_step:06d}"
    if accelerator.is_main_process:
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(temporary))  # every process writes its own RNG state
    if accelerator.is_main_process:
        save_file({k: v.detach().cpu().contiguous() for k, v in trainable.items()}, str(temporary / TRAINABLE_FILE))
        (temporary / STATE_FILE).write_text(json.dumps(asdict(state), indent=2))
        if final.exists():
            shutil.rmtree(final)
        os.replace(temporary, final)
        for old in complete_checkpoints(checkpoint_dir)[:-keep_last] if keep_last > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final
