#!/usr/bin/env bash
# Write the two locks from pyproject.toml with a resolver (uv pip compile), with hashes, for CPython 3.11 on
# x86_64 Linux. requirements.lock: what the dashboard and CLI need (core + postgres + pdf extras).
# requirements-dev.lock: everything (+ the profile extra and the dev group). torch resolves to the CPU build
# 2.13.0+cpu, found as scripts/lib.sh says (torch_source). Neither location is written into the lock.
# Run after changing a dependency in pyproject.toml: bash scripts/lock.sh [extra uv options, e.g. --upgrade]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
UV=".venv/bin/uv"
[ -x "$UV" ] || { echo "run bash scripts/install.sh first (it puts uv into .venv)" >&2; exit 2; }
read -r -a torch_src <<< "$(torch_source)"
common=(--generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 --no-emit-find-links
        --custom-compile-command "bash scripts/lock.sh" -q "$@")
"$UV" pip compile pyproject.toml --extra postgres --extra pdf --group build "${common[@]}" -o requirements.lock
"$UV" pip compile pyproject.toml --extra profile --extra postgres --extra pdf --group dev --group build \
  "${torch_src[@]}" "${common[@]}" -o requirements-dev.lock
echo "requirements.lock: $(grep -c '==' requirements.lock) pins; requirements-dev.lock: $(grep -c '==' requirements-dev.lock) pins"
