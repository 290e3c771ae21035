"""Output folders that are complete or absent: write in a hidden sibling, rename at the end.

A run that fails (bad input found late, Ctrl-C, a full disk) leaves no OUTPUT that looks
finished: the staging folder is removed, and an existing OUTPUT is only replaced once the new
one is complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def check_output_free(out: Path, overwrite: bool) -> None:
    """Refuse to start when `out` exists and `overwrite` is off (before any work is done)."""
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} already exists; choose another output folder or pass --overwrite to replace it")
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder; choose another output path")


@contextlib.contextmanager
def staged_output(out: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder beside `out`; on success it becomes `out`.

    Args:
        out: the final output folder.
        overwrite: replace an existing `out` (only after the new one is complete).
    """
    out = Path(out)
    check_output_free(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary folder
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, out)
