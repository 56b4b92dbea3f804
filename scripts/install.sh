#!/usr/bin/env bash
# Create the project's own virtual environment (.venv) and install hwplan into it from a lock, every hash
# checked; the system Python is never written to. `--dev` installs requirements-dev.lock (profiler, tests,
# linters) instead of requirements.lock (dashboard and CLI). pip installs only uv (its pin and hashes read from
# the lock); uv installs the rest, compiled to bytecode at install time (the first `hwplan` command then does not
# pay for compiling pandas, SQLAlchemy and the rest), and hwplan itself as an editable install.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
lock=requirements.lock
[ "${1:-}" = "--dev" ] && lock=requirements-dev.lock
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv || { echo "python3 -m venv failed: install Python 3.11+ with venv (Debian: apt-get install python3-venv)" >&2; exit 2; }
fi
if [ ! -x .venv/bin/uv ]; then
  # the lock's "uv==..." entry: its line and the --hash lines after it
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
    -r <(awk '/^uv==/{on=1} on&&/^ *#/{exit} on' "$lock")
fi
# shellcheck disable=SC2046
.venv/bin/uv pip install -q --compile-bytecode --python .venv/bin/python --require-hashes --no-deps $( [ "$lock" = requirements-dev.lock ] && torch_source ) -r "$lock"
.venv/bin/uv pip install -q --python .venv/bin/python --no-deps --no-build-isolation -e .
