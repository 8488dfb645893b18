#!/bin/bash
# Install (or remove) the konbini kiosk on Raspberry Pi OS / Debian bookworm.
#
#   sudo systemd/install.sh                     # packages, user, venv, units, config; start
#   sudo systemd/install.sh --cctalk-usb 0403:6001:A1B2C3 --reader-usb 054c:06c3
#   sudo systemd/install.sh --emulator          # development image: hw-emu up as a service
#   sudo systemd/install.sh --uninstall         # keeps /etc/kiosk and /var/lib/kiosk
#   sudo systemd/install.sh --uninstall --purge # removes those and the kiosk user too
#   systemd/install.sh --root /tmp/img --no-packages --no-venv   # files only, into a tree
#
# Idempotent: a second run changes nothing that the first did, and never
# overwrites /etc/kiosk/kiosk.toml, the TLS files or the money journal.
# --root DIR installs into DIR (an image being built, a test's scratch tree): no
# apt-get, no systemctl start, no udevadm; users are written to DIR/etc with
# useradd --prefix; units are enabled with systemctl --root.
# Layout: docs/deploy.md.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=/
PACKAGES=1
VENV=1
START=1
EMULATOR=0
UNINSTALL=0
PURGE=0
CCTALK_USB=""
READER_USB=""
PYTHON=${PYTHON:-/usr/bin/python3}  # Debian's interpreter, as the venv's base

# Needed at run time on top of scripts/debian-packages.txt: the libraries SDL's
# kmsdrm video driver and its evdev/udev input load (pygame-ce's wheel bundles SDL
# but dlopens these), Mesa for EGL/GLES on the Pi's GPU, polkit for pcscd access.
RUNTIME_PACKAGES=(libdrm2 libgbm1 libegl1 libgles2 libegl-mesa0 libgl1-mesa-dri libudev1
                  libasound2 alsa-utils python3-venv ca-certificates)

KIOSK_USER=kiosk
KIOSK_GROUPS=(video render input audio dialout lp)

usage() {
    sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

log() { printf 'install: %s\n' "$*"; }
die() { printf 'install: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case $1 in
        --root) ROOT=${2:?--root needs a directory}; shift ;;
        --no-packages) PACKAGES=0 ;;
        --no-venv) VENV=0 ;;
        --no-start) START=0 ;;
        --emulator) EMULATOR=1 ;;
        --uninstall) UNINSTALL=1 ;;
        --purge) PURGE=1 ;;
        --cctalk-usb) CCTALK_USB=${2:?--cctalk-usb needs VVVV:PPPP[:SERIAL]}; shift ;;
        --reader-usb) READER_USB=${2:?--reader-usb needs VVVV:PPPP}; shift ;;
        -h|--help) usage 0 ;;
        *) printf 'install: unknown option %s\n' "$1" >&2; usage 2 ;;
    esac
    shift
done

ROOT=${ROOT%/}
LIVE=0
if [ -z "$ROOT" ]; then
    LIVE=1
fi
if [ "$LIVE" = 0 ]; then
    [ -d "$ROOT" ] || die "--root $ROOT: no such directory"
    START=0
    PACKAGES=0
fi
if [ "$(id -u)" != 0 ] && [ "$LIVE" = 1 ]; then
    die "run as root (sudo $0 $*)"
fi

ETC=$ROOT/etc
UNITS=$ROOT/etc/systemd/system
OPT=$ROOT/opt/kiosk
STATE=$ROOT/var/lib/kiosk

# systemctl, live or on the tree; never fails the install for a unit that is absent
sdctl() {
    if [ "$LIVE" = 1 ]; then
        systemctl "$@"
    else
        systemctl --root="$ROOT" "$@"
    fi
}

# install a file only when its content or mode differs (keeps mtimes on re-runs)
put() { # put MODE OWNER:GROUP SRC DEST
    local mode=$1 owner=$2 from=$3 to=$4
    mkdir -p "$(dirname "$to")"
    if [ -f "$to" ] && cmp -s "$from" "$to"; then
        chmod "$mode" "$to"
    else
        install -m "$mode" "$from" "$to"
        log "wrote ${to#"$ROOT"}"
    fi
    set_owner "$owner" "$to"
}

