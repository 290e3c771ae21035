"""Small helpers shared by the data tests (imported as a plain module: tests/data is on sys.path)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_image(path: Path, array: np.ndarray, **save_options) -> Path:
    """Save `array` with Pillow (format from the suffix), creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **save_options)
    return path


def disc(shape: tuple[int, int], centre: tuple[int, int], radius: int) -> np.ndarray:
    """A filled disc as a bool mask."""
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    return (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2
