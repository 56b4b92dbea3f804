#!/usr/bin/env bash
# Static checks, each at zero findings: ruff (rules in pyproject.toml), mypy on hwplan.core and
# hwplan.costmodel, and the import-linter layer contracts (pyproject.toml [tool.importlinter]).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check --quiet .
.venv/bin/mypy
# import-linter: its last line when every contract is kept; its whole report (which contract, which imports) if not
if ! lint="$(.venv/bin/lint-imports --no-cache 2>&1)"; then
  printf '%s\n' "$lint" >&2
  exit 1
fi
printf '%s\n' "$lint" | tail -n 1
