#!/usr/bin/env bash
# Create the project's own virtual environment (.venv) and install hwplan into it from the lock, hashes
# checked. Never touches the system Python. `--dev` installs requirements-dev.lock (profiler, tests, linters).
# torch (dev lock only) is the CPU build 2.13.0+cpu: pip finds it where this machine image's pip config
# points; elsewhere run with PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu.
set -euo pipefail
cd "$(dirname "$0")/.."
lock=requirements.lock
[ "${1:-}" = "--dev" ] && lock=requirements-dev.lock
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv || { echo "python3 -m venv failed: install Python 3.11+ with venv (Debian: apt-get install python3-venv)" >&2; exit 2; }
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check)
if ! "${pip[@]}" install -q --require-hashes --no-deps -r "$lock"; then
  echo "installing $lock failed; if pip found no torch==2.13.0+cpu, run with PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu" >&2
  exit 2
fi
"${pip[@]}" install -q --no-deps --no-build-isolation -e .
