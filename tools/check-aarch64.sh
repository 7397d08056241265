#!/usr/bin/env bash
# Build nextdigit and run its default test suite on aarch64, on any x86-64 Debian/Ubuntu machine:
# a Debian bookworm arm64 root (debootstrap) whose binaries run under qemu user-mode emulation
# (qemu-user-static, registered through binfmt_misc), the Python dependencies from PyPI's
# aarch64 wheels, and `pip install ".[test]" && python -m pytest` inside it -- the README's
# commands, as an ARM user would run them.  Everything vector-specific is off there (no IFMA,
# no AVX2): the BPSW lanes take the portable C route, the trial division its portable path.
#
# Slow: every instruction is emulated (about 10-30x slower than native; the build compiles
# the extensions with the emulated gcc).  Not part of CI; tools/cross-compile-aarch64.sh is the
# fast check that CI runs.
#
# Usage (as root):
#   tools/check-aarch64.sh                   # the default suite
#   tools/check-aarch64.sh tests/test_lanes.py -x    # any pytest arguments instead
#   ARM_BUILD=cross tools/check-aarch64.sh   # extensions built by the host's cross compiler
#       (tools/cross-compile-aarch64.sh), dependencies from PyPI's aarch64 wheels, the tests run
#       from the source tree under emulation: minutes instead of the emulated build's hour+
# Environment: ARM_ROOT (default /var/tmp/nextdigit-arm64-root, kept between runs: delete it
# for a fresh root), DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
ROOT=${ARM_ROOT:-/var/tmp/nextdigit-arm64-root}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ "$(id -u)" != 0 ]; then
    echo "check-aarch64: run as root (debootstrap, chroot, binfmt_misc)" >&2
    exit 1
fi
if [ ! -d ../shared/reference ]; then
    echo "check-aarch64: ../shared/reference is missing (the tests compare against it)" >&2
    exit 1
fi
if ! command -v qemu-aarch64-static >/dev/null || ! command -v debootstrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static debootstrap binfmt-support >/dev/null
fi
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64
fi

t0=$(date +%s)
if [ ! -x "$ROOT/usr/bin/python3" ]; then
    echo "check-aarch64: debootstrap bookworm arm64 into $ROOT" >&2
    debootstrap --arch=arm64 --variant=minbase \
        --include=python3,python3-venv,python3-dev,build-essential,ca-certificates,git \
        bookworm "$ROOT" "$MIRROR" >/dev/null
fi
t1=$(date +%s)

# the sources (tracked files and the working tree's changes, no build output) and the references
rm -rf "$ROOT/src" && mkdir -p "$ROOT/src/nextdigit" "$ROOT/src/shared"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$ROOT/src/nextdigit"
cp -r ../shared/reference "$ROOT/src/shared/"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# the host's CA bundle (it may trust a local TLS proxy that Debian's bundle does not know)
cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/host-ca.crt"

MODE=${ARM_BUILD:-native}
if [ "$MODE" = cross ]; then
    SO=$(mktemp -d)
    CROSS_OUT=$SO tools/cross-compile-aarch64.sh
    for f in "$SO"/*.so; do
        cp "$f" "$ROOT/src/nextdigit/src/nextdigit/$(basename "$f" .so).cpython-311-aarch64-linux-gnu.so"
    done
    rm -rf "$SO"
fi

for m in proc sys dev dev/pts; do mountpoint -q "$ROOT/$m" || mount --bind "/$m" "$ROOT/$m"; done
cleanup() { for m in dev/pts dev sys proc; do umount -l "$ROOT/$m" 2>/dev/null || true; done; }
trap cleanup EXIT

if [ $# -eq 0 ]; then set -- -q -p no:cacheprovider; fi
# a clean environment: the host's pip settings (local indexes, constraints) do not apply there
env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \
    PIP_CERT=/etc/ssl/host-ca.crt SSL_CERT_FILE=/etc/ssl/host-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 MODE="$MODE" \
    chroot "$ROOT" /bin/bash -euo pipefail -c '
        cd /src/nextdigit
        echo "check-aarch64: $(uname -m), $(python3 --version), $(gcc --version | head -1)"
        python3 -m venv /venv && . /venv/bin/activate
        python -m pip install --quiet --upgrade pip
        b0=$(date +%s)
        if [ "$MODE" = cross ]; then        # the requirements of pyproject.toml, wheels only
            python -c "import tomllib; p = tomllib.load(open(\"pyproject.toml\", \"rb\"))[\"project\"]; print(\"\n\".join(p[\"dependencies\"] + p[\"optional-dependencies\"][\"test\"]))" > /tmp/req.txt
            pip install --quiet --only-binary=:all: -r /tmp/req.txt
            export PYTHONPATH=/src/nextdigit/src
        else
            pip install --quiet ".[test]"
        fi
        b1=$(date +%s)
        echo "check-aarch64: build + install took $((b1 - b0)) s"
        python -c "from nextdigit import _bpsw, _lanes; print(\"check-aarch64: BPSW route\", _bpsw.ROUTE, {r: _lanes.available(r) for r in _lanes.ROUTES})"
        python -m pytest "$@"
        echo "check-aarch64: tests took $(( $(date +%s) - b1 )) s"
    ' check-aarch64 "$@"
echo "check-aarch64: done in $(( $(date +%s) - t0 )) s (root set-up $((t1 - t0)) s)"
