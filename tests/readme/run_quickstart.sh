#!/usr/bin/env bash
# Runs one of the README's quick starts exactly as written -- the first ```sh block after the
# heading "## Quick start (<WHICH>" -- from the repository root, and checks that the change the
# block makes shows up in its `sluicectl tail` output.
#
#   tests/readme/run_quickstart.sh MySQL      # or Postgres
#
# The block uses fixed /tmp/sluice-* paths and ports; they are cleared first. Needs the build in
# ./build (deploy/setup.sh). Exit 0 when the tail printed the updated row.
set -euo pipefail
cd "$(dirname "$0")/../.."
which="${1:?usage: run_quickstart.sh MySQL|Postgres}"
block=$(awk -v h="## Quick start ($which" 'index($0, h) == 1 {f = 1; next}
  f && /^```sh/ {p = 1; next} p && /^```/ {exit} p' README.md)
if [ -z "$block" ]; then
  echo "run_quickstart: README.md has no \"## Quick start ($which\" section with a sh block" >&2
  exit 1
fi
for d in $(grep -o '/tmp/sluice-[A-Za-z0-9_-]*' <<<"$block" | sort -u); do
  tests/testdb/testdb.sh stop "$d" >/dev/null 2>&1 || true
  rm -rf "$d"
done
echo "---- running the README's $which quick start:"
echo "$block"
echo "----"
set +e
out=$(bash -eo pipefail -c "$block" 2>&1)
rc=$?
set -e
echo "$out"
if [ $rc -ne 0 ]; then
  echo "run_quickstart: the $which quick start failed with exit code $rc" >&2
  exit 1
fi
if ! grep -q 'changed' <<<"$out"; then
  echo "run_quickstart: the update made in the $which quick start never showed up in tail" >&2
  exit 1
fi
echo "run_quickstart: the $which quick start works as written"
