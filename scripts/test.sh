#!/usr/bin/env bash
# Install everything the tests need (Python packages, Debian's chromium, PostgreSQL 15 if missing)
# and run the whole suite. The tests start and stop their own PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
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
exec python3 -m pytest -q -p no:cacheprovider "$@"
