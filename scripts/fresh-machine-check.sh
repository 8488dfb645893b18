#!/usr/bin/env bash
# fresh-machine-check.sh — run the README's two commands on a really fresh Debian bookworm.
#
# Why: a clean clone is not a clean machine. CI runs `make test` in a fresh clone,
# but on a machine that has been used: packages installed by hand, a `kiosk` user
# made once for a test, a file left in /etc. A missing install step (a Debian
# package not in scripts/debian-packages.txt, a user bootstrap.sh never creates,
# something bootstrap.sh assumes about the machine) is invisible there; CI stays
# green while a new machine fails.
#
# What: builds a minimal Debian bookworm root with debootstrap (--variant=minbase,
# plus only make, git and ca-certificates: what a user installs before typing the
# README's commands), brings it up to what the archive serves today (bookworm,
# bookworm-updates, bookworm-security), clones HEAD of this checkout into it and
# runs, as root in a chroot with a clean environment, `make demo` then `make test`.
# Logs, out/demo/result.json and a summary land in out/fresh-check/.
#
# The base root is cached outside the repository (/var/cache/konbini-fresh/
# bookworm-base, or $FRESH_CACHE); every run works in a throwaway copy of it
# (an overlayfs, or `cp -a` where overlayfs is not available) in /var/tmp, so the
# cache stays as debootstrap left it. Uncommitted changes are NOT tested: commit
# first (the commit tested is printed).
#
# Too slow for .ci/run (it installs every Debian package and the whole .venv from
# the network each run). Measured on 2 cores: building the base (cold, once) 45-80 s;
# each run's setup (warm: copy, apt-get update/dist-upgrade, clone) 5-10 s; then
# `make demo` about 2 minutes (most of it bootstrap.sh: the Debian packages and the
# venv) and `make test` about 15 minutes. Both commands, warm: about 18 minutes.
#
# Needs root (debootstrap, chroot, mounts). Run `scripts/fresh-machine-check.sh --help`.
set -euo pipefail

readonly SUITE=bookworm
readonly MIRROR=http://deb.debian.org/debian
readonly SECURITY_MIRROR=http://deb.debian.org/debian-security
readonly ROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
readonly VERSION_PACKAGES=(cups-daemon pcscd vsmartcard-vpcd libpcsclite1 python3)
# What a user installs on a fresh bookworm before typing the README's commands:
# git to clone, make to type `make`, ca-certificates for git/pip over https. Nothing
# else is unavoidable: bash, apt, dpkg and coreutils are in minbase, and python3
# comes from bootstrap.sh (python3-venv/python3-dev in scripts/debian-packages.txt).
readonly BASE_PACKAGES=(make git ca-certificates)

usage() {
    cat <<'EOF'
Usage: scripts/fresh-machine-check.sh [--only demo|test] [--keep] [--rebuild]

Runs the README's commands (`make demo`, then `make test`) in a clean clone of
HEAD inside a freshly built Debian bookworm root (debootstrap minbase + make, git,
ca-certificates, upgraded to today's bookworm/-updates/-security), as root in a
chroot with a clean environment. Uncommitted changes are not included.

Options:
  --only demo|test  run only `make demo` or only `make test`
  --keep            leave the throwaway root in place for inspection (its path is
                    printed; it is a plain copy, everything is still unmounted)
  --rebuild         discard the cached base root and build it again
  -h, --help        this text

Environment:
  FRESH_CACHE   the cached base root (default /var/cache/konbini-fresh/bookworm-base)
  FRESH_OUT     where logs and results go (default out/fresh-check in this checkout)
  PYTEST_ARGS   passed to `make test` inside the root, e.g. PYTEST_ARGS="-x tests/printer"
  PIP_*, http_proxy, https_proxy, no_proxy (and upper case)
                passed through: they configure how pip/apt reach the registries

Output in $FRESH_OUT: setup.log (base build, upgrade), demo.log, test.log,
result.json (the demo's out/demo/result.json), demo/ (all of out/demo), summary.txt.
Exit status 0 only if every command run passed. Needs root. Typical duration on
2 cores: the base once ~1 min, then per run ~10 s setup + ~2 min demo + ~15 min tests.
The root shares this machine's network: don't run the emulated stack (hw-emu up,
make demo) on the host meanwhile if it uses fixed ports.
EOF
}

say() { printf 'fresh-check: %s\n' "$*"; }
die() { printf 'fresh-check: error: %s\n' "$*" >&2; exit 2; }

keep=0
rebuild=0
only=""
while (($#)); do
    case $1 in
        --keep) keep=1 ;;
        --rebuild) rebuild=1 ;;
        --only)
            (($# >= 2)) || die "--only needs demo or test"
            only=$2
            shift
            ;;
        --only=*) only=${1#--only=} ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
    shift
done
case $only in
    "") commands=(demo test) ;;
    demo | test) commands=("$only") ;;
    *) die "--only takes demo or test, not '$only'" ;;
