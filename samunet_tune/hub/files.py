"""Which files may leave the machine: safetensors, JSON, YAML, Markdown and PNG, checked by content.

A pickle (`.bin`, `.pt`, `.pth`, `.ckpt`, `.pkl`) runs code when it is loaded, so it is never
published. A file is also checked by its content, not only by its name: a pickle renamed to
`model.safetensors` is refused as well.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import yaml

ALLOWED_SUFFIXES = (".safetensors", ".json", ".yaml", ".yml", ".md", ".png")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SAFETENSORS_HEADER_LIMIT = 100 * 1024 * 1024  # safetensors' own bound on the JSON header


class UnpublishableFileError(ValueError):
    """A file that must not be uploaded (a pickle, or not what its name says)."""


def safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file (tensor names, dtypes, shapes), read without torch."""
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise UnpublishableFileError(f"{path}: too short to be a safetensors file")
        (length,) = struct.unpack("<Q", head)
        if length > _SAFETENSORS_HEADER_LIMIT:
            raise UnpublishableFileError(f"{path}: not a safetensors file (header length {length})")
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise UnpublishableFileError(f"{path}: not a safetensors file ({error})") from error
    if not isinstance(header, dict):
        raise UnpublishableFileError(f"{path}: not a safetensors file (header is not a JSON object)")
    ends = [entry.get("data_offsets", [0, 0])[1] for name, entry in header.items() if name != "__metadata__" and isinstance(entry, dict)]
    if len(ends) != len(header) - ("__metadata__" in header) or 8 + length + max(ends, default=0) != Path(path).stat().st_size:
        raise UnpublishableFileError(f"{path}: not a complete safetensors file (truncated, or tensors outside the file)")
    return header


def tensor_count(path: Path) -> int:
    """Number of values in a safetensors file (sum of the tensors' element counts)."""
    total = 0
    for name, entry in safetensors_header(path).items():
        if name != "__metadata__":
            count = 1
            for size in entry.get("shape", []):
                count *= int(size)
            total += count
    return total


def check_publishable(path: Path) -> None:
    """Raise UnpublishableFileError unless `path` is an allowed kind of file and really is one.

    The suffix is read from `path`'s own name and the content through any link, so a file in
    the Hugging Face cache (a link to a blob) is judged like the file it stands for.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        raise UnpublishableFileError(f"{path}: a pickle ({suffix}); samunet-tune never publishes pickles")
    if suffix not in ALLOWED_SUFFIXES:
        raise UnpublishableFileError(
            f"{path}: only {', '.join(ALLOWED_SUFFIXES)} files are published, not {suffix or 'files without a suffix'}"
        )
    if not path.is_file():
        raise UnpublishableFileError(f"{path}: not a file")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if suffix == ".safetensors":
        safetensors_header(path)  # a pickle or a torch.save zip has no valid header
        return
    if head.startswith((b"\x80", b"PK\x03\x04")):  # pickle protocol 2+, torch.save zip
        raise UnpublishableFileError(f"{path}: holds a pickle or a torch.save archive, whatever its name says")
    if suffix == ".png":
        if head != PNG_SIGNATURE:
            raise UnpublishableFileError(f"{path}: not a PNG image")
    else:
        try:
            text = path.read_text(encoding="utf-8")
            if suffix == ".json":
                json.loads(text)
            elif suffix in (".yaml", ".yml"):
                yaml.safe_load(text)  # safe_load refuses python object tags
        except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as error:
            raise UnpublishableFileError(f"{path}: not a valid {suffix[1:].upper()} text file ({error})") from error


def publishable_files(folder: Path) -> list[str]:
    """Every file under `folder` as a POSIX path relative to it; any unpublishable one raises."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if not p.is_dir())
    for path in files:
        check_publishable(path)
    return [path.relative_to(folder).as_posix() for path in files]
