"""Shared by the eval and predict tests: a saved tiny model, a LoRA run directory, Kvasir copies."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
from PIL import Image


def save_tiny_model(folder: Path) -> Path:
    """A seeded random samunet_tiny written with save_pretrained."""
    import torch

    from samunet_tune import create_model

    torch.manual_seed(0)
    create_model("samunet_tiny").save_pretrained(folder)
    return folder


def make_lora_run(root: Path, base: Path) -> tuple[Path, object]:
    """A training-output-like directory whose final/ and best/ are lora-vit adapters on `base`.

    The adapters' B matrices are made non-zero so that merging changes the model. Returns the
    run directory and the peft module (for comparing outputs).
    """
    import torch

    from samunet_tune import SamUNet
    from samunet_tune.strategies import build_strategy

    strategy = build_strategy("lora-vit", rank=2, targets=["qkv"], train_also=["mask_decoder"])
    module = strategy.apply(SamUNet.from_pretrained(base))
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            if "lora_B" in name:
                parameter.copy_(0.5 * torch.randn(parameter.shape, generator=generator))
    run = root / "run"
    strategy.save_final(module, run / "final", str(base))
    strategy.save_final(module, run / "best", str(base))
    (run / "checkpoints").mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"global_step": 1}))
    return run, module.eval()


def copy_kvasir(kvasir: Path, folder: Path, count: int) -> tuple[Path, Path]:
    """The first `count` Kvasir image/mask pairs copied to folder/images and folder/masks."""
    names = sorted(p.name for p in (kvasir / "images").glob("*.jpg"))[:count]
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy(kvasir / sub / name, folder / sub / name)
    return folder / "images", folder / "masks"


def magenta_pixels(path: Path) -> int:
    """Pixels of the first overlay colour (magenta), which the images never contain."""
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB")).astype(int)
    return int(((rgb[..., 0] > 200) & (rgb[..., 1] < 70) & (rgb[..., 2] > 200)).sum())


def strict_json(path: Path):
    """json.loads that refuses NaN and Infinity, as strict JSON does."""

    def refuse(token: str):
        raise ValueError(f"{path} holds {token}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def leftovers(folder: Path) -> list[str]:
    """Staging or backup folders a run left beside its output."""
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


def rotated_affine(zooms=(0.8, 1.1, 2.5), angle_deg: float = 20.0, origin=(-30.0, 12.5, 7.0)) -> np.ndarray:
    """A non-identity affine: rotation about z, anisotropic zooms, an offset."""
    angle = math.radians(angle_deg)
    rotation = np.array([[math.cos(angle), -math.sin(angle), 0], [math.sin(angle), math.cos(angle), 0], [0, 0, 1]])
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag(zooms)
    affine[:3, 3] = origin
    return affine


def one_torch_thread():
    """Generator fixture body: the tiny model's ops are so small that on a busy 2-core machine
    torch's threads spend seconds waiting on each other (the MONAI oracle fixture does the same)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
