"""hub/: the publishing script parses and uses only options that exist; the template and the
reference card fields render."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from samunet_tune.hub.card import CARD_INFO_KEYS, check_card_info, template_text
from samunet_tune.hub.cli import push_command

HUB = Path(__file__).resolve().parents[2] / "hub"


def test_publish_script_is_valid_bash_and_prints_its_usage():
    assert subprocess.run(["bash", "-n", str(HUB / "publish_reference.sh")], check=False).returncode == 0
    usage = subprocess.run(["bash", str(HUB / "publish_reference.sh")], check=False, capture_output=True, text=True)
    assert usage.returncode == 2 and "CHECKPOINT MODEL_NAME" in usage.stdout


def test_publish_script_uses_existing_push_options():
    script = (HUB / "publish_reference.sh").read_text()
    used = set(re.findall(r"(--[a-z][a-z-]+)", script.split("== 3.")[0].split("push_args=")[1])) | {"--dry-run", "--commit-message"}
    known = {opt for param in push_command.params for opt in param.opts}
    assert used <= known, used - known


def test_reference_card_fields_are_known():
    info = yaml.safe_load((HUB / "reference_card.yaml").read_text())
    assert check_card_info(info) and set(info) <= set(CARD_INFO_KEYS)


def test_the_packaged_template_is_the_hub_folder_one():
    assert template_text() == (HUB / "model_card_template.md").read_text()
