#!/usr/bin/env bash
# Interop check of the emulator with clients no one here wrote: boto3 (Athena, Glue, S3) and
# PyAthena (default cursor over GetQueryResults, Arrow cursor over the S3 CSV).
#
# Usage: tests/emulator_interop/run.sh [PYTHON]
#   PYTHON defaults to $ATHENA_TEST_PYTHON, then python3; it needs boto3, pyathena, pyarrow.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${1:-${ATHENA_TEST_PYTHON:-python3}}"
: "${CARGO_TARGET_DIR:=$root/target}"
export CARGO_TARGET_DIR

cargo build --quiet -p datafusion-athena-cli
server="$CARGO_TARGET_DIR/debug/datafusion-athena"

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/data/lake/cities"
printf 'city,population\nOslo,700000\nBergen,290000\nTromso,77000\n' > "$work/data/lake/cities/cities.csv"

"$server" emulator --data "$work/data" --database lake > "$work/stdout" 2> "$work/stderr" &
pid=$!
for _ in $(seq 1 100); do
  if [ -s "$work/stdout" ]; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$work/stderr" >&2; exit 1; fi
  sleep 0.1
done
conn="$(head -n 1 "$work/stdout")"
if [ -z "$conn" ]; then echo "the emulator printed no connection string" >&2; cat "$work/stderr" >&2; exit 1; fi

EMULATOR_CONNECTION_STRING="$conn" "$python" "$here/test_interop.py"
