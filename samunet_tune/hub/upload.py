"""Upload a staged folder to the Hub: create the repo, then one commit with exactly its files.

This uses `HfApi.create_commit` with one `CommitOperationAdd` per checked file, not
`upload_folder`. With hf_xet installed, huggingface_hub 2.x's `upload_folder` goes through a
streamed pipeline that may split an upload into several commits; here one push is one commit of
the files `--dry-run` showed. Before anything leaves the machine, every file is checked again
(`files.publishable_files`).
"""

from __future__ import annotations

from pathlib import Path

from samunet_tune.hub.files import publishable_files
from samunet_tune.hub.staging import check_repo_name

DEFAULT_COMMIT_MESSAGE = "Upload SAM-UNet with samunet-tune push"


def push_folder(
    folder: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    commit_description: str | None = None,
    create_pr: bool = False,
    token: str | bool | None = None,
    api=None,
):
    """Create `repo_id` if needed (private if asked; an existing repo keeps its visibility) and
    commit every file of `folder`; returns huggingface_hub's CommitInfo.

    Args:
        revision: branch to commit to (created from main if it does not exist); default main.
        api: an `HfApi` (default: one using HF_ENDPOINT and the saved login or HF_TOKEN).
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    import samunet_tune

    check_repo_name(repo_id)
    folder = Path(folder)
    files = publishable_files(folder)
    if "README.md" not in files:
        raise ValueError(f"{folder} has no README.md: stage it with samunet-tune push (or stage_upload) first")
    api = api or HfApi(token=token, library_name="samunet-tune", library_version=samunet_tune.__version__)
    check_hub_reachable(api.endpoint, folder)
    api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    if revision not in (None, "main"):
        api.create_branch(repo_id, branch=revision, repo_type="model", exist_ok=True)
    operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(folder / name)) for name in files]
    return api.create_commit(
        repo_id,
        operations,
        commit_message=commit_message or DEFAULT_COMMIT_MESSAGE,
        commit_description=commit_description,
        repo_type="model",
        revision=revision,
        create_pr=create_pr,
    )


def check_hub_reachable(endpoint: str, folder: Path) -> None:
    """One bounded request first: HfApi's own calls set no timeout, so a network that drops
    packets would leave `create_repo` waiting for the operating system's TCP timeout."""
    from huggingface_hub import constants, get_session

    from samunet_tune.modeling.weights_io import HubUnavailableError, transport_errors

    try:
        get_session().head(endpoint, timeout=constants.HF_HUB_ETAG_TIMEOUT)
    except transport_errors() as error:
        cause = "HF_HUB_OFFLINE is set" if constants.is_offline_mode() else f"{type(error).__name__}: {error}"
        raise HubUnavailableError(
            f"cannot reach the Hugging Face Hub at {endpoint} to upload {folder.name} ({cause}). Nothing was "
            "uploaded (`samunet-tune push --dry-run` shows what would be); push again when online."
        ) from error
