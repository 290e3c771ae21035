"""Pulling by repo id: from a real-layout HF cache offline, through a (fake) Hub online, and the
clear, immediate error when neither works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from samunet_tune import SamUNet, create_model
from samunet_tune.modeling.weights_io import HubUnavailableError, WeightsError
from tests.hub.cache_layout import DEFAULT_COMMIT, put_in_cache
from tests.hub.conftest import point_hub_at

REPO = "samunet-tune-test/tiny"


def _assert_clear_offline_error(message: str, repo_id: str) -> None:
    assert repo_id in message
    assert "HF_HUB_OFFLINE" in message
    assert "--local-dir FOLDER" in message and "from_pretrained('FOLDER')" in message
    assert "pytorch_model.bin" not in message


def test_cached_snapshot_loads_by_repo_id_offline(tiny_model, tmp_path, hf_cache, offline, outputs_of):
    tiny_model.save_pretrained(tmp_path / "saved")
    put_in_cache(hf_cache, REPO, tmp_path / "saved")
    loaded = SamUNet.from_pretrained(REPO)
    assert torch.equal(outputs_of(loaded), outputs_of(tiny_model))
    pinned = SamUNet.from_pretrained(REPO, revision=DEFAULT_COMMIT)
    assert torch.equal(outputs_of(pinned), outputs_of(tiny_model))


def test_offline_cache_miss_is_a_clear_error_at_once(hf_cache, offline):
    started = time.monotonic()
    with pytest.raises(HubUnavailableError) as raised:
        SamUNet.from_pretrained("samunet-tune-test/not-cached")
    assert time.monotonic() - started < 10  # a sanity bound: no backoff, no hang
    _assert_clear_offline_error(str(raised.value), "samunet-tune-test/not-cached")
    assert "HF_HUB_OFFLINE is set" in str(raised.value)


def test_registry_shortcut_offline_names_its_hub_id(hf_cache, offline):
    with pytest.raises(HubUnavailableError) as raised:
        create_model("samunet_vit_b_res34", pretrained=True)
    _assert_clear_offline_error(str(raised.value), "samunet-tune/samunet_vit_b_res34")


def test_unreachable_hub_fails_at_once_without_retries(hf_cache, monkeypatch):
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    point_hub_at(monkeypatch, f"http://127.0.0.1:{port}")
    started = time.monotonic()
    with pytest.raises(HubUnavailableError) as raised:
        SamUNet.from_pretrained(REPO)
    assert time.monotonic() - started < 10  # huggingface_hub alone backs off for ~25 s here
    _assert_clear_offline_error(str(raised.value), REPO)
    assert "unreachable" in str(raised.value)


def test_download_through_the_hub_then_offline_from_its_cache(tiny_model, tmp_path, fake_hub, outputs_of, monkeypatch):
    from huggingface_hub import constants

    tiny_model.save_pretrained(tmp_path / "saved")
    fake_hub.serve_folder(REPO, tmp_path / "saved")
    downloaded = SamUNet.from_pretrained(REPO)
    assert torch.equal(outputs_of(downloaded), outputs_of(tiny_model))
    assert fake_hub.calls("HEAD", rf"/{REPO}/resolve/main/config.json")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # what huggingface_hub cached loads offline
    requests_before = len(fake_hub.requests)
    again = SamUNet.from_pretrained(REPO)
    assert torch.equal(outputs_of(again), outputs_of(tiny_model))
    assert len(fake_hub.requests) == requests_before


def test_repo_without_safetensors_says_so(tmp_path, fake_hub):
    (tmp_path / "pickled").mkdir()
    (tmp_path / "pickled" / "config.json").write_text(json.dumps(create_model("samunet_tiny").config.to_dict()))
    (tmp_path / "pickled" / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    fake_hub.serve_folder(REPO, tmp_path / "pickled")
    with pytest.raises(WeightsError, match="no model.safetensors: samunet-tune loads safetensors only"):
        SamUNet.from_pretrained(REPO)
    assert not fake_hub.calls("GET", rf"/{REPO}/resolve/main/pytorch_model.bin")


def test_unknown_repo_and_missing_folder(fake_hub):
    with pytest.raises(HubUnavailableError, match="neither a local folder nor a Hub repository you can access"):
        SamUNet.from_pretrained("samunet-tune-test/does-not-exist")
    with pytest.raises(FileNotFoundError, match="outputs/run/final: no such folder"):
        SamUNet.from_pretrained("outputs/run/final")


def test_environment_variables_in_a_fresh_process(tiny_model, tmp_path):
    """HF_HOME and HF_HUB_OFFLINE as a user sets them, read by huggingface_hub at import."""
    tiny_model.save_pretrained(tmp_path / "saved")
    put_in_cache(tmp_path / "home" / "hub", REPO, tmp_path / "saved")
    script = textwrap.dedent(f"""
        import time
        from samunet_tune import SamUNet
        from samunet_tune.modeling.weights_io import HubUnavailableError
        model = SamUNet.from_pretrained({REPO!r})
        print("loaded", model.config.conv_branch)
        started = time.monotonic()
        try:
            SamUNet.from_pretrained("samunet-tune-test/not-cached")
        except HubUnavailableError as error:
            print("error after", round(time.monotonic() - started, 3), "s:", error)
    """)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(HF_HOME=str(tmp_path / "home"), HF_HUB_OFFLINE="1")
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "loaded resnet10" in result.stdout
    assert "HF_HUB_OFFLINE is set" in result.stdout and str(tmp_path / "home" / "hub") in result.stdout
    seconds = float(result.stdout.split("error after ")[1].split(" s:")[0])
    assert seconds < 10
