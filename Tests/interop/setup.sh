#!/usr/bin/env bash
# Installs the interop venv: ${KINKO_INTEROP_VENV:-<repo>/.build-interop/venv} with
# Tests/interop/requirements.txt; safe to run again. Prints the venv's python on the last line.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV=${KINKO_INTEROP_VENV:-$(cd "$HERE/../.." && pwd)/.build-interop/venv}
REQUIREMENTS="$HERE/requirements.txt"
say() { printf '[interop setup] %s\n' "$*" >&2; }

dpkg -s python3-venv >/dev/null 2>&1 || {
    say "apt-get install python3-venv"
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
}
"$HERE/../../scripts/python-venv.sh" "$VENV" "$REQUIREMENTS"
say "$("$VENV/bin/python" -m pip list --disable-pip-version-check 2>/dev/null | grep -i '^embit ' | tr -s ' ')"
echo "$VENV/bin/python"
