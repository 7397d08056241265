"""Build script for nextdigit's Cython kernels.

Every ``csrc/nextdigit/*.pyx`` becomes the extension ``nextdigit.<name>``.  Generated C goes to
``build/cython`` (never into ``csrc/`` or git).

Environment switches (all optional):

* ``NEXTDIGIT_OPENMP=0`` builds without OpenMP even when the compiler supports it (the kernels
  then run serially; ``threads=`` is accepted and ignored).
* ``NEXTDIGIT_NATIVE=1`` adds ``-march=native`` for local benchmarking.  Never the default: such
  a binary crashes on older CPUs.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def _compiler_accepts(cc, flags, code):
    """True when ``cc`` compiles and links ``code`` with ``flags``."""
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as fh:
            fh.write(code)
        cmd = [cc, src, "-o", os.path.join(tmp, "probe"), *flags]
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    except OSError:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExt(build_ext):
    """Adds OpenMP flags when the compiler supports them (and the user did not opt out)."""

    def build_extensions(self):
        cc = self.compiler.compiler_so[0] if hasattr(self.compiler, "compiler_so") else "cc"
        use_omp = os.environ.get("NEXTDIGIT_OPENMP", "1") != "0" and _compiler_accepts(
            cc, ["-fopenmp"], "#include <omp.h>\nint main(void){return omp_get_max_threads() < 0;}\n"
        )
        extra = ["-O3", "-fno-strict-aliasing"]
        if os.environ.get("NEXTDIGIT_NATIVE") == "1":
            extra.append("-march=native")
        for ext in self.extensions:
            ext.extra_compile_args = extra + (["-fopenmp"] if use_omp else [])
            ext.extra_link_args = ["-fopenmp"] if use_omp else []
        print(f"nextdigit: OpenMP {'enabled' if use_omp else 'disabled'}; flags {extra}", file=sys.stderr)
        super().build_extensions()


def extensions():
    exts = []
    for pyx in sorted(glob.glob(os.path.join("csrc", "nextdigit", "*.pyx"))):
        name = os.path.splitext(os.path.basename(pyx))[0]
        exts.append(
            Extension(
                f"nextdigit.{name}",
                [pyx],
                include_dirs=[np.get_include(), os.path.join("csrc", "nextdigit")],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            )
        )
    return cythonize(
        exts,
        build_dir=os.path.join("build", "cython"),
        include_path=["csrc"],
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "embedsignature": True,
        },
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
