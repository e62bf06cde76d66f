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

"$HERE/../../scripts/python-venv.sh" "$VENV" "$REQUIREMENTS"
say "chromium $(dpkg-query -W -f='${Version}' chromium), chromedriver $(dpkg-query -W -f='${Version}' chromium-driver), $("$VENV/bin/python" -m pip list --disable-pip-version-check 2>/dev/null | grep -iE '^(selenium|schemathesis) ' | tr -s ' ' | paste -sd, -)"