set_owner() { # set_owner USER:GROUP PATH — by number from the tree's own passwd/group
    local user=${1%%:*} group=${1##*:} uid gid
    uid=$(awk -F: -v n="$user" '$1 == n {print $3}' "$ETC/passwd" 2>/dev/null || true)
    gid=$(awk -F: -v n="$group" '$1 == n {print $3}' "$ETC/group" 2>/dev/null || true)
    if [ -n "$uid" ] && [ -n "$gid" ] && [ "$(id -u)" = 0 ]; then
        chown "$uid:$gid" "$2"
    fi
}

has_group() { grep -q "^$1:" "$ETC/group" 2>/dev/null; }
has_user() { grep -q "^$1:" "$ETC/passwd" 2>/dev/null; }

prefix_args() {
    if [ "$LIVE" = 0 ]; then
        printf '%s\n' --prefix "$ROOT"
    fi
}

# ------------------------------------------------------------------ install steps

install_packages() {
    [ "$PACKAGES" = 1 ] || return 0
    local wanted=() missing=() p
    mapfile -t wanted < <(grep -v '^\s*#' "$SRC/scripts/debian-packages.txt" | tr -s ' \t' '\n' | grep .)
    wanted+=("${RUNTIME_PACKAGES[@]}")
    for p in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]}"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

make_user() {
    local g args=()
    mapfile -t args < <(prefix_args)
    for g in "${KIOSK_GROUPS[@]}"; do
        has_group "$g" || groupadd "${args[@]}" --system "$g"
    done
    if ! has_user "$KIOSK_USER"; then
        has_group "$KIOSK_USER" || groupadd "${args[@]}" --system "$KIOSK_USER"
        useradd "${args[@]}" --system --gid "$KIOSK_USER" --home-dir /var/lib/kiosk \
            --no-create-home --shell /usr/sbin/nologin --comment "konbini kiosk" "$KIOSK_USER"
        log "created user $KIOSK_USER"
    fi
    local current
    current=$(awk -F: -v u="$KIOSK_USER" '{n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) print $1}' "$ETC/group" | sort | tr '\n' ' ')
    for g in "${KIOSK_GROUPS[@]}"; do
        case " $current " in
            *" $g "*) ;;
            *) usermod "${args[@]}" --append --groups "$g" "$KIOSK_USER"; log "added $KIOSK_USER to $g" ;;
        esac
    done
}

make_venv() {
    mkdir -p "$OPT"
    # the sources the venv was built from, for the docs and a rebuild
    local stamp new
    # what is being installed: the commit, or for a tree without git a hash of it
    if ! new=$(git -C "$SRC" rev-parse HEAD 2>/dev/null); then
        new=tree-$(tar -C "$SRC" --exclude=.venv --exclude=out --exclude=.git --sort=name \
            --mtime=@0 --owner=0 --group=0 --numeric-owner -c . | sha256sum | cut -c1-16)
    fi
    stamp=$OPT/src/.installed-from
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$new" ]; then
        rm -rf "$OPT/src.new"
        mkdir -p "$OPT/src.new"
        if git -C "$SRC" rev-parse HEAD >/dev/null 2>&1; then
            git -C "$SRC" archive HEAD | tar -x -C "$OPT/src.new"
        else
            tar -C "$SRC" --exclude=.venv --exclude=out --exclude=.git -c . | tar -x -C "$OPT/src.new"
        fi
        echo "$new" > "$OPT/src.new/.installed-from"
        rm -rf "$OPT/src"
        mv "$OPT/src.new" "$OPT/src"
        log "sources at /opt/kiosk/src ($new)"
    fi
    [ "$VENV" = 1 ] || return 0
    # In a tree the venv is built inside it (chroot; qemu-user-static for an arm64
    # image on another machine), so its paths are the kiosk's, not the builder's.
    local run=()
    if [ "$LIVE" = 0 ]; then
        if [ ! -x "$ROOT/usr/bin/python3" ]; then
            log "no python3 in $ROOT: the virtualenv is left for install.sh on the kiosk"
            return 0
        fi
        run=(chroot "$ROOT")
    fi
    if [ ! -x "$OPT/venv/bin/python" ]; then
        "${run[@]}" "$PYTHON" -m venv /opt/kiosk/venv
    fi
    if [ ! -f "$OPT/venv/.installed-from" ] || [ "$(cat "$OPT/venv/.installed-from")" != "$new" ]; then
        "${run[@]}" /opt/kiosk/venv/bin/pip install --quiet --no-cache-dir --upgrade pip
        "${run[@]}" /opt/kiosk/venv/bin/pip install --quiet --no-cache-dir /opt/kiosk/src
        echo "$new" > "$OPT/venv/.installed-from"
        log "virtualenv /opt/kiosk/venv ($new)"
    fi
}

