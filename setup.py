"""Build pimsim's Cython core.

Compiler directives are set here and nowhere else: bounds and wraparound checks off, C
division on. ``PIMSIM_DEBUG=1 pip install -e .`` turns the checks back on for debugging.
"""

import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("PIMSIM_DEBUG", "") not in ("", "0")

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
}

extensions = [
    Extension(
        f"pimsim.{name}",
        [f"pimsim/{name}.pyx"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O0", "-g"] if DEBUG else ["-O3"],
    )
    for name in ("_core", "_replay", "_traceparse")
]

setup(
    ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES, annotate=False),
    package_dir={"pimsim.configs": "configs"},
)
