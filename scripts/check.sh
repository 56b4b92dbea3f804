#!/usr/bin/env bash
# Static checks, each at zero findings: ruff (rules in pyproject.toml), mypy on hwplan.core and
# hwplan.costmodel, and the import-linter layer contracts (pyproject.toml [tool.importlinter]).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check --quiet .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache | tail -n 1
