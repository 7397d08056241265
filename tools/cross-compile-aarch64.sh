#!/usr/bin/env bash
# Compile the generated C of every extension for aarch64 with Debian's cross compiler, so that
# x86-only code outside its guards (intrinsics, __builtin_cpu_supports("avx2"), x86 inline
# assembly) fails here instead of on an ARM user's machine.  Each module is compiled with
# warnings and linked into a shared object (undefined Python symbols are fine in an extension;
# anything else missing, e.g. a libgcc helper, fails the link).
#
# Needs: aarch64-linux-gnu-gcc (Debian package gcc-aarch64-linux-gnu), the aarch64 Python
# headers (libpython3.11-dev:arm64 after `dpkg --add-architecture arm64`), Cython and numpy in
# the active Python (numpy's include directory is architecture-independent headers plus
# _numpyconfig.h, whose sizes are checked below against the aarch64 compiler).  As root with
# apt-get available the script installs the Debian packages itself; otherwise it says what is
# missing and fails.
#
# Usage: tools/cross-compile-aarch64.sh          (from any directory; exit 0 = every module built)
#        CROSS_OUT=DIR tools/cross-compile-aarch64.sh    (keeps DIR/<module>.so)
set -euo pipefail
cd "$(dirname "$0")/.."

CC=${CC_AARCH64:-aarch64-linux-gnu-gcc}
PYV=3.11                                     # the Python of Debian bookworm's arm64 headers
PYCONF=/usr/include/aarch64-linux-gnu/python$PYV/pyconfig.h

if ! command -v "$CC" >/dev/null || [ ! -f "$PYCONF" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "cross-compile: installing gcc-aarch64-linux-gnu and libpython$PYV-dev:arm64" >&2
        dpkg --add-architecture arm64
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu "libpython$PYV-dev:arm64" >/dev/null
    else
        echo "cross-compile: need $CC and $PYCONF (apt-get install gcc-aarch64-linux-gnu libpython$PYV-dev:arm64)" >&2
        exit 1
    fi
fi
python -c "import Cython" 2>/dev/null || python -m pip install --quiet "cython>=3.0"

NPINC=$(python -c "import numpy; print(numpy.get_include())")
if [ -n "${CROSS_OUT:-}" ]; then            # keep the shared objects there (ARM_BUILD=cross tools/check-aarch64.sh)
    OUT=$CROSS_OUT
    mkdir -p "$OUT"
else
    OUT=$(mktemp -d)
    trap 'rm -rf "$OUT"' EXIT
fi

# numpy's config header was generated for the build machine: check that its sizes are the
# aarch64 ones (all LP64 Linux: they are, and this keeps it so)
cat > "$OUT/npcheck.c" <<'C'
#include <Python.h>
#include <numpy/npy_common.h>
#include <wchar.h>
_Static_assert(NPY_SIZEOF_SHORT == sizeof(short), "short");
_Static_assert(NPY_SIZEOF_INT == sizeof(int), "int");
_Static_assert(NPY_SIZEOF_LONG == sizeof(long), "long");
_Static_assert(NPY_SIZEOF_LONGLONG == sizeof(long long), "long long");
_Static_assert(NPY_SIZEOF_FLOAT == sizeof(float), "float");
_Static_assert(NPY_SIZEOF_DOUBLE == sizeof(double), "double");
_Static_assert(NPY_SIZEOF_LONGDOUBLE == sizeof(long double), "long double");
_Static_assert(NPY_SIZEOF_PY_INTPTR_T == sizeof(void *), "intptr");
_Static_assert(NPY_SIZEOF_WCHAR_T == sizeof(wchar_t), "wchar_t");
_Static_assert(NPY_SIZEOF_OFF_T == sizeof(off_t), "off_t");
C
"$CC" -c -I/usr/include/python$PYV -I"$NPINC" -o "$OUT/npcheck.o" "$OUT/npcheck.c"

# the generated C, with setup.py's compiler directives (keep the two lists alike)
python - "$OUT" <<'PY'
import glob, os, sys
from Cython.Build import cythonize
from setuptools import Extension
out = sys.argv[1]
exts = [Extension(f"nextdigit.{os.path.splitext(os.path.basename(p))[0]}", [p])
        for p in sorted(glob.glob("csrc/nextdigit/*.pyx"))]
cythonize(exts, build_dir=out, include_path=["csrc"], quiet=True, force=True,
          compiler_directives={"language_level": 3, "boundscheck": False, "wraparound": False,
                               "cdivision": True, "initializedcheck": False, "embedsignature": True})
PY

status=0
for c in "$OUT"/csrc/nextdigit/*.c; do
    mod=$(basename "$c" .c)
    if "$CC" -O2 -fPIC -fopenmp -fno-strict-aliasing -Wall -Wno-unused-function \
            -Werror=implicit-function-declaration -Werror=int-conversion -Werror=incompatible-pointer-types \
            -DNPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION -I/usr/include/python$PYV -I"$NPINC" \
            -Icsrc/nextdigit -c "$c" -o "$OUT/$mod.o" 2>"$OUT/$mod.log" \
       && "$CC" -shared -fopenmp -o "$OUT/$mod.so" "$OUT/$mod.o" 2>>"$OUT/$mod.log"; then
        printf 'cross-compile: %-12s ok (%s)\n' "$mod" \
            "$(aarch64-linux-gnu-readelf -h "$OUT/$mod.so" | sed -n 's/ *Machine: *//p')"
    else
        printf 'cross-compile: %-12s FAILED\n' "$mod"
        grep -E "error|undefined" "$OUT/$mod.log" | head -20 || true
        status=1
    fi
done
exit $status
