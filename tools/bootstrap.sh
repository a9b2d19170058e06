# Sourced by ./demo and ./test: makes sure this machine has what the player needs, then .venv.
# Needs only python3 on Debian (or Raspberry Pi OS); installs the Debian packages it lacks when it may.

DEBIAN_PACKAGES="fonts-noto-core fonts-noto-cjk"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

need_python() {
    if ! command -v python3 >/dev/null; then
        echo "python3 is not installed: apt-get install python3 (3.11 or newer)" >&2; exit 1
    fi
    if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "python3 is $(python3 -V 2>&1); the player needs 3.11 or newer (Debian 12 or later)" >&2; exit 1
    fi
    # Debian splits venv and ensurepip out of python3.
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        DEBIAN_PACKAGES="$DEBIAN_PACKAGES python3-venv"
    fi
}

need_debian_packages() {
    local missing=""
    for pkg in $DEBIAN_PACKAGES; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
    done
    [ -z "$missing" ] && return 0
    if ! command -v apt-get >/dev/null; then
        echo "missing:$missing. This is not a Debian system; install the Noto fonts (Noto Sans, Noto Sans Khmer, Noto Sans CJK) by hand." >&2
        exit 1
    fi
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"
        else
            echo "missing Debian packages:$missing" >&2
            echo "this user may not install them; ask an administrator to run: sudo apt-get install$missing" >&2
            exit 1
        fi
    fi
    echo "installing Debian packages:$missing"
    $sudo apt-get update -q >/dev/null || { echo "apt-get update failed (no network to the Debian mirror?)" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing >/dev/null \
        || { echo "apt-get install$missing failed" >&2; exit 1; }
}

# For what only some commands need (./test: PostgreSQL for the server's tests on that engine): installed when this
# user may, else one line says what is missing and the caller goes on without it.
want_debian_packages() {
    local missing="" sudo=""
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
    done
    [ -z "$missing" ] && return 0
    if ! command -v apt-get >/dev/null; then
        echo "not installed:$missing (not a Debian system); the tests that need it are skipped" >&2; return 0
    fi
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"
        else
            echo "not installed:$missing, and this user may not install it (sudo apt-get install$missing); the tests that need it are skipped" >&2
            return 0
        fi
    fi
    echo "installing Debian packages:$missing"
    { $sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing >/dev/null; } \
        || echo "apt-get install$missing failed; the tests that need it are skipped" >&2
}

need_venv() {
    local venv="$here/.venv" stamp="$here/.venv/.installed"
    if [ ! -x "$venv/bin/python" ]; then
        echo "creating $venv"
        python3 -m venv "$venv" || { echo "python3 -m venv failed" >&2; exit 1; }
    fi
    if [ ! -f "$stamp" ] || [ "$here/pyproject.toml" -nt "$stamp" ]; then
        echo "installing Python packages into .venv (pip)"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$here[test,server]" \
            || { echo "pip install failed; see the messages above" >&2; exit 1; }
        touch "$stamp"
    fi
}

need_python
need_debian_packages
need_venv
export PYGAME_HIDE_SUPPORT_PROMPT=1
