#!/usr/bin/env bash
# The whole test suite: installs picdup with its test extras, then lint, types and every test.
# Arguments are passed to pytest (e.g. scripts/test.sh -k scan -x).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
python3 -m ruff check src tests bench
python3 -m ruff format --check src tests bench
python3 -m mypy
python3 -m pytest "$@"
