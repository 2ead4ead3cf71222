"""The README's printed outputs are what the code prints now (scripts/readme_outputs.py)."""

import difflib
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "readme_outputs.py"
_spec = importlib.util.spec_from_file_location("readme_outputs", SCRIPT)
readme_outputs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(readme_outputs)


def test_readme_has_generated_blocks():
    """The main job's output, the reproduced figures and the cross-check are generated."""
    commands = [m["cmd"] for m in readme_outputs.BLOCK.finditer(readme_outputs.README.read_text())]
    assert any(c.startswith("pimsim compare") for c in commands)
    assert "python scripts/reproduce_ambit.py" in commands
    assert "python scripts/crosscheck.py" in commands


def test_regenerate_replaces_only_the_block_body():
    text = "intro\n<!-- output: python -c print(6*7) -->\n```\nold\n```\n<!-- end output -->\nend\n"
    assert readme_outputs.regenerate(text) == text.replace("old", "42")


@pytest.mark.slow
def test_readme_outputs_have_not_drifted():
    """Fails when a README block differs from what its commands print: run
    ``python scripts/readme_outputs.py`` to regenerate it."""
    old = readme_outputs.README.read_text()
    new = readme_outputs.regenerate(old)
    diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True)))
    assert new == old, f"README.md drifted; run scripts/readme_outputs.py:\n{diff}"
