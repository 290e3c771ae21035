"""The package installs what the tree holds, and imports stay light."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    folders = {"samunet_tune." + ".".join(p.parent.relative_to(ROOT / "samunet_tune").parts) for p in (ROOT / "samunet_tune").rglob("__init__.py")}
    folders = {name.rstrip(".") for name in folders}
    for mapped, folder in config["package-dir"].items():
        if mapped != "samunet_tune":
            folders |= {mapped + "".join("." + part for part in p.parent.relative_to(ROOT / folder).parts) for p in (ROOT / folder).rglob("__init__.py")}
    assert folders <= listed, f"add to [tool.setuptools] packages: {sorted(folders - listed)}"


def test_import_does_not_load_torch():
    code = "import sys, samunet_tune, samunet_tune.cli; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_console_script_help():
    result = subprocess.run([sys.executable, "-m", "samunet_tune", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "convert" in result.stdout
