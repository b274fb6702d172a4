#!/usr/bin/env bash
# Refresh the locks: requirements/lock.txt, the exact versions and hashes of every runtime, test
# and lint dependency that CI and the README's setup install; requirements/runtime.txt, the
# runtime ones alone, which the Dockerfile and the GitHub Action install. pyproject.toml keeps ranges for library
# users; this lock is what we test. Run it on purpose (a new dependency, a wanted upgrade), then
# run the suite and commit the lock with the reason.
#   bash scripts/lock.sh             # resolve the newest versions the ranges allow
#   bash scripts/lock.sh --upgrade-package pyyaml   # move one package only
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools/venv"
"$tools/venv/bin/python" -m pip install --quiet 'pip-tools>=7.4'
CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh" "$tools/venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
  --extra test --extra lint --no-emit-index-url --no-emit-find-links \
  --output-file requirements/lock.txt "$@" pyproject.toml
CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh" "$tools/venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
  --no-emit-index-url --no-emit-find-links \
  --output-file requirements/runtime.txt "$@" pyproject.toml
echo "requirements/lock.txt and requirements/runtime.txt refreshed; now run: bash .ci/run" >&2
