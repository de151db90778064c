#!/bin/sh
# What `make` needs from the system that pip cannot install, checked before anything runs.
#
#   scripts/system-deps.sh [venv] [make] [redis] [chromium]...
#
# Each argument names a need: `venv` (Python's venv module with pip, Debian's python3-venv),
# `make`, `redis` (redis-server and redis-cli, started by the tests themselves) and
# `chromium` (Debian's Chromium at $CHROMIUM, default /usr/bin/chromium, which the
# end-to-end test drives through Playwright; Playwright's own browser download is never used).
# Nothing missing: silent, exit 0. Something missing: installed with apt-get when this
# user may (root, or passwordless sudo), else one line saying what to install, exit 1.
set -eu

PYTHON=${PYTHON:-python3}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

# The Debian packages for the needs given as arguments that this machine lacks.
missing() {
    for need in "$@"; do
        case $need in
            venv) has_venv || echo python3-venv ;;
            make) command -v make >/dev/null 2>&1 || echo make ;;
            redis)
                command -v redis-server >/dev/null 2>&1 || echo redis-server
                command -v redis-cli >/dev/null 2>&1 || echo redis-tools
                ;;
            chromium) [ -x "$CHROMIUM" ] || echo chromium ;;
        esac
    done
}

# Whether $PYTHON can make a virtualenv with pip in it (Debian ships that part apart).
has_venv() {
    command -v "$PYTHON" >/dev/null 2>&1 || return 1
    probe=$(mktemp -d)
    if "$PYTHON" -m venv "$probe/venv" >/dev/null 2>&1; then status=0; else status=1; fi
    rm -rf "$probe"
    return $status
}

for need in "$@"; do
    case $need in
        venv | make | redis | chromium) ;;
        *)
            echo "system-deps.sh: unknown need '$need' (known: venv, make, redis, chromium)" >&2
            exit 2
            ;;
    esac
done

packages=$(missing "$@" | tr '\n' ' ' | sed 's/ *$//')
[ -n "$packages" ] || exit 0

if [ "$(id -u)" = 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    as_root="sudo -n"
else
    echo "Missing system packages: $packages. Install them first (sudo apt-get install $packages), or run this as root." >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "Missing system packages: $packages (Debian names). Install them with this system's package manager." >&2
    exit 1
fi

echo "Installing missing system packages with apt-get (a minute or two): $packages" >&2
# apt-get's chatter goes to a log, shown only when it fails.
log=$(mktemp)
# shellcheck disable=SC2086 # word splitting wanted: "sudo -n" and the package list
if ! { $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages; } </dev/null >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -f "$log"
    echo "apt-get could not install: $packages (its last lines are above). Install them by hand." >&2
    exit 1
fi
rm -f "$log"

still=$(missing "$@" | tr '\n' ' ' | sed 's/ *$//')
if [ -n "$still" ]; then
    echo "Still missing after apt-get install: $still. Install them by hand." >&2
    exit 1
fi