render_udev() {
    local cv=0000 cp=0000 cs="" rv=0000 rp=0000 serial_match=""
    if [ -n "$CCTALK_USB" ]; then
        IFS=: read -r cv cp cs <<< "$CCTALK_USB"
    elif [ -f "$ETC/udev/rules.d/70-kiosk.rules" ]; then
        # keep the ids a vendor gave the first time
        cv=$(sed -n 's/^SUBSYSTEM=="tty", ATTRS{idVendor}=="\([0-9a-f]*\)".*/\1/p' "$ETC/udev/rules.d/70-kiosk.rules" | head -1)
        cp=$(sed -n 's/^SUBSYSTEM=="tty", ATTRS{idVendor}=="[0-9a-f]*", ATTRS{idProduct}=="\([0-9a-f]*\)".*/\1/p' "$ETC/udev/rules.d/70-kiosk.rules" | head -1)
        cs=$(sed -n 's/^SUBSYSTEM=="tty", .*ATTRS{serial}=="\([^"]*\)".*/\1/p' "$ETC/udev/rules.d/70-kiosk.rules" | head -1)
        cv=${cv:-0000}; cp=${cp:-0000}
    fi
    if [ -n "$READER_USB" ]; then
        IFS=: read -r rv rp <<< "$READER_USB"
    elif [ -f "$ETC/udev/rules.d/70-kiosk.rules" ]; then
        rv=$(sed -n 's/.*ATTR{idVendor}=="\([0-9a-f]*\)", ATTR{idProduct}=="[0-9a-f]*", SYMLINK+="kiosk-reader".*/\1/p' "$ETC/udev/rules.d/70-kiosk.rules" | head -1)
        rp=$(sed -n 's/.*ATTR{idProduct}=="\([0-9a-f]*\)", SYMLINK+="kiosk-reader".*/\1/p' "$ETC/udev/rules.d/70-kiosk.rules" | head -1)
        rv=${rv:-0000}; rp=${rp:-0000}
    fi
    for id in "$cv" "$cp" "$rv" "$rp"; do
        [[ $id =~ ^[0-9a-f]{4}$ ]] || die "USB ids are four lower-case hex digits, not '$id'"
    done
    [[ $cs =~ ^[A-Za-z0-9._-]*$ ]] || die "the ccTalk adapter's serial has odd characters: '$cs'"
    if [ -n "$cs" ]; then
        serial_match="ATTRS{serial}==\"$cs\", "
    fi
    [ "$cv" != 0000 ] || log "warning: no --cctalk-usb given: /dev/kiosk-cctalk will not appear"
    [ "$rv" != 0000 ] || log "warning: no --reader-usb given: /dev/kiosk-reader will not appear"
    local tmp
    tmp=$(mktemp)
    sed -e "s/@CCTALK_VENDOR@/$cv/g" -e "s/@CCTALK_PRODUCT@/$cp/g" \
        -e "s/@CCTALK_SERIAL_MATCH@/$serial_match/g" -e "s/@CCTALK_SERIAL@/${cs:-any}/g" \
        -e "s/@READER_VENDOR@/$rv/g" -e "s/@READER_PRODUCT@/$rp/g" \
        "$SRC/systemd/udev/70-kiosk.rules.in" > "$tmp"
    put 0644 root:root "$tmp" "$ETC/udev/rules.d/70-kiosk.rules"
    rm -f "$tmp"
}

