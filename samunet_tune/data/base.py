"""What every built-in plugin shares: an index built once, samples decoded on access, one policy.

A plugin subclasses `PluginDataset`, builds a list of cheap records in its constructor (file
names, slice numbers; nothing decoded) and implements `_load(record) -> Sample`. The base class
turns that into a `Sequence[Sample]` and applies the bad-input policy:

* problems the index can see without decoding (missing pairs, paths outside the root, shapes
  in headers) are raised or skipped with a count while indexing;
* problems inside files (corrupt image, mask of another size, empty mask, unknown label value)
  show up when a sample is decoded. A bad *mask* is then raised or dropped from its sample (and
  recorded); a bad *image* always raises, because a Sequence cannot shrink after it is built.
  ``verify=True`` decodes every sample once while indexing, so that skipping is complete
  before training starts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, ClassVar

from samunet_tune.data.errors import DataError, ErrorPolicy, SkippedItem
from samunet_tune.data.sample import Sample


class PluginDataset(Sequence):
    """Base class of the built-in dataset plugins.

    Args:
        on_error: "raise" (default) or "skip"; see samunet_tune.data.errors.
        verify: decode every sample once while indexing, so that every bad input is found (and
            skipped, with ``on_error="skip"``) before the dataset is used.
        options: the constructor's options, recorded for `describe()` and cache keys.
    """

    plugin_name: ClassVar[str] = "dataset"

    def __init__(self, *, on_error: str = "raise", verify: bool = False, options: dict[str, Any] | None = None) -> None:
        self.options = dict(options or {})
        self.verify = verify
        self.errors = ErrorPolicy(on_error, owner=f"{self.plugin_name} {self.options.get('root', '')}".strip())
        self._records: list[Any] = []

    # what subclasses provide -------------------------------------------------------------
    def _load(self, record: Any) -> Sample:
        raise NotImplementedError

    def _record_mask_count(self, record: Any) -> int | None:
        """Masks the record will have, if the index knows it without decoding (else None)."""
        return None

    # the Sequence ------------------------------------------------------------------------
    def _set_records(self, records: list[Any]) -> None:
        """Install the index; with `verify`, decode each record once and drop the bad ones."""
        if self.verify:
            kept = []
            for record in records:
                try:
                    self._load(record)
                except DataError as error:
                    self.errors.handle(error)
                    continue
                kept.append(record)
            records = kept
        self._records = records
        self.errors.report()

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: int) -> Sample:  # type: ignore[override]
        if isinstance(index, slice):
            raise TypeError(f"{type(self).__name__} takes integer indices, not slices")
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {type(self).__name__} of length {len(self)}")
        try:
            return self._load(self._records[index])
        except DataError as error:
            if self.errors.on_error == "skip":
                error.add_note(
                    "on_error='skip' leaves out a bad image only when it is found while indexing; "
                    "pass verify=True to check every file up front."
                )
            raise

    def num_masks(self, index: int) -> int | None:
        """How many masks sample `index` has, when known without decoding it (else None)."""
        return self._record_mask_count(self._records[index])

    @property
    def skipped(self) -> list[SkippedItem]:
        """Every input left out under ``on_error="skip"``, with the file and reason."""
        return self.errors.skipped

    def describe(self) -> dict[str, Any]:
        """Cheap facts about the dataset (no decoding): plugin, options, length, skips."""
        return {
            "plugin": self.plugin_name,
            "options": self.options,
            "samples": len(self),
            "skipped": self.errors.counts(),
        }

    def cache_key(self) -> str:
        """A short hash of the plugin name, its options and its length, naming cache folders."""
        text = json.dumps([self.plugin_name, self.options, len(self)], sort_keys=True, default=str)
        return f"{self.plugin_name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} samples, options={self.options})"
