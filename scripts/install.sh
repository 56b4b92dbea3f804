#!/usr/bin/env bash
# Install hwplan and its pinned dependencies into the current Python (3.11+).
# torch==2.13.0 comes from the CPU wheel on this machine image when present.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r requirements.lock
python3 -m pip install --quiet --disable-pip-version-check --no-deps -e .
