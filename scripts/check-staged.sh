#!/usr/bin/env bash
# Lint, format and type checks on the tracked tree as it stands (what CI runs first).
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.py')
.venv/bin/ruff check $files
.venv/bin/ruff format --check $files
.venv/bin/mypy dispatchmap feeds geo store usecases dashboard
