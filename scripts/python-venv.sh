#!/usr/bin/env bash
# python-venv.sh VENV REQUIREMENTS: creates the venv if missing and installs REQUIREMENTS
# (pinned name==version lines) unless every pin is installed already. Quiet when up to date.
# Used by Tests/e2e/setup.sh and Tests/interop/setup.sh.
set -euo pipefail
VENV=$1
REQUIREMENTS=$2
if [ ! -x "$VENV/bin/python" ]; then
    echo "[venv] creating $VENV" >&2
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
fi
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
    echo "[venv] up to date: $VENV" >&2
else
    echo "[venv] pip install -r $REQUIREMENTS" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
fi
