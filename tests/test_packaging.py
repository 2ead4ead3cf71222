"""A plain (non-editable) install is whole: the wheel ``pip`` builds from the repository holds
every pimsim package, the shipped presets, the library's programs and the compiled modules.
(An editable install reads the tree and hides what a wheel leaves out.)"""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
#: Files the build reads; build products of the editable install are left behind.
SOURCES = ("setup.py", "pyproject.toml", "README.md", "pimsim", "configs")
BUILT = shutil.ignore_patterns(
    "__pycache__", "*.so", "*.c", "*.html", "_codes.pxi", "_code_names.pxi"
)


@pytest.mark.slow
def test_the_wheel_holds_every_package_preset_program_and_extension(tmp_path):
    tree = tmp_path / "src"
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=BUILT)
        else:
            tree.mkdir(exist_ok=True)
            shutil.copy(source, tree / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(tree)],
        capture_output=True, text=True, timeout=1200,
        env={**os.environ, "PIMSIM_DEBUG": "1"},  # -O0: the same files, built fast
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("pimsim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {
        p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "pimsim").rglob("__init__.py")
    }
    for package in packages:
        assert f"{package}/__init__.py" in names, package
    for preset in (ROOT / "configs").glob("*.yaml"):
        assert f"pimsim/configs/{preset.name}" in names, preset.name
    for program in (ROOT / "pimsim" / "programs" / "lib").glob("*.pim"):
        assert f"pimsim/programs/lib/{program.name}" in names, program.name
    for source in (ROOT / "pimsim").glob("*.pyx"):  # each compiled module
        module = f"pimsim/{source.stem}."
        assert any(n.startswith(module) and n.endswith(".so") for n in names), source.name
