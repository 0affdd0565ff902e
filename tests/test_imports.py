"""The package's imports run one way (pyproject.toml's import-linter contracts): runs ->
training -> fast -> the method at the root, with no circle inside any package."""
import shutil
import subprocess

from tests.helpers import ROOT


def test_the_import_contracts_are_kept():
    tool = shutil.which("lint-imports")
    assert tool, "lint-imports (import-linter, in requirements.txt) is not installed"
    out = subprocess.run([tool, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "0 broken" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]
