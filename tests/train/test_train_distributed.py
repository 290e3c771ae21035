"""Two real gloo processes through `accelerate launch`: sharding, equivalence, main-process
writes, resume. (On CPU `--multi_gpu` starts real processes; `--cpu --num_processes 2` would
silently start one, so the world size is checked.)"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.train.helpers import losses_of, write_recipe

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(num_processes: int, recipe: Path, *overrides: str) -> dict:
    accelerate = [sys.executable, "-m", "accelerate.commands.launch"]
    if num_processes > 1:
        accelerate += ["--multi_gpu", "--num_processes", str(num_processes), "--main_process_port", str(_free_port())]
    else:
        accelerate += ["--num_processes", "1"]
    command = [*accelerate, "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "-m", "samunet_tune", str(recipe), *overrides]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    if result.returncode != 0:
        errors = [line for line in result.stderr.splitlines() if "Error" in line or "error" in line]
        pytest.fail(f"accelerate launch failed ({' '.join(command)}):\n" + "\n".join(errors[:20]) + "\n...\n" + result.stderr[-2000:])
    output_dir = next(o.split("=", 1)[1] for o in overrides if o.startswith("output_dir="))
    return json.loads((Path(output_dir) / "metrics.json").read_text())


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ddp")
    # decoder-only: BatchNorm of the frozen ResNet stays in eval mode, so a batch split over two
    # processes sees exactly the statistics one process would (SyncBatchNorm needs GPUs).
    return write_recipe(
        folder,
        strategy={"name": "decoder-only"},
        data={"train": {"plugin": "synthetic", "options": {"num_samples": 16, "image_size": 96, "modality": "ct", "seed": 0}},
              "val": {"plugin": "synthetic", "options": {"num_samples": 5, "image_size": 96, "modality": "mr", "seed": 7}},
              "batch_size": 2, "masks_per_image": 2},
        validation={"every_epoch": True},
        logging={"progress_bar": False, "tensorboard": False, "sample_ids": True},
        checkpoint={"every_n_steps": 2, "keep_last": 5},
        max_steps=4,
    )


@pytest.fixture(scope="module")
def two_process_run(recipe, tmp_path_factory):
    out = tmp_path_factory.mktemp("two") / "run"
    return launch(2, recipe, f"output_dir={out}"), out


def _samples(run_dir: Path, rank: int) -> list[list[str]]:
    rows = (run_dir / "logs" / f"samples-rank{rank}.tsv").read_text().splitlines()
    return [row.split("\t")[2].split() for row in rows]


def test_two_real_processes_shard_the_data(two_process_run):
    metrics, out = two_process_run
    assert metrics["world_size"] == 2
    rank0, rank1 = _samples(out, 0), _samples(out, 1)
    assert len(rank0) == len(rank1) == 4
    for batch0, batch1 in zip(rank0, rank1):
        assert not set(batch0) & set(batch1)  # no sample trained twice in one step
    seen = [s for batch in rank0 + rank1 for s in batch]
    assert len(seen) == len(set(seen)) == 16  # 4 steps x 2 processes x 2 images: one epoch, no duplicates


def test_only_the_main_process_writes(two_process_run):
    _, out = two_process_run
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-000002", "step-000004"]
    assert (out / "logs" / "scalars.csv").read_text().count("train/loss") == 4
    # accelerate keeps one RNG state per process, written by that process.
    assert {p.name for p in (out / "checkpoints" / "step-000004").glob("random_states_*")} == {"random_states_0.pkl", "random_states_1.pkl"}


def test_two_processes_of_b_equal_one_process_of_2b(recipe, two_process_run, tmp_path):
    metrics2, out2 = two_process_run
    metrics1 = launch(1, recipe, f"output_dir={tmp_path / 'one'}", "data.batch_size=4")
    assert metrics1["world_size"] == 1
    torch.testing.assert_close(torch.tensor(losses_of(out2)), torch.tensor(losses_of(tmp_path / "one")), rtol=0, atol=1e-5)
    # Validation is gathered over both processes: every mask counted once, same scores.
    assert metrics2["validation"]["count"] == metrics1["validation"]["count"]
    assert metrics2["validation"]["dice"] == pytest.approx(metrics1["validation"]["dice"], abs=1e-5)


def test_resume_with_two_processes(recipe, two_process_run, tmp_path):
    _, straight = two_process_run
    first = tmp_path / "resumed"
    launch(2, recipe, f"output_dir={first}", "max_steps=2")
    resumed = launch(2, recipe, f"output_dir={first}", "resume=auto")
    assert resumed["global_step"] == 4
    a = load_file(str(straight / "final" / "model.safetensors"))
    b = load_file(str(first / "final" / "model.safetensors"))
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
