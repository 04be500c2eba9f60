#!/usr/bin/env bash
# Builds and tests every commit of a range, oldest first, in a worktree of its own (the
# checkout you work in is not touched), to show a series of commits keeps the suite green.
#   scripts/each-commit.sh RANGE [CTEST ARGS...]
#   scripts/each-commit.sh ee5c94e^..13c4baa            the whole suite at each commit
#   scripts/each-commit.sh ee5c94e^..13c4baa -L unit    the unit tests only
# One line per commit goes to stdout and to each-commit.log in the worktree's parent:
# "<commit> build ok|FAILED tests <passed>/<total>|FAILED". Exits 1 if any commit failed.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ]; then
  echo "usage: $0 RANGE [CTEST ARGS...]" >&2
  exit 2
fi
range=$1
shift

work=${EACH_COMMIT_DIR:-/tmp/dnsvagt-each-commit}
mkdir -p "$work"
log=$work/each-commit.log
tree=$work/tree
if [ ! -d "$tree" ]; then
  git worktree add --detach "$tree" HEAD >/dev/null || exit 2
fi
# The tests read the shared feeds beside the checkout (../shared/data/feeds).
if [ -d ../shared ]; then ln -sfn "$(cd ../shared && pwd)" "$work/shared"; fi

failed=0
for commit in $(git rev-list --reverse "$range"); do
  short=$(git rev-parse --short "$commit")
  git -C "$tree" checkout --quiet --detach "$commit" || exit 2
  # One build directory for the whole range: each commit rebuilds only what it changed.
  if ! { cmake -S "$tree" -B "$tree/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
         cmake --build "$tree/build" -j "$(nproc)"; } >"$work/$short.build.log" 2>&1; then
    echo "$short build FAILED ($work/$short.build.log)" | tee -a "$log"
    failed=1
    continue
  fi
  (cd "$tree/build" && ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@") >"$work/$short.test.log" 2>&1
  status=$?
  summary=$(grep -Eo '[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' \
            "$work/$short.test.log" | tail -1)
  if [ $status -eq 0 ]; then
    echo "$short build ok tests ok: $summary" | tee -a "$log"
  else
    echo "$short build ok tests FAILED: $summary ($work/$short.test.log)" | tee -a "$log"
    failed=1
  fi
done
exit $failed