install_files() {
    local u
    for u in kiosk.service kiosk.target var-spool-cups.mount var-log-cups.mount var-cache-cups.mount; do
        put 0644 root:root "$SRC/systemd/$u" "$UNITS/$u"
    done
    put 0644 root:root "$SRC/systemd/cups/cups.service.d/10-kiosk.conf" \
        "$UNITS/cups.service.d/10-kiosk.conf"
    if [ "$EMULATOR" = 1 ]; then
        put 0644 root:root "$SRC/systemd/kiosk-emu.service" "$UNITS/kiosk-emu.service"
        put 0644 root:root "$SRC/systemd/kiosk.service.d/50-emulator.conf" \
            "$UNITS/kiosk.service.d/50-emulator.conf"
    fi
    # CUPS: the kiosk's zero-retention configuration replaces Debian's; the
    # originals are kept once as *.dist for --uninstall.
    local f
    for f in cupsd.conf cups-files.conf; do
        if [ -f "$ETC/cups/$f" ] && [ ! -f "$ETC/cups/$f.dist" ] && ! cmp -s "$SRC/systemd/cups/$f" "$ETC/cups/$f"; then
            cp -p "$ETC/cups/$f" "$ETC/cups/$f.dist"
        fi
        put 0644 root:root "$SRC/systemd/cups/$f" "$ETC/cups/$f"
    done
    render_udev
    if [ -d "$ETC/polkit-1" ] || [ "$LIVE" = 0 ]; then
        put 0644 root:root "$SRC/systemd/polkit/50-kiosk-pcscd.rules" \
            "$ETC/polkit-1/rules.d/50-kiosk-pcscd.rules"
    fi
    # configuration: root-owned, readable by the kiosk group; never overwritten
    mkdir -p "$ETC/kiosk/tls"
    chmod 0750 "$ETC/kiosk" "$ETC/kiosk/tls"
    set_owner root:kiosk "$ETC/kiosk"
    set_owner root:kiosk "$ETC/kiosk/tls"
    put 0644 root:root "$SRC/systemd/kiosk.toml.example" "$ETC/kiosk/kiosk.toml.example"
    if [ ! -e "$ETC/kiosk/kiosk.toml" ]; then
        put 0640 root:kiosk "$SRC/systemd/kiosk.toml.example" "$ETC/kiosk/kiosk.toml"
        log "edit /etc/kiosk/kiosk.toml (kiosk.id, devices, center) before going live"
    fi
    # state: the money journal, the kiosk's alone
    mkdir -p "$STATE"
    chmod 0700 "$STATE"
    set_owner kiosk:kiosk "$STATE"
}

enable_units() {
    # No login prompt behind the kiosk's screen: a USB keyboard must not reach a getty.
    if [ ! -L "$UNITS/getty@tty1.service" ]; then
        sdctl mask getty@tty1.service >/dev/null 2>&1 || ln -sf /dev/null "$UNITS/getty@tty1.service"
    fi
    local units=(kiosk.target kiosk.service var-spool-cups.mount var-log-cups.mount var-cache-cups.mount)
    [ "$EMULATOR" = 0 ] || units+=(kiosk-emu.service)
    sdctl enable "${units[@]}" >/dev/null 2>&1 || {
        # systemctl --root needs the tree's unit search path; fall back to links
        local u want
        for u in "${units[@]}"; do
            case $u in
                kiosk.target) want=multi-user.target.wants ;;
                *.mount) want=local-fs.target.wants ;;
                *) want=kiosk.target.wants ;;
            esac
            mkdir -p "$UNITS/$want"
            ln -sfn "/etc/systemd/system/$u" "$UNITS/$want/$u"
        done
    }
}

