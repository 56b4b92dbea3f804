#!/usr/bin/env bash
# Everything CI runs: the dev environment in .venv, what the tests need from Debian (chromium, PostgreSQL,
# poppler, fonts) when missing, the static checks (ruff, mypy, import-linter), then the whole test suite.
# Arguments go to pytest (e.g. bash scripts/test.sh -k plan). The tests start and stop their own PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --dev
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || need+=(postgresql)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

bash scripts/check.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n 2 "$@"
