"""`samunet-tune push`: --dry-run writes the exact upload folder; a real push drives
huggingface_hub's own upload API against a loopback fake Hub (only the network is fake)."""

from __future__ import annotations

import hashlib

import pytest
import torch
from click.testing import CliRunner

from samunet_tune import SamUNet
from samunet_tune.hub.cli import push_command
from samunet_tune.hub.files import UnpublishableFileError
from samunet_tune.hub.upload import push_folder
from tests.hub.fake_hub import COMMIT, lfs_file_oids, regular_file_contents

REPO = "samunet-tune-test/samunet_tiny-demo"
# huggingface_hub's own LFS upload passes a file object as `data=` to httpx2, which warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


def _push(*args: str):
    result = CliRunner().invoke(push_command, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_save_dry_run_load_gives_identical_outputs(tiny_model, tmp_path, outputs_of):
    tiny_model.save_pretrained(tmp_path / "model")
    staged = tmp_path / "staged"
    result = _push(str(tmp_path / "model"), "--repo-id", REPO, "--dry-run", "--staging-dir", str(staged))
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.output.splitlines() if line.startswith("  ")]
    on_disk = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
    assert listed == on_disk == ["README.md", "config.json", "model.safetensors"]
    assert "nothing uploaded" in result.output
    loaded = SamUNet.from_pretrained(staged)
    assert torch.equal(outputs_of(loaded), outputs_of(tiny_model))


def test_dry_run_defaults_to_hub_upload_folder_and_replaces_its_own_staging(tiny_model, tmp_path, monkeypatch):
    tiny_model.save_pretrained(tmp_path / "model")
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # the second run replaces the first staging
        assert _push("model", "--repo-id", REPO, "--dry-run").exit_code == 0
    assert (tmp_path / "hub-upload" / "samunet-tune-test--samunet_tiny-demo" / "README.md").is_file()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    refused = _push("model", "--repo-id", REPO, "--dry-run", "--staging-dir", "other")
    assert refused.exit_code != 0 and "not a folder staged by samunet-tune push" in refused.output
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_push_creates_the_repo_and_commits_exactly_the_staged_files(tiny_model, tmp_path, fake_hub):
    tiny_model.save_pretrained(tmp_path / "model")
    staged = tmp_path / "staged"
    result = _push(str(tmp_path / "model"), "--repo-id", REPO, "--private", "--staging-dir", str(staged),
                   "--commit-message", "First release")
    assert result.exit_code == 0, result.output
    assert f"pushed {REPO}: {fake_hub.url}/{REPO}/commit/{COMMIT}" in result.output

    (create,) = fake_hub.calls("POST", "/api/repos/create")
    assert create.json() == {"name": "samunet_tiny-demo", "organization": "samunet-tune-test", "visibility": "private",
                             "type": "model"}
    # (huggingface_hub 2.x also GETs /api/agent-harnesses once per process for its user agent)
    pushed = [r for r in fake_hub.requests if r.path.startswith("/api/") and "agent-harnesses" not in r.path]
    assert all(r.headers.get("authorization") == "Bearer hf_test_token" for r in pushed)

    (validate,) = fake_hub.calls("POST", "/api/validate-yaml")  # the Hub's own card check, before uploading
    assert validate.json()["content"] == (staged / "README.md").read_text()

    (commit,) = fake_hub.calls("POST", rf"/api/models/{REPO}/commit/main")
    header = commit.ndjson()[0]
    assert header == {"key": "header", "value": {"summary": "First release", "description": ""}}
    regular, lfs = regular_file_contents(commit), lfs_file_oids(commit)
    assert sorted(regular) + sorted(lfs) == ["README.md", "config.json", "model.safetensors"]
    for name, content in regular.items():
        assert content == (staged / name).read_bytes()
    weights = (staged / "model.safetensors").read_bytes()
    assert lfs["model.safetensors"] == hashlib.sha256(weights).hexdigest()
    assert fake_hub.lfs_uploads[lfs["model.safetensors"]] == weights  # the bytes that left the machine


def test_push_to_a_branch_creates_it(tiny_model, tmp_path, fake_hub):
    tiny_model.save_pretrained(tmp_path / "model")
    assert _push(str(tmp_path / "model"), "--repo-id", REPO, "--revision", "v0.1").exit_code == 0
    assert fake_hub.calls("POST", rf"/api/models/{REPO}/branch/v0\.1")
    assert fake_hub.calls("POST", rf"/api/models/{REPO}/commit/v0\.1")


def test_refused_login_says_how_to_log_in(tiny_model, tmp_path, fake_hub):
    tiny_model.save_pretrained(tmp_path / "model")
    fake_hub.status_for[r"/api/repos/create"] = 403
    result = _push(str(tmp_path / "model"), "--repo-id", REPO)
    assert result.exit_code != 0
    assert "the Hub refused the upload" in result.output and "hf auth login" in result.output


def test_nothing_leaves_the_machine_if_a_staged_file_is_unpublishable(tiny_model, tmp_path, fake_hub):
    tiny_model.save_pretrained(tmp_path / "model")
    staged = tmp_path / "staged"
    _push(str(tmp_path / "model"), "--repo-id", REPO, "--dry-run", "--staging-dir", str(staged))
    torch.save({"weights": torch.zeros(2)}, staged / "extra.bin")  # slipped in after the dry run
    with pytest.raises(UnpublishableFileError, match="extra.bin: a pickle"):
        push_folder(staged, REPO)
    assert fake_hub.requests == []


def test_a_cached_snapshot_can_be_published_again(tiny_model, tmp_path, outputs_of):
    from tests.hub.cache_layout import put_in_cache

    tiny_model.save_pretrained(tmp_path / "model")
    snapshot = put_in_cache(tmp_path / "cache", "org/original", tmp_path / "model")  # files are links to blobs
    staged = tmp_path / "staged"
    assert _push(str(snapshot), "--repo-id", REPO, "--dry-run", "--staging-dir", str(staged)).exit_code == 0
    assert not any(p.is_symlink() for p in staged.iterdir())
    assert torch.equal(outputs_of(SamUNet.from_pretrained(staged)), outputs_of(tiny_model))


def test_an_unreachable_hub_stops_the_push_at_once(tiny_model, tmp_path, monkeypatch, hf_cache):
    import socket
    import time

    from tests.hub.conftest import point_hub_at

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    point_hub_at(monkeypatch, f"http://127.0.0.1:{port}")
    tiny_model.save_pretrained(tmp_path / "model")
    started = time.monotonic()
    result = _push(str(tmp_path / "model"), "--repo-id", REPO)
    assert time.monotonic() - started < 10  # a sanity bound, not a benchmark
    assert result.exit_code != 0
    assert "cannot reach the Hugging Face Hub" in result.output and "Nothing was uploaded" in result.output


def test_offline_mode_refuses_a_real_push_before_staging(tiny_model, tmp_path, offline):
    tiny_model.save_pretrained(tmp_path / "model")
    result = _push(str(tmp_path / "model"), "--repo-id", REPO, "--staging-dir", str(tmp_path / "staged"))
    assert result.exit_code != 0 and "HF_HUB_OFFLINE is set" in result.output
    assert not (tmp_path / "staged").exists()
