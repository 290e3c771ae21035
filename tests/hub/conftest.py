"""Fixtures for Hub tests: a private HF cache, offline mode, a loopback fake Hub, model outputs.

huggingface_hub reads HF_HUB_OFFLINE, HF_HUB_CACHE and HF_ENDPOINT once, into
`huggingface_hub.constants`, when it is imported; in-process tests set those constants (what the
environment variables do at import), and test_hub_pull also checks the real variables in a
fresh process.
"""

from __future__ import annotations

import pytest
import torch

from samunet_tune import Prompts
from tests.hub.fake_hub import start_fake_hub


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    """An empty HF cache under tmp_path, used by every huggingface_hub call of the test."""
    from huggingface_hub import constants

    cache = tmp_path / "hf-home" / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HOME", str(cache.parent))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache


@pytest.fixture
def offline(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


def point_hub_at(monkeypatch, url: str) -> None:
    """What HF_ENDPOINT=url does when huggingface_hub is imported."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setattr(constants, "ENDPOINT", url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


@pytest.fixture
def fake_hub(monkeypatch, hf_cache):
    """huggingface_hub pointed at a loopback fake Hub, logged in with a test token, legacy LFS
    uploads (the Xet protocol needs Hugging Face's storage service, which no loopback can be)."""
    from huggingface_hub import constants

    hub, server = start_fake_hub()
    point_hub_at(monkeypatch, hub.url)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    yield hub
    server.shutdown()
    server.server_close()


def model_outputs(model) -> torch.Tensor:
    """Deterministic mask logits of a model (or peft model) for fixed images and box prompts."""
    images = torch.randn(2, 3, 128, 128, generator=torch.Generator().manual_seed(1))
    prompts = Prompts(boxes=torch.tensor([[4.0, 4, 60, 60], [10, 20, 100, 120]]))
    with torch.no_grad():
        return model.eval()(images, prompts)


@pytest.fixture
def outputs_of():
    return model_outputs
