#!/usr/bin/env bash
# Installs what Tests/e2e/run.sh needs; safe to run again (does nothing when all is there).
#   apt:  chromium, chromium-driver (Debian's; /usr/bin/chromium, /usr/bin/chromedriver), python3-venv
#   venv: ${KINKO_E2E_VENV:-<repo>/.build-e2e/venv} with Tests/e2e/requirements.txt, and
#         axe-playwright-python (for the axe-core it ships) without its dependencies
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
# axe-core for the accessibility audit: only the axe.min.js inside this wheel is used, so it is
# installed without its dependencies (Playwright is not needed; Selenium runs the script).
AXE_WHEEL=axe-playwright-python AXE_VERSION=0.1.8
if [ "$("$VENV/bin/python" -c "from importlib import metadata; print(metadata.version('$AXE_WHEEL'))" 2>/dev/null)" != "$AXE_VERSION" ]; then
    say "pip install --no-deps $AXE_WHEEL==$AXE_VERSION (axe-core)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$AXE_WHEEL==$AXE_VERSION"
fi
say "chromium $(dpkg-query -W -f='${Version}' chromium), chromedriver $(dpkg-query -W -f='${Version}' chromium-driver), $("$VENV/bin/python" -m pip list --disable-pip-version-check 2>/dev/null | grep -iE '^(selenium|schemathesis) ' | tr -s ' ' | paste -sd, -)"