esac

[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap, chroot and mounts); try: sudo $0"

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse HEAD)
cache=${FRESH_CACHE:-/var/cache/konbini-fresh/bookworm-base}
cache=${cache%/}
out=${FRESH_OUT:-$repo/out/fresh-check}
case $cache in
    "$repo" | "$repo"/*) die "FRESH_CACHE must be outside the repository ($cache)" ;;
esac

# --- host tools --------------------------------------------------------------
if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1; then
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    fi
fi
for tool in chroot findmnt mount umount flock git; do
    command -v "$tool" >/dev/null || die "missing host tool: $tool"
done

# --- mounts, processes, cleanup ------------------------------------------------
# Everything mounted under a root is found again with findmnt (also what the
# commands inside mounted and left behind), so cleanup never depends on bookkeeping.
mounts_under() { # DIR: mount points at or below DIR, deepest first
    findmnt -rn -o TARGET | awk -v d="$1" '$0 == d || index($0, d "/") == 1' | sort -r
}

unmount_under() { # DIR: unmount everything at or below DIR; lazily if busy
    local m
    while read -r m; do
        [[ -n $m ]] || continue
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "warning: cannot unmount $m"
    done < <(mounts_under "$1")
}

procs_in() { # DIR: PIDs of processes whose root directory is DIR or below it
    local p r dir_id
    dir_id=$(stat -L -c '%d:%i' "$1" 2>/dev/null) || return 0
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        if [[ $r == "$1" || $r == "$1"/* ]] \
            || [[ $(stat -L -c '%d:%i' "$p/root" 2>/dev/null) == "$dir_id" ]]; then
            echo "${p#/proc/}"
        fi
    done
}

kill_procs_in() { # DIR: TERM, then KILL, every process running inside DIR
    local pids i
    mapfile -t pids < <(procs_in "$1")
    ((${#pids[@]})) || return 0
    say "stopping processes left in the root: $(for p in "${pids[@]}"; do
        printf '%s(%s) ' "$p" "$(cat "/proc/$p/comm" 2>/dev/null || echo gone)"; done)"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for i in 1 2 3 4 5 6 7 8 9 10; do
        mapfile -t pids < <(procs_in "$1")
        ((${#pids[@]})) || return 0
        sleep 0.5
        if ((i == 6)); then
            kill -KILL "${pids[@]}" 2>/dev/null || true
        fi
    done
    mapfile -t pids < <(procs_in "$1")
    ((${#pids[@]} == 0)) || say "warning: processes still in the root: ${pids[*]}"
}

mount_root_fs() { # ROOT: what apt, pcscd, cupsd and the tests need
    local r=$1
    mount -t proc proc "$r/proc"
    # rbind for /sys brings the cgroup hierarchies (the deploy tests start a user
    # systemd); rslave so nothing mounted or unmounted below propagates to the host
    mount --rbind /sys "$r/sys"
    mount --make-rslave "$r/sys"
    mount --bind /dev "$r/dev"
    mount --make-slave "$r/dev"
    mount --bind /dev/pts "$r/dev/pts"
    # a machine of its own has its own /dev/shm (POSIX semaphores, multiprocessing)
    mount -t tmpfs -o mode=1777,nosuid,nodev shm "$r/dev/shm"
    mount -t tmpfs -o mode=0755,nosuid,nodev run "$r/run"
    # what a booted Debian has in /run before anything runs: /run/lock (/var/lock points
    # there) and /run/systemd (made by PID 1; the deploy tests mount a tmpfs over it for
    # their user manager). Not /run/systemd/system: that says "systemd is PID 1"
    install -d -m 1777 "$r/run/lock"
    install -d -m 0755 "$r/run/systemd"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmp "$r/tmp"
}

workdir=""
root=""
building=0 # 1 while this run builds $cache.partial
cleanup_done=0
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    local rc=$? left
    trap '' INT TERM
    set +e
    ((cleanup_done)) && return
    cleanup_done=1
    for r in "$root" "$( ((building)) && echo "$cache.partial")"; do
        [[ -n $r && -d $r ]] || continue
        kill_procs_in "$r"
        unmount_under "$r"
    done
    left=$(mounts_under "${workdir:-/nonexistent}"; mounts_under "$cache.partial"; mounts_under "$cache")
    if [[ -n $left ]]; then
        say "ERROR: mounts left behind (not deleting anything):"
        printf '  %s\n' "$left"
        rc=3
    else
        # an interrupted base build is discarded (a rerun would anyway: no stamp)
        ((building)) && rm -rf --one-file-system "$cache.partial"
    fi
    if [[ -z $left && -n $workdir && -d $workdir ]]; then
        if ((keep)); then
            say "kept the throwaway root: $root (chroot $root /bin/bash; rm -rf $workdir when done)"
        else
            rm -rf --one-file-system "$workdir"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the host's network settings, and nothing else from the host ---------------
# Copied into the root at every run (and removed again from the cached base after
# building it): they are how this workplace reaches the registries, not state of
# the machine the project could come to depend on.
#  /etc/resolv.conf   name resolution (debootstrap copies it once; refreshed each run)
#  /etc/pip.conf      pip's settings here (cert = Debian's CA bundle, which the root's
#                     ca-certificates provides at the same path)
#  /etc/xdg/pip/      pip's site-wide config/constraints here (a cap on wheels this
#                     workplace keeps on disk; irrelevant to this project, but pip in
#                     the root should resolve exactly as pip here does)
#  /etc/apt/apt.conf.d/99artifact-registry
#                     Acquire::Check-Valid-Until/Check-Date false: how apt here must
#                     fetch (Release files served past their Valid-Until, clock skew)
#  /etc/apt/apt.conf.d/99farm-no-dep11
#                     do not fetch DEP-11 (AppStream) indexes, which are not served here
#  /usr/local/share/ca-certificates/*.crt (throwaway roots only, see host_cas_in)
#                     the local CAs of this workplace's TLS-intercepting egress and
#                     artifact registry: without them pip fails with "self-signed
#                     certificate in certificate chain"
# Not copied: docker-* (size tweaks of the host's container image: no translations,
# gzipped indexes, no package cache), 01autoremove, 02autoremove-postgresql,
# 20packagekit, 50appstream, 70debconf: package policy and hooks, not fetching.
readonly APT_FETCH_SNIPPETS=(99artifact-registry 99farm-no-dep11)
readonly NET_MARK=.fresh-check-host-net # list of what was copied, to remove it again

host_net_in() { # ROOT
    local r=$1 f copied=()
    cp --remove-destination -L /etc/resolv.conf "$r/etc/resolv.conf"
    if [[ -f /etc/pip.conf ]]; then
        cp -L /etc/pip.conf "$r/etc/pip.conf"
        copied+=(/etc/pip.conf)
    fi
    if [[ -d /etc/xdg/pip ]]; then
        mkdir -p "$r/etc/xdg"
        rm -rf "$r/etc/xdg/pip"
        cp -rL /etc/xdg/pip "$r/etc/xdg/pip"
        copied+=(/etc/xdg/pip)
    fi
    for f in "${APT_FETCH_SNIPPETS[@]}"; do
        if [[ -f /etc/apt/apt.conf.d/$f ]]; then
            cp -L "/etc/apt/apt.conf.d/$f" "$r/etc/apt/apt.conf.d/$f"
            copied+=("/etc/apt/apt.conf.d/$f")
        fi
    done
    printf '%s\n' "${copied[@]}" >"$r/$NET_MARK"
}

host_cas_in() { # ROOT: the host's local CAs into the root's trust store (throwaway roots only:
    # the base is built before ca-certificates is there, and must not keep them)
    local r=$1 c crts
    shopt -s nullglob
    crts=(/usr/local/share/ca-certificates/*.crt /usr/local/share/ca-certificates/*/*.crt)
    shopt -u nullglob
    ((${#crts[@]})) || return 0
    for c in "${crts[@]}"; do
        install -D -m 0644 "$c" "$r$c"
    done
    in_root "$r" update-ca-certificates >>"$setup_log" 2>&1
}

host_net_out() { # ROOT: the cached base keeps none of it
    local r=$1 f
    [[ -f $r/$NET_MARK ]] || return 0
    while read -r f; do
        [[ -n $f ]] && rm -rf "${r:?}$f"
    done <"$r/$NET_MARK"
    rm -f "$r/$NET_MARK" "$r/etc/resolv.conf"
}

# The variables passed into the root: a clean environment plus how to reach the
# registries, CI=true as in CI, and PYTEST_ARGS for running a subset.
# PIP_FIND_LINKS naming a directory of this machine (here /opt/wheels, wheels kept on
# its disk) is left out: the root has no such directory, and it is data, not network.
root_env=(HOME=/root "PATH=$ROOT_PATH" LANG=C.UTF-8 TERM=dumb CI=true)
while read -r var; do
    case $var in
        PIP_FIND_LINKS)
            if [[ ${!var} == /* ]]; then
                say "not passing $var=${!var} (a directory on this machine, not in the root)"
            else
                root_env+=("$var=${!var}")
            fi
            ;;
        PIP_* | http_proxy | https_proxy | no_proxy | HTTP_PROXY | HTTPS_PROXY | NO_PROXY)
            root_env+=("$var=${!var}") ;;
    esac
done < <(compgen -e)
[[ -n ${PYTEST_ARGS:-} ]] && root_env+=("PYTEST_ARGS=$PYTEST_ARGS")

in_root() { # ROOT CMD...: run CMD in the root with the clean environment
    local r=$1
    shift
    # without the cache lock's descriptor: a daemon left behind must not hold the lock
    env -i "${root_env[@]}" /usr/sbin/chroot "$r" "$@" {lock_fd}>&-
}

write_sources() { # ROOT: today's bookworm, bookworm-updates and bookworm-security
    local r=$1
    rm -f "$r/etc/apt/sources.list"
    cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

write_machine_files() { # ROOT: what any installed Debian has and debootstrap does not write
    local r=$1 name
    # The chroot shares the host's UTS namespace, so its hostname is the host's.
    # The Debian installer writes /etc/hostname and an /etc/hosts with localhost
    # and 127.0.1.1 <hostname>; debootstrap writes no /etc/hosts at all.
    name=$(uname -n)
    echo "$name" >"$r/etc/hostname"
    cat >"$r/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	$name

::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
EOF
    # A chroot has no init system: without this, the maintainer scripts of cups-daemon
    # and pcscd would start the system daemons through their sysvinit scripts, as
    # orphans in the host's network namespace (cupsd on the host's port 631). On a
    # booted machine systemd starts them; the project's private daemons must not rely
    # on either, and the host this runs on has the same policy-rc.d.
    printf '#!/bin/sh\n# fresh-machine-check: a chroot starts no services\nexit 101\n' \
        >"$r/usr/sbin/policy-rc.d"
    chmod 0755 "$r/usr/sbin/policy-rc.d"
}

# shellcheck disable=SC2317  # run through logged
apt_in_root() { # ROOT ARGS...
    local r=$1
    shift
    in_root "$r" env DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@"
}

logged() { # CMD...: run CMD with its output in setup.log; on failure show the end of it
    "$@" >>"$setup_log" 2>&1 && return 0
    tail -n 30 "$setup_log" >&2
    die "failed: $* (see $setup_log)"
}

mkdir -p "$out"
rm -rf "$out/demo"
rm -f "$out"/{setup,demo,test}.log "$out/result.json" "$out/summary.txt"
setup_log=$out/setup.log

say "testing commit $commit of $repo"
if [[ -n $(git -C "$repo" status --porcelain --untracked-files=no) ]]; then
    say "note: the checkout has uncommitted changes; they are NOT part of the check"
fi

# --- the cached base --------------------------------------------------------------
mkdir -p "$(dirname "$cache")"
exec {lock_fd}>"$cache.lock"
stamp=$cache.complete
if ((rebuild)) || [[ ! -f $stamp ]]; then
    flock -x "$lock_fd"
    if ((rebuild)); then
        say "discarding the cached base $cache"
        unmount_under "$cache"
        rm -f "$stamp"
        rm -rf --one-file-system "$cache"
    fi
fi
if [[ ! -f $stamp ]]; then
    t0=$SECONDS
    partial=$cache.partial
    say "building the base root in $cache (debootstrap; log: $setup_log)"
    unmount_under "$partial"
    rm -rf --one-file-system "$partial" "$cache"
    building=1
    logged debootstrap --variant=minbase "$SUITE" "$partial" "$MIRROR"
    write_sources "$partial"
    write_machine_files "$partial"
    host_net_in "$partial"
    mount_root_fs "$partial"
    logged apt_in_root "$partial" update
    logged apt_in_root "$partial" dist-upgrade
    logged apt_in_root "$partial" install --no-install-recommends "${BASE_PACKAGES[@]}"
    logged apt_in_root "$partial" clean
    kill_procs_in "$partial"
    unmount_under "$partial"
    host_net_out "$partial"
    [[ -z $(mounts_under "$partial") ]] || die "mounts left under $partial"
    mv "$partial" "$cache"
    building=0
    # written only now: a base without it is incomplete and is built again
    { date -u +%FT%TZ; printf '%s\n' "${BASE_PACKAGES[@]}"; } >"$stamp"
    say "base built in $((SECONDS - t0)) s"
else
    say "reusing the cached base $cache (built $(head -n1 "$stamp"); --rebuild to discard it)"
fi
# shared from here on: another run's --rebuild waits until this one is done
flock -s "$lock_fd"

# --- the throwaway root -------------------------------------------------------------
t0=$SECONDS
workdir=$(mktemp -d /var/tmp/konbini-fresh.XXXXXX)
root=$workdir/root
mkdir "$root"
# --keep wants a plain directory that outlives the mount and a later --rebuild
if ((keep == 0)) && mkdir "$workdir/upper" "$workdir/work" \
    && mount -t overlay overlay \
        -o "lowerdir=$cache,upperdir=$workdir/upper,workdir=$workdir/work" "$root" 2>/dev/null; then
    how="overlayfs"
else
    rm -rf "$workdir/upper" "$workdir/work"
    cp -a "$cache/." "$root/"
    # / is a mount point on any machine (findmnt /, systemd's sandboxing set-up)
    mount --bind "$root" "$root"
    how="copy"
fi
say "throwaway root ($how): $root"
write_machine_files "$root"
host_net_in "$root"
mount_root_fs "$root"
host_cas_in "$root"
logged apt_in_root "$root" update
logged apt_in_root "$root" dist-upgrade

logged git clone -q --no-local "$repo" "$root/root/konbini-kiosk"
git -C "$root/root/konbini-kiosk" checkout -q --detach "$commit"
say "root ready in $((SECONDS - t0)) s; clone of $commit in /root/konbini-kiosk"

# --- the README's commands ----------------------------------------------------------------
declare -A status seconds
for cmd in "${commands[@]}"; do
    log=$out/$cmd.log
    say "running make $cmd (log: $log)"
    t0=$SECONDS
    # in the background so that a signal reaches our trap at once (cleanup stops it)
    # shellcheck disable=SC2016  # $1 is expanded by the shell in the root
    in_root "$root" /bin/sh -c 'cd /root/konbini-kiosk && exec make "$1"' sh "$cmd" \
        >"$log" 2>&1 </dev/null &
    rc=0
    wait "$!" || rc=$?
    seconds[$cmd]=$((SECONDS - t0))
    status[$cmd]=$rc
    mapfile -t left < <(procs_in "$root")
    if ((${#left[@]})); then
        say "note: processes still running in the root after make $cmd: $(
            for p in "${left[@]}"; do printf '%s ' "$(cat "/proc/$p/comm" 2>/dev/null)"; done)"
    fi
    if [[ $cmd == demo ]]; then
        if [[ -f $root/root/konbini-kiosk/out/demo/result.json ]]; then
            cp "$root/root/konbini-kiosk/out/demo/result.json" "$out/result.json"
        fi
        if [[ -d $root/root/konbini-kiosk/out/demo ]]; then
            cp -r "$root/root/konbini-kiosk/out/demo" "$out/demo"
        fi
    fi
done

# --- summary ------------------------------------------------------------------------------------
versions=()
for pkg in "${VERSION_PACKAGES[@]}"; do
    # shellcheck disable=SC2016  # dpkg-query's own ${field} syntax
    v=$(in_root "$root" dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$pkg" 2>/dev/null || true)
    if [[ $v == "ii "* ]]; then
        versions+=("$pkg ${v#ii }")
    else
        versions+=("$pkg (not installed)")
    fi
done

failed=0
{
    for cmd in "${commands[@]}"; do
        if ((status[$cmd] == 0)); then
            say "make $cmd: PASS (${seconds[$cmd]} s)"
        else
            say "make $cmd: FAIL (exit ${status[$cmd]}, ${seconds[$cmd]} s)"
        fi
    done
    if [[ " ${commands[*]} " == *" test "* ]]; then
        line=$(grep -E 'passed|failed|error' "$out/test.log" | tail -n 1 || true)
        say "pytest: ${line:-(no summary line in test.log: pytest did not run)}"
    fi
    if [[ -f $out/result.json ]]; then
        say "demo result: $out/result.json"
    fi
    joined=$(printf '%s, ' "${versions[@]}")
    say "versions: ${joined%, }"
    say "commit: $commit"
} | tee "$out/summary.txt"
for cmd in "${commands[@]}"; do
    ((status[$cmd] == 0)) || failed=1
done
exit "$failed"
