#!/usr/bin/env bash
# Rewrite requirements.lock from the current environment (after installing or upgrading a dependency).
# torch keeps the plain 2.13.0 pin so pip takes the CPU wheel on this machine image.
set -euo pipefail
cd "$(dirname "$0")/.."
{ echo "# Exact, tested dependency set (pip freeze on Python 3.11, CPU torch from the local wheel)."
  echo "# Regenerate: scripts/lock.sh"
  python3 -m pip freeze --disable-pip-version-check | grep -v -E "^(-e|hwplan|# Editable)" | sed 's/^torch==2.13.0+cpu/torch==2.13.0/'
} > requirements.lock.tmp
mv requirements.lock.tmp requirements.lock
