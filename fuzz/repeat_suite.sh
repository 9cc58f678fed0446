#!/bin/bash
# Run the test suite repeatedly with different hypothesis seeds in a fresh clone.
#
#   fuzz/repeat_suite.sh FIRST_SEED COUNT [REPO]
#
# Clones REPO (default: this checkout) into a temporary folder, installs it as
# `make test` does, runs `make lint typecheck docs` once and then
# `pytest --hypothesis-seed=S` for S = FIRST_SEED .. FIRST_SEED + COUNT - 1, and prints
# one line per run (seed, exit status, seconds). It stops at the first failing run and
# exits with its status. Two such streams with disjoint seeds can run side by side on a
# 2-core machine (each in its own clone).
set -u
first=${1:?first seed}; count=${2:?number of runs}
repo=${3:-$(cd "$(dirname "$0")/.." && pwd)}
dir=$(mktemp -d "${TMPDIR:-/tmp}/softcalc-seeds-XXXXXX")
git clone -q "$repo" "$dir/clone" && cd "$dir/clone" || exit 1
echo "commit $(git rev-parse --short HEAD), clone in $dir/clone"
make .venv/.installed-dev > "$dir/install.log" 2>&1 || { echo "install failed: $dir/install.log"; exit 1; }
make lint typecheck docs > "$dir/make.log" 2>&1 || { echo "make lint typecheck docs failed: $dir/make.log"; exit 1; }
echo "make lint typecheck docs: ok"
for seed in $(seq "$first" $((first + count - 1))); do
  start=$(date +%s)
  .venv/bin/python -m pytest -p no:cacheprovider --hypothesis-seed="$seed" > "$dir/pytest.$seed.log" 2>&1
  rc=$?
  echo "seed $seed: exit $rc, $(( $(date +%s) - start )) s, $(grep -E '[0-9]+ passed' "$dir/pytest.$seed.log" | tail -1)"
  [ $rc -eq 0 ] || { echo "failed: $dir/pytest.$seed.log"; exit $rc; }
done