start_units() {
    [ "$LIVE" = 1 ] || return 0
    systemctl daemon-reload
    udevadm control --reload
    udevadm trigger --action=change --subsystem-match=tty --subsystem-match=usb \
        --subsystem-match=input || true
    if systemctl is-enabled --quiet display-manager.service 2>/dev/null; then
        log "warning: a desktop (display-manager.service) holds the display; the kiosk needs"
        log "         the console: systemctl disable display-manager && systemctl set-default multi-user.target"
    fi
    [ "$START" = 1 ] || return 0
    # the spool, logs and cache of CUPS move to tmpfs: cupsd must not run meanwhile
    systemctl stop cups.service cups.socket cups.path 2>/dev/null || true
    systemctl start var-spool-cups.mount var-log-cups.mount var-cache-cups.mount
    systemctl start cups.service
    if [ -x /opt/kiosk/venv/bin/kiosk ]; then
        /opt/kiosk/venv/bin/kiosk check-config /etc/kiosk/kiosk.toml \
            || die "fix /etc/kiosk/kiosk.toml, then: systemctl start kiosk.target"
    fi
    systemctl restart kiosk.target
    log "kiosk.target started: systemctl status kiosk.service"
}

# ------------------------------------------------------------------ uninstall

uninstall() {
    if [ "$LIVE" = 1 ]; then
        local unit
        for unit in kiosk.target kiosk.service kiosk-emu.service; do
            systemctl disable --now "$unit" 2>/dev/null || true
        done
    fi
    local units=(kiosk.target kiosk.service kiosk-emu.service var-spool-cups.mount
                 var-log-cups.mount var-cache-cups.mount)
    sdctl disable "${units[@]}" >/dev/null 2>&1 || true
    local u
    for u in "${units[@]}"; do
        rm -f "$UNITS/$u" "$UNITS"/*.wants/"$u"
    done
    rmdir "$UNITS/kiosk.target.wants" 2>/dev/null || true
    rm -f "$UNITS/cups.service.d/10-kiosk.conf" "$UNITS/kiosk.service.d/50-emulator.conf"
    rmdir "$UNITS/cups.service.d" "$UNITS/kiosk.service.d" 2>/dev/null || true
    if [ "$(readlink "$UNITS/getty@tty1.service" 2>/dev/null)" = /dev/null ]; then
        sdctl unmask getty@tty1.service >/dev/null 2>&1 || rm -f "$UNITS/getty@tty1.service"
    fi
    local f
    for f in cupsd.conf cups-files.conf; do
        if [ -f "$ETC/cups/$f.dist" ]; then
            mv "$ETC/cups/$f.dist" "$ETC/cups/$f"
        elif cmp -s "$SRC/systemd/cups/$f" "$ETC/cups/$f"; then
            rm -f "$ETC/cups/$f"  # there was no original to go back to
        fi
    done
    rm -f "$ETC/udev/rules.d/70-kiosk.rules" "$ETC/polkit-1/rules.d/50-kiosk-pcscd.rules"
    rm -rf "$OPT"
    rmdir "$ROOT/opt" 2>/dev/null || true
    if [ "$PURGE" = 1 ]; then
        rm -rf "$ETC/kiosk" "$STATE"
        if has_user "$KIOSK_USER"; then
            local args=()
            mapfile -t args < <(prefix_args)
            userdel "${args[@]}" "$KIOSK_USER" 2>/dev/null || true
            ! has_group "$KIOSK_USER" || groupdel "${args[@]}" "$KIOSK_USER" 2>/dev/null || true
        fi
        log "purged configuration, state and user"
    else
        log "kept /etc/kiosk and /var/lib/kiosk (the money journal); --purge removes them"
    fi
    if [ "$LIVE" = 1 ]; then
        systemctl daemon-reload
        udevadm control --reload || true
        systemctl try-restart cups.service || true
    fi
    log "uninstalled"
}

if [ "$UNINSTALL" = 1 ]; then
    uninstall
    exit 0
fi

install_packages
make_user
make_venv
install_files
enable_units
start_units
log "done"
