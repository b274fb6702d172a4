#!/usr/bin/env bash
# Run the suite against the newest versions pyproject.toml's ranges allow (not the lock), the
# way a library user who installs kserve-cmp today gets it. No scheduled job runs this: run it
# before refreshing the lock (scripts/lock.sh) and say in the commit what broke, if anything.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet --upgrade --upgrade-strategy eager '.[test,lint]'
"$venv/bin/python" -m pip freeze --exclude kserve-cmp | sed 's/^/newest: /'
"$venv/bin/python" -m pytest "$@"
