#!/usr/bin/env bash
# Installs the kiosk player on a screen running Debian 12 or Raspberry Pi OS (bookworm), as root:
# the `kiosk` user, the Noto fonts, this repository's version as a release in
# /opt/kiosk/releases/<version>/ (its own venv) with /opt/kiosk/current and /opt/kiosk/committed
# pointing at it, the player's unit and the software updater's units (enabled and started), console
# blanking off and the console cursor hidden. Running it again installs the repository's version the
# same way and changes nothing else: kiosk.yaml, playlists/, media/ and state/ are kept. An install of
# the old layout (code and .venv straight in /opt/kiosk) is moved to the new one.
#
#   sudo deploy/install.sh [--target DIR] [--config FILE] [--x11] [--no-start] [--dry-run]
#
# See README.md, "Installing on a screen".
set -euo pipefail
umask 022

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET=/opt/kiosk
CONFIG=""
X11=no
START=yes
DRY_RUN=no
KIOSK_USER=kiosk
# Debian's own Python for the venv (not whatever python3 comes first on root's PATH).
PYTHON="${PYTHON:-/usr/bin/python3}"
KIOSK_GROUPS="video render input audio"
# What the build needs from the repository (the packages pyproject.toml installs); README.md and
# deploy/ are also copied to the target, for the units' Documentation= and to run this again.
CODE="pyproject.toml README.md player sync updater deploy"
DOCS="README.md deploy"
# The old layout kept the code and its venv straight in the target; releases replace them.
OLD_CODE="pyproject.toml player sync .venv build tinhbien_kiosk.egg-info"
CACHE=/var/cache/kiosk-update
UNIT_DIR=/etc/systemd/system
UNIT=kiosk-player.service
UPDATE_UNITS="kiosk-update.service kiosk-update-boot.service kiosk-update.path kiosk-update.timer"
UPDATE_ENABLE="kiosk-update-boot.service kiosk-update.path kiosk-update.timer"
X_UNIT=kiosk-x.service
DEBIAN_PACKAGES="python3 python3-venv fonts-noto-core fonts-noto-cjk libdrm2 libgbm1 libegl1 libgles2"
X11_PACKAGES="xserver-xorg-core xserver-xorg-input-libinput x11-xserver-utils libx11-6 libxext6 libxcursor1 libxi6 libxrandr2 libxss1"
# consoleblank=0: the text console never blanks (what shows between two runs of the player).
# vt.global_cursor_default=0: no blinking text cursor on it.
KERNEL_ARGS="consoleblank=0 vt.global_cursor_default=0"

usage() {
    cat <<EOF
usage: sudo $0 [--target DIR] [--config FILE] [--x11] [--no-start] [--dry-run]

  --target DIR    where the player goes (default /opt/kiosk)
  --config FILE   this screen's kiosk.yaml; installed as DIR/kiosk.yaml (replacing the one there).
                  Without it an existing DIR/kiosk.yaml is kept, or the demo one is copied.
  --x11           for a box where SDL's kmsdrm driver does not work: a minimal X server
                  (kiosk-x.service, no desktop, no cursor) and the player on SDL's x11 driver.
                  Running again without --x11 goes back to kmsdrm.
  --no-start      install and enable, but do not (re)start the player now
  --dry-run       change nothing: print each step that would run (needs no root)
EOF
}

ARGS="$*"
while [ $# -gt 0 ]; do
    case "$1" in
        --target) TARGET="${2:?--target needs a folder}"; shift 2 ;;
        --config) CONFIG="${2:?--config needs a kiosk.yaml}"; shift 2 ;;
        --x11) X11=yes; shift ;;
        --no-start) START=no; shift ;;
        --dry-run) DRY_RUN=yes; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

