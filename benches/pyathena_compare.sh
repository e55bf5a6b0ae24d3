#!/usr/bin/env bash
# One command for the PyAthena side-by-side benchmark (see benches/pyathena_compare.py):
#
#   benches/pyathena_compare.sh [--rows 1000000,10000000] [--profile release|debug] [...]
#
# Runs the script with $ATHENA_BENCH_PYTHON, else the project's venv
# (/root/.cache/datafusion-athena-venv, or $ATHENA_TEST_VENV), else python3; that Python needs
# pyathena, pyarrow and boto3.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${ATHENA_BENCH_PYTHON:-}"
if [ -z "$python" ]; then
  for venv in "${ATHENA_TEST_VENV:-}" "$HOME/.cache/datafusion-athena-venv" "$here/../.venv-test"; do
    if [ -n "$venv" ] && [ -x "$venv/bin/python" ]; then python="$venv/bin/python"; break; fi
  done
fi
exec "${python:-python3}" "$here/pyathena_compare.py" "$@"
