"""Decoding 2D image files (Pillow): every plugin that reads PNG/JPEG/BMP/TIFF goes through here.

Keeping decoding in one module gives one place to turn Pillow's many modes into the arrays a
`Sample` holds, one place that turns decoder failures into `DataError`s naming the file, and
one function the cache tests can count calls of.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from samunet_tune.data.errors import CORRUPT_FILE, MISSING_FILE, DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

_REEXPORT_FIX = "re-export or re-download the file, or remove it; or pass on_error='skip' to leave it out"


def pil_to_image_array(image: Image.Image) -> np.ndarray:
    """A Pillow image -> HxW (grey, 16-bit, float) or HxWx3 (colour) array.

    The alpha channel is dropped (it carries no anatomy); palette and other colour modes
    become RGB; 1-bit images become uint8 0/255.
    """
    mode = image.mode
    if mode == "1":
        return np.asarray(image, dtype=np.uint8) * 255
    if mode in ("L", "I", "F") or mode.startswith("I;16"):
        return np.asarray(image)
    if mode == "LA":
        return np.asarray(image.convert("L"))
    if mode == "RGBA":
        return np.asarray(image)[..., :3].copy()
    if mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image)


def pil_to_mask_values(image: Image.Image) -> np.ndarray:
    """A Pillow mask -> its stored values: HxW, or HxWxC for colour masks.

    Palette images give their palette indices (class ids), not colours.
    """
    mode = image.mode
    if mode == "1":
        return np.asarray(image, dtype=np.uint8)
    if mode in ("L", "P", "I", "F") or mode.startswith("I;16"):
        return np.asarray(image)
    if mode == "LA":
        return np.asarray(image)[..., 0]
    if mode in ("RGB", "RGBA"):
        return np.asarray(image)[..., :3]
    return np.asarray(image.convert("RGB"))


def _decode(path: Path, convert, source: Any = None) -> np.ndarray:
    """Decode `source` (default: the file at `path`), naming `path` in any error."""
    try:
        with Image.open(path if source is None else source) as image:
            image.load()
            return convert(image)
    except FileNotFoundError as error:
        raise DataError(MISSING_FILE, path, "the file does not exist", "check the path and the name pattern") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DataError(CORRUPT_FILE, path, f"cannot be decoded ({error})", _REEXPORT_FIX) from error


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file to HxW or HxWx3 (see `pil_to_image_array`)."""
    return _decode(Path(path), pil_to_image_array)


def read_mask_values(path: str | Path) -> np.ndarray:
    """Decode a mask file to its raw values (see `pil_to_mask_values`)."""
    return _decode(Path(path), pil_to_mask_values)


def decode_image_bytes(data: bytes, name: str, mask: bool = False) -> np.ndarray:
    """Decode an encoded image held in memory (an Arrow cell); `name` is used in errors."""
    return _decode(Path(name), pil_to_mask_values if mask else pil_to_image_array, io.BytesIO(data))


def image_file_size(path: str | Path) -> tuple[int, int]:
    """(height, width) from the file header, without decoding the pixels."""
    path = Path(path)
    try:
        with Image.open(path) as image:
            width, height = image.size
    except FileNotFoundError as error:
        raise DataError(MISSING_FILE, path, "the file does not exist", "check the path and the name pattern") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DataError(CORRUPT_FILE, path, f"is not a readable image ({error})", _REEXPORT_FIX) from error
    return height, width


def list_image_files(folder: Path, recursive: bool = False) -> list[Path]:
    """Image files in `folder` (by suffix, any case), sorted by relative path."""
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