say() { echo "== $*"; }
# systemd is running (not a chroot building an SD card image): units can be reloaded and started.
# The same test as sd_booted(); enable and mask work either way, on the files.
live() { [ -d /run/systemd/system ]; }
warn() { echo "warning: $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

# Every change goes through run or write_file, so --dry-run prints exactly what would be done.
run() {
    if [ "$DRY_RUN" = yes ]; then
        printf '+'; printf ' %q' "$@"; printf '\n'
    else
        "$@"
    fi
}

# write_file PATH MODE: the text on stdin becomes PATH (atomically; untouched when already the same).
write_file() {
    local path="$1" mode="$2" text
    text="$(cat)"
    if [ "$DRY_RUN" = yes ]; then
        echo "+ write $path (mode $mode):"
        printf '%s\n' "$text" | sed 's/^/|   /'
        return 0
    fi
    if [ -f "$path" ] && [ "$(cat "$path")" = "$text" ]; then
        chmod "$mode" "$path"
        return 0
    fi
    mkdir -p "$(dirname "$path")"
    printf '%s\n' "$text" > "$path.tmp"
    chmod "$mode" "$path.tmp"
    mv -f "$path.tmp" "$path"
}

check_system() {
    case "$TARGET" in /*) ;; *) die "--target must be an absolute path, not $TARGET" ;; esac
    [ -z "$CONFIG" ] || [ -f "$CONFIG" ] || die "--config $CONFIG: no such file"
    local name
    for name in $CODE; do
        [ -e "$SRC/$name" ] || die "$SRC/$name is missing: run this script from the kiosk repository"
    done
    if [ "$DRY_RUN" = no ] && [ "$(id -u)" != 0 ]; then
        die "run as root: sudo $0 $ARGS (or add --dry-run to see the steps)"
    fi
    command -v apt-get >/dev/null || die "apt-get not found: this script is for Debian 12 or Raspberry Pi OS"
    command -v systemctl >/dev/null || die "systemctl not found: the player runs as a systemd service"
}

install_packages() {
    say "Debian packages"
    local wanted="$DEBIAN_PACKAGES" missing="" pkg
    [ "$X11" = no ] || wanted="$wanted $X11_PACKAGES"
    for pkg in $wanted; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
    done
    if [ -z "$missing" ]; then
        echo "all installed"
        return 0
    fi
    run apt-get update -q
    # shellcheck disable=SC2086  # a list of package names
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

create_user() {
    say "user $KIOSK_USER"
    if getent passwd "$KIOSK_USER" >/dev/null; then
        echo "exists"
    else
        run useradd --system --user-group --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin --comment "Tinh Bien kiosk player" "$KIOSK_USER"
    fi
    local group have
    have=" $(id -nG "$KIOSK_USER" 2>/dev/null || true) "
    for group in $KIOSK_GROUPS; do
        if ! getent group "$group" >/dev/null; then
            warn "no group $group on this system; $KIOSK_USER is not added to it"
        elif [ "${have#* "$group" }" = "$have" ]; then
            run usermod --append --groups "$group" "$KIOSK_USER"
        fi
    done
}

# Owned by root and readable by all (a checkout made with umask 077 would hide it from kiosk).
copy_entry() {
    run cp -a --no-preserve=ownership "$1" "$2"
    run chmod -R u+rwX,go+rX,go-w "$2"
}

# The docs are replaced on every run (the code lives in releases/); the screen's own things
# (config, content, state) are not.
copy_code() {
    say "files in $TARGET"
    run mkdir -p "$TARGET"
    if [ "$SRC" -ef "$TARGET" ]; then
        echo "running from $TARGET itself: nothing to copy"
    else
        local name
        for name in $DOCS; do
            run rm -rf "${TARGET:?}/$name"
            copy_entry "$SRC/$name" "$TARGET/$name"
        done
        for name in playlists media; do
            if [ -e "$TARGET/$name" ]; then
                echo "keeping $TARGET/$name"
            elif [ -d "$SRC/$name" ]; then
                copy_entry "$SRC/$name" "$TARGET/$name"
            fi
        done
    fi
    if [ -n "$CONFIG" ]; then
        run install -m 0640 -o root -g "$KIOSK_USER" "$CONFIG" "$TARGET/kiosk.yaml"
    elif [ -e "$TARGET/kiosk.yaml" ]; then
        echo "keeping $TARGET/kiosk.yaml"
        run chown "root:$KIOSK_USER" "$TARGET/kiosk.yaml"
        run chmod 0640 "$TARGET/kiosk.yaml"
    else
        warn "no --config: installing the demo screen's kiosk.yaml; edit $TARGET/kiosk.yaml for this screen"
        run install -m 0640 -o root -g "$KIOSK_USER" "$SRC/kiosk.yaml" "$TARGET/kiosk.yaml"
    fi
    # The one folder the player writes (the unit makes everything else read-only).
    run install -d -m 0750 -o "$KIOSK_USER" -g "$KIOSK_USER" "$TARGET/state"
    run chown -R "$KIOSK_USER:$KIOSK_USER" "$TARGET/state"
}

# This repository's version becomes a release like those the updater installs: a build venv (kept in
# $CACHE between runs) runs `python -m sync release build` for this machine's target, and
# `python -m updater seed` installs it in $TARGET/releases/<version>/ with its own venv and points
# current and committed at it. The old layout's code and .venv go once the new version is in place.
make_release() {
    say "this repository's version as a release in $TARGET/releases"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
        || [ "$DRY_RUN" = yes ] || die "$PYTHON is missing or older than 3.11; the player needs Debian 12 or later"
    local build="$CACHE/build-venv" wheels="$CACHE/wheelhouse" target
    [ -x "$build/bin/python" ] || run "$PYTHON" -m venv "$build"
    # pip reads PIP_INDEX_URL, PIP_FIND_LINKS and PIP_NO_INDEX from the environment (a local mirror
    # or a folder of wheels for a screen without internet); so does the release build.
    run "$build/bin/python" -m pip install --disable-pip-version-check -q "$SRC"
    if [ "$DRY_RUN" = yes ]; then
        target='$(target of this machine)'
    else
        target="$("$build/bin/python" -c 'from sync.release_follow import screen_target; print(screen_target())')" \
            || die "this machine is not a screen target (see the message above)"
    fi
    run "$build/bin/python" -m sync release build --target "$target" --wheelhouse "$wheels" --project "$SRC"
    run "$build/bin/python" -m updater --install "$TARGET" --python "$PYTHON" seed --wheelhouse "$wheels"
    run install -d -m 0700 /var/lib/kiosk-update
    if [ "$SRC" -ef "$TARGET" ]; then
        echo "running from $TARGET itself: the old layout's files there are left alone"
    else
        local name
        for name in $OLD_CODE; do
            if [ -e "$TARGET/$name" ]; then
                echo "removing the old layout's $TARGET/$name"
                run rm -rf "${TARGET:?}/$name"
            fi
        done
    fi
    # A check the kiosk user can read its config, content and fonts: warns, does not stop.
    local python="$TARGET/current/venv/bin/python"
    if [ "$DRY_RUN" = yes ]; then
        run runuser -u "$KIOSK_USER" -- "$python" -P -m player --config "$TARGET/kiosk.yaml" validate
    elif ! (cd "$TARGET" && runuser -u "$KIOSK_USER" -- "$python" -P -m player --config "$TARGET/kiosk.yaml" validate); then
        warn "python -m player validate found errors (above): the player starts, but fix them"
    fi
}

install_units() {
    say "systemd units"
    local unit
    for unit in $UNIT $UPDATE_UNITS; do
        sed "s#/opt/kiosk#$TARGET#g" "$SRC/deploy/$unit" | write_file "$UNIT_DIR/$unit" 0644
    done
    if [ "$X11" = yes ]; then
        write_file "$UNIT_DIR/$X_UNIT" 0644 <<'EOF'
# A minimal X server for the kiosk player where SDL's kmsdrm driver does not work: no desktop,
# no window manager, no cursor, no screen saver. Written by deploy/install.sh --x11.
# Not enabled itself: kiosk-player.service requires it, which starts it at boot.
[Unit]
Description=Minimal X server for the Tinh Bien kiosk player
After=systemd-user-sessions.service plymouth-quit-wait.service
StartLimitIntervalSec=0

[Service]
ExecStart=/usr/lib/xorg/Xorg :0 -nolisten tcp -nocursor -s 0 -dpms -novtswitch vt7
# Ready once it accepts clients, so the player (ordered after it) does not start too early.
ExecStartPost=/bin/sh -c 'i=0; while [ ! -S /tmp/.X11-unix/X0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done'
Restart=always
RestartSec=2
EOF
        write_file "$UNIT_DIR/$UNIT.d/x11.conf" 0644 <<EOF
# The player on SDL's x11 driver, on the X server of $X_UNIT. Written by deploy/install.sh --x11.
[Unit]
Requires=$X_UNIT
After=$X_UNIT

[Service]
Environment=SDL_VIDEODRIVER=x11 DISPLAY=:0
EOF
    else
        if [ -e "$UNIT_DIR/$UNIT.d/x11.conf" ]; then
            run rm -f "$UNIT_DIR/$UNIT.d/x11.conf"
            run rmdir --ignore-fail-on-non-empty "$UNIT_DIR/$UNIT.d"
        fi
        if [ -e "$UNIT_DIR/$X_UNIT" ]; then
            ! live || run systemctl stop "$X_UNIT"
            run rm -f "$UNIT_DIR/$X_UNIT"
        fi
    fi
    ! live || run systemctl daemon-reload
    # shellcheck disable=SC2086  # a list of unit names
    run systemctl enable "$UNIT" $UPDATE_ENABLE
    # The login prompt on tty1 would read the keys of a keyboard left at the screen and show
    # between two runs of the player. `systemctl unmask getty@tty1` brings it back.
    run systemctl mask getty@tty1.service
}

# The kernel command line is where Debian sets console options: it holds from boot, for every
# virtual console, whatever runs or restarts (a `setterm -blank 0` service would cover one console,
# only once it ran). GRUB reads drop-ins in /etc/default/grub.d; a Raspberry Pi reads cmdline.txt.
console_settings() {
    say "console blanking off, console cursor hidden (from the next boot)"
    local cmdline="" arg
    if [ -f /boot/firmware/cmdline.txt ]; then cmdline=/boot/firmware/cmdline.txt
    elif [ -f /boot/cmdline.txt ]; then cmdline=/boot/cmdline.txt
    fi
    if [ -n "$cmdline" ]; then
        for arg in $KERNEL_ARGS; do
            if grep -qE "(^| )${arg%%=*}=" "$cmdline"; then
                # Replace a different value; leaves the file alone when it already says this.
                grep -qE "(^| )${arg}( |$)" "$cmdline" \
                    || run sed -i -E "1s/(^| )${arg%%=*}=[^ ]*/\\1${arg}/" "$cmdline"
            else
                run sed -i "1s/\$/ ${arg}/" "$cmdline"
            fi
        done
    elif [ -f /etc/default/grub ]; then
        write_file /etc/default/grub.d/kiosk.cfg 0644 <<EOF
# Written by the kiosk player's deploy/install.sh: the text console never blanks, no text cursor.
GRUB_CMDLINE_LINUX_DEFAULT="\$GRUB_CMDLINE_LINUX_DEFAULT $KERNEL_ARGS"
EOF
        if command -v update-grub >/dev/null; then
            run update-grub
        else
            warn "update-grub not found: run it (or grub-mkconfig) so the kernel gets '$KERNEL_ARGS'"
        fi
    else
        warn "no GRUB and no Raspberry Pi cmdline.txt: add '$KERNEL_ARGS' to the kernel command line yourself"
    fi
    # Blanking off now too, until the next boot (the setting is global to all consoles).
    if [ -w /dev/tty1 ] || [ "$DRY_RUN" = yes ]; then
        run sh -c 'setterm --blank 0 --powersave off >/dev/tty1 </dev/tty1' || warn "setterm failed; blanking is off from the next boot"
    fi
}

start_player() {
    if [ "$START" = no ]; then
        say "not started (--no-start): systemctl start $UNIT, or reboot"
        return 0
    fi
    if ! live; then
        say "systemd is not running here (an image being built?): the player starts at the next boot"
        return 0
    fi
    if [ "$(tty 2>/dev/null || true)" = /dev/tty1 ]; then
        say "not started now: this shell is on tty1, the console the player takes over; reboot to start it"
        return 0
    fi
    say "starting the player"
    [ "$X11" = no ] || run systemctl restart "$X_UNIT"
    # The prompt goes now unless someone is logged in there (then at the next boot).
    who | grep -qw tty1 || run systemctl stop getty@tty1.service
    run systemctl restart "$UNIT"
    run systemctl restart kiosk-update.path kiosk-update.timer
    if [ "$DRY_RUN" = no ]; then
        sleep 3
        systemctl --no-pager --lines=5 status "$UNIT" || warn "the player is not running yet: journalctl -u $UNIT"
    fi
}

main() {
    [ "$DRY_RUN" = no ] || echo "dry run: nothing is changed; each step that would run is printed"
    check_system
    install_packages
    create_user
    copy_code
    make_release
    install_units
    console_settings
    start_player
    say "done: $TARGET, logs with journalctl -u $UNIT"
}

main
