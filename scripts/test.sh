#!/usr/bin/env bash
# The whole test suite: installs picdup with its test extras, then lint, types and every test.
# Arguments are passed to pytest (e.g. scripts/test.sh -k scan -x).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
# The review page's browser tests drive Debian's chromium through playwright (never a
# downloaded browser); install it on a clean CI machine when we may.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
python3 -m ruff check src tests bench
python3 -m ruff format --check src tests bench
python3 -m mypy
python3 -m pytest "$@"
