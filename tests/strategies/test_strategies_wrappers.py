"""Strategies see through the wrappers the trainer adds (DDP), and import without torch."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from samunet_tune.strategies import build_strategy


@pytest.fixture
def single_process_group(tmp_path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


@pytest.mark.parametrize("name", ["conv-branch", "lora-vit"])
def test_ddp_wrapped_module_gives_the_same_keys_and_outputs(tiny_model, outputs_of, single_process_group, name):
    strategy = build_strategy(name)
    module = strategy.apply(tiny_model)
    wrapped = DistributedDataParallel(module)

    assert list(strategy.trainable_state_dict(wrapped)) == list(strategy.trainable_state_dict(module))
    frozen_ids = [id(m) for m in strategy.frozen_eval_modules(module)]
    assert [id(m) for m in strategy.frozen_eval_modules(wrapped)] == frozen_ids
    assert strategy.parameter_table(wrapped) == strategy.parameter_table(module)
    assert torch.equal(outputs_of(wrapped), outputs_of(module))  # positional (images, prompts) pass through
    strategy.load_trainable_state_dict(wrapped, strategy.trainable_state_dict(module))


def test_importing_the_registry_loads_neither_torch_nor_peft():
    code = (
        "import sys, samunet_tune.strategies as s; s.list_strategies(); "
        "print(sorted(m for m in ('torch', 'peft') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
