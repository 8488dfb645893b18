#!/usr/bin/env bash
# Install what the kiosk, the emulator and the tests need on Debian bookworm,
# then a virtualenv (.venv) with the project installed editable.
#
# Idempotent and quick when nothing is missing: Debian packages are checked with
# dpkg-query, the virtualenv is rebuilt only when pyproject.toml/setup.py change.
# As root it runs apt-get itself; otherwise it prints the exact sudo line and stops.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

# One list, read by this script and by the docs: the Debian packages the project uses.
mapfile -t DEB_PACKAGES < <(grep -v '^\s*#' scripts/debian-packages.txt | grep -v '^\s*$')

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "error: missing Debian packages. Install them with:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
venv="$here/.venv"
stamp="$venv/.installed-$(cat pyproject.toml setup.py | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "bootstrap: creating the virtualenv in .venv"
        if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
            echo "error: $PYTHON has no venv/ensurepip module; install python3-venv" >&2
            exit 1
        fi
        "$PYTHON" -m venv "$venv"
        "$venv/bin/pip" install -q --upgrade pip setuptools wheel
    else
        # updated in place: processes using the venv keep working meanwhile
        echo "bootstrap: the project's dependencies changed; updating .venv"
    fi
    "$venv/bin/pip" install -q -e ".[dev]"
    rm -f "$venv"/.installed-*
    touch "$stamp"
fi
