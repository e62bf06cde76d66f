#!/usr/bin/env bash
# Installs what Tests/e2e/run.sh needs; safe to run again (does nothing when all is there).
#   apt:  chromium, chromium-driver (Debian's; /usr/bin/chromium, /usr/bin/chromedriver), python3-venv
#   venv: ${KINKO_E2E_VENV:-<repo>/.build-e2e/venv} with Tests/e2e/requirements.txt
# Set KINKO_E2E_CJK_FONTS=1 to add fonts-noto-cjk too (only for readable screenshots).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV=${KINKO_E2E_VENV:-$(cd "$HERE/../.." && pwd)/.build-e2e/venv}
REQUIREMENTS="$HERE/requirements.txt"
say() { printf '[e2e setup] %s\n' "$*"; }

packages=(chromium chromium-driver python3-venv)
[ "${KINKO_E2E_CJK_FONTS:-0}" = 1 ] && packages+=(fonts-noto-cjk)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    say "apt packages present: ${packages[*]}"
fi
[ -x /usr/bin/chromedriver ] || { say "no /usr/bin/chromedriver after install" >&2; exit 1; }

if [ ! -x "$VENV/bin/python" ]; then
    say "creating venv $VENV"
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
fi
# Up to date when every pinned requirement is installed at its pinned version.
if "$VENV/bin/python" - "$REQUIREMENTS" <<'PY'
import sys
from importlib import metadata
ok = True
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, _, version = line.partition("==")
    try:
        ok &= metadata.version(name) == version
    except metadata.PackageNotFoundError:
        ok = False
sys.exit(0 if ok else 1)
PY
then
    say "venv up to date: $VENV"
else
    say "pip install -r $REQUIREMENTS"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
fi
say "chromium $(dpkg-query -W -f='${Version}' chromium), chromedriver $(dpkg-query -W -f='${Version}' chromium-driver), $("$VENV/bin/python" -m pip list --disable-pip-version-check 2>/dev/null | grep -iE '^(selenium|schemathesis) ' | tr -s ' ' | paste -sd, -)"
