"""Put a folder into a Hugging Face cache exactly as huggingface_hub lays one out.

    HF_HUB_CACHE/models--ORG--NAME/
        blobs/<etag>                      file contents (sha256 for LFS files, git blob id else)
        snapshots/<commit>/<file>         relative symlinks into blobs/
        refs/<revision>                   the commit hash, no newline
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

DEFAULT_COMMIT = "a" * 40


def put_in_cache(cache_dir: Path, repo_id: str, folder: Path, revision: str = "main", commit: str = DEFAULT_COMMIT) -> Path:
    """Copy every file of `folder` into the cache as snapshot `commit` of `repo_id`; returns the snapshot folder."""
    repo_cache = Path(cache_dir) / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo_cache / "snapshots" / commit
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        content = path.read_bytes()
        if path.suffix == ".safetensors":
            etag = hashlib.sha256(content).hexdigest()
        else:
            etag = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        blob = repo_cache / "blobs" / etag
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(content)
        pointer = snapshot / path.relative_to(folder)
        pointer.parent.mkdir(parents=True, exist_ok=True)
        pointer.symlink_to(os.path.relpath(blob, pointer.parent))
    (repo_cache / "refs").mkdir(parents=True, exist_ok=True)
    (repo_cache / "refs" / revision).write_text(commit)
    return snapshot
