"""Shared by the benchmark scripts: the machine line, and side-by-side timing robust to a busy host.

Timings alternate the variants (A B, B A, A B, ...) so that load from other processes hits both.
The headline ratio compares each variant's fastest round: on a shared machine interference only
ever adds time, so the minimum is the best estimate of a variant's own cost. The median and range
of the per-round ratios are printed beside it to show how noisy the host was.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch


def machine_line() -> str:
    """CPU model and cores (from lscpu), GPU if any, torch version, date, load average."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except FileNotFoundError:
        pass
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    load = ", load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()) if hasattr(os, "getloadavg") else ""
    return (
        f"{cpu} ({os.cpu_count()} cores, torch threads {torch.get_num_threads()}){gpu}; "
        f"torch {torch.__version__}; python {platform.python_version()}; "
        f"{datetime.datetime.now().astimezone().isoformat(timespec='seconds')}{load}"
    )


def print_header(title: str) -> None:
    print(f"# {title}")
    print(f"command: python {shlex.join(sys.argv)}")
    print(f"machine: {machine_line()}")


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def time_side_by_side(
    variants: dict[str, Callable[[], object]], rounds: int = 5, warmup: int = 1, inner: int = 1
) -> dict[str, list[float]]:
    """Seconds per call of each variant, interleaved round by round (order reversed every round).

    `inner` calls are timed together (and divided) so that millisecond-sized calls are measurable.
    """
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    _sync()
    times: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            _sync()
            start = time.perf_counter()
            for _ in range(inner):
                variants[name]()
            _sync()
            times[name].append((time.perf_counter() - start) / inner)
    return times


def best(values: list[float]) -> float:
    return min(values)


def ratio(times: dict[str, list[float]], numerator: str, denominator: str) -> float:
    """Fastest numerator round / fastest denominator round."""
    return best(times[numerator]) / best(times[denominator])


def ratio_text(times: dict[str, list[float]], numerator: str, denominator: str) -> str:
    """'1.47x (per round: median 1.45x, 1.42-1.51x)'."""
    rounds = [a / b for a, b in zip(times[numerator], times[denominator])]
    return (
        f"{ratio(times, numerator, denominator):.2f}x "
        f"(per round: median {statistics.median(rounds):.2f}x, {min(rounds):.2f}-{max(rounds):.2f}x)"
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def add_threads_argument(parser) -> None:
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")


def apply_threads(threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)
