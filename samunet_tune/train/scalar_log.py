"""Every logged scalar goes to tensorboard event files and to one CSV (main process only)."""

from __future__ import annotations

import csv
from pathlib import Path


class ScalarLog:
    """Args:
    folder: OUTPUT/logs; tensorboard events go in it, scalars.csv beside them.
    tensorboard: write event files too.
    """

    def __init__(self, folder: Path, tensorboard: bool = True) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.csv_path = folder / "scalars.csv"
        new_file = not self.csv_path.exists()
        self._csv_file = open(self.csv_path, "a", newline="")
        self._csv = csv.writer(self._csv_file)
        if new_file:
            self._csv.writerow(["step", "name", "value"])
        self._writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(folder))

    def log(self, step: int, scalars: dict[str, float]) -> None:
        for name, value in scalars.items():
            self._csv.writerow([step, name, f"{float(value):.8g}"])
            if self._writer is not None:
                self._writer.add_scalar(name, float(value), step)
        self._csv_file.flush()

    def close(self) -> None:
        self._csv_file.close()
        if self._writer is not None:
            self._writer.close()
