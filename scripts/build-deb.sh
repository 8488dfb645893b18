#!/usr/bin/env bash
# build-deb.sh — build konbini-kiosk_<version>_<arch>.deb with Debian's own tools.
#
# What `make deb` runs. Steps:
#  1. checks the build dependencies (dpkg-checkbuilddeps on debian/control) and that
#     debian/changelog's version is pyproject.toml's;
#  2. copies the working tree (without .git, .venv, out/, caches) to
#     out/deb/build/konbini-kiosk-<version>/ — no git involved, so uncommitted
#     changes ARE in the package; build from a clean checkout for a release;
#  3. fetches every pinned distribution (debian/requirements.lock, the run-time
#     closure, and debian/build-requirements.lock) into a wheelhouse kept between
#     runs (out/deb/wheelhouse/<arch>-py<X.Y>/), with the .venv's pip — the only
#     step that needs the package index;
#  4. dpkg-buildpackage -b in the copy: dh-virtualenv builds /opt/kiosk/venv from
#     the wheelhouse alone (pip --no-index, no pip configuration), compiling pycups
#     and pyscard from their sdists against this machine's libcups/libpcsclite;
#  5. lintian on the .deb (fails on errors; the output in out/deb/lintian.txt).
# The .deb, .buildinfo and .changes land in out/deb/. The architecture is this
# machine's: the venv holds compiled code, so an arm64 package is built on arm64
# (a Pi, an arm64 server, or an arm64 sbuild chroot under qemu-user-static), see
# docs/deploy.md "The Debian package".
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${DEB_OUT:-$repo/out/deb}
lint=1

usage() {
    cat <<'EOF'
Usage: scripts/build-deb.sh [--out DIR] [--no-lintian]

Builds out/deb/konbini-kiosk_<version>_<arch>.deb (dpkg-buildpackage, debhelper,
dh-virtualenv) from the working tree and the pinned debian/requirements.lock, then
runs lintian on it. Needs the Debian packages in debian/control's Build-Depends
plus dpkg-dev and lintian, and .venv (scripts/bootstrap.sh) for fetching wheels.

  --out DIR      where the results go (default out/deb; also $DEB_OUT)
  --no-lintian   skip lintian
EOF
}

say() { printf 'build-deb: %s\n' "$*"; }
die() { printf 'build-deb: error: %s\n' "$*" >&2; exit 2; }

while (($#)); do
    case $1 in
        --out) (($# >= 2)) || die "--out needs a directory"; out=$2; shift ;;
        --no-lintian) lint=0 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
    shift
done

for tool in dpkg-buildpackage dpkg-checkbuilddeps dpkg-parsechangelog dpkg-architecture py3versions; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install dpkg-dev python3)"
done
((lint == 0)) || command -v lintian >/dev/null || die "missing lintian (apt-get install lintian)"
(cd "$repo" && dpkg-checkbuilddeps) || die "install the build dependencies above with apt-get"

version=$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Version)
upstream=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/pyproject.toml" | head -n1)
[[ ${version%%[+~-]*} == "$upstream" ]] \
    || die "debian/changelog says $version, pyproject.toml $upstream: add a changelog entry (dch -v $upstream)"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
pyver=$(py3versions -dv)
pip=$repo/.venv/bin/pip
[[ -x $pip ]] || die "no $pip: run scripts/bootstrap.sh (make bootstrap) first"
venv_py=$("$repo/.venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[[ $venv_py == "$pyver" ]] || die ".venv is Python $venv_py, the package's venv $pyver: wheels would not fit"

name=konbini-kiosk_${version}_$arch
mkdir -p "$out"
out=$(cd "$out" && pwd)
build=$out/build
stage=$build/konbini-kiosk-$version
wheels=$out/wheelhouse/$arch-py$pyver
t0=$SECONDS

say "building $name.deb (log: $out/build.log)"
rm -rf "$build"
mkdir -p "$stage" "$wheels"
rm -f "$out/$name".{deb,buildinfo,changes} "$out/build.log" "$out/lintian.txt"
tar -C "$repo" --exclude=./.git --exclude=./.venv --exclude=./out --exclude=./build \
    --exclude=./state --exclude='*.egg-info' --exclude=__pycache__ --exclude='*.pyc' \
    --exclude=.pytest_cache --exclude=.mypy_cache --exclude=.ruff_cache \
    --exclude=.hypothesis --exclude=.import_linter_cache -cf - . | tar -C "$stage" -xf -

say "fetching the pinned distributions into $wheels"
"$pip" download --disable-pip-version-check --quiet --no-deps --dest "$wheels" \
    -r "$repo/debian/requirements.lock" -r "$repo/debian/build-requirements.lock" \
    >>"$out/build.log" 2>&1 || { tail -n 20 "$out/build.log" >&2; die "pip download failed"; }

say "dpkg-buildpackage -b (dh-virtualenv, offline from the wheelhouse)"
if ! (cd "$stage" && env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL \
        -u PIP_CONSTRAINT -u PIP_REQUIRE_VIRTUALENV PIP_CONFIG_FILE=/dev/null \
        KIOSK_WHEELHOUSE="$wheels" dpkg-buildpackage -us -uc -b) >>"$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log" >&2
    die "dpkg-buildpackage failed (see $out/build.log)"
fi
for ext in deb buildinfo changes; do
    mv "$build/$name.$ext" "$out/"
done
rm -rf "$build"
say "built $out/$name.deb ($(du -h "$out/$name.deb" | cut -f1)) in $((SECONDS - t0)) s"

if ((lint)); then
    say "lintian (output: $out/lintian.txt)"
    rc=0
    lintian --fail-on error --display-info "$out/$name.deb" >"$out/lintian.txt" 2>&1 || rc=$?
    # errors and warnings in full, the informational tags counted
    grep -v '^I: ' "$out/lintian.txt" || true
    grep '^I: ' "$out/lintian.txt" | awk '{print $3}' | sort | uniq -c | sort -rn \
        | awk '{printf "  I: %s (%d)\n", $2, $1}' || true
    ((rc == 0)) || die "lintian reports errors"
    say "lintian: no errors"
fi
