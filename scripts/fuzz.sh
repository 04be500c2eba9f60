#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz (docs/benchmarks.md "Fuzzing"):
#   scripts/fuzz.sh [TARGET|all] [RUNS]   build in build-fuzz/ (clang, ASan, UBSan), then run
#                                         each target for RUNS inputs (default 1000000), one
#                                         process at a time
#                                         (FUZZ_MAX_TIME=SECONDS stops a target sooner)
#   scripts/fuzz.sh merge TARGET          minimize the committed corpus plus what runs found
#                                         into tests/fuzz/corpus/TARGET
# A run reads tests/fuzz/corpus/TARGET and tests/fuzz/reproducers/TARGET, adds new inputs to
# build-fuzz/corpus/TARGET and writes crashes, leaks and timeouts to build-fuzz/findings/TARGET/
# (the known ones again too: check a new file against the reproducers).
# Minimize a crash with: build-fuzz/tests/fuzz/TARGET_fuzz -minimize_crash=1 -runs=100000 FILE,
# then commit it as tests/fuzz/reproducers/TARGET/NAME so every ctest run replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(query_answer upstream_answer list_parser config_loader dns_name proxy_header doh_session)

# The longest input worth trying: a UDP query with EDNS; a large upstream answer; a few
# dozen list lines (longer ones ran at a quarter of the speed); the example config, which
# uses every key; a PROXY v2 header with a few TLVs; a few HTTP requests (the default 4096).
max_len() {
  case "$1" in
    query_answer | dns_name | proxy_header) echo 600 ;;
    list_parser) echo 1024 ;;
    config_loader) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

build() {
  cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ -DDNSVAGT_FUZZ=ON -DDNSVAGT_BENCH=OFF >/dev/null
  cmake --build build-fuzz -j "${FUZZ_BUILD_JOBS:-2}" --target "${@/%/_fuzz}"
}

run() {
  local target=$1 runs=$2 log=build-fuzz/findings/$1/last-run.log
  mkdir -p build-fuzz/corpus/"$target" build-fuzz/findings/"$target"
  local before status=0 inputs=(tests/fuzz/corpus/"$target")
  before=$(find build-fuzz/corpus/"$target" -type f | wc -l)
  # libFuzzer stops at a missing directory; most targets have no reproducers.
  [ -d tests/fuzz/reproducers/"$target" ] && inputs+=(tests/fuzz/reproducers/"$target")
  # -fork=1: one worker process at a time (the machine is shared), restarted after a crash,
  # so that a known crash does not end the run before the others are found. ASan's leak
  # check is on in the worker.
  build-fuzz/tests/fuzz/"$target"_fuzz -fork=1 -ignore_crashes=1 -ignore_timeouts=1 \
    -ignore_ooms=1 -runs="$runs" -max_total_time="${FUZZ_MAX_TIME:-0}" \
    -max_len="$(max_len "$target")" -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 \
    -artifact_prefix=build-fuzz/findings/"$target"/ \
    build-fuzz/corpus/"$target" "${inputs[@]}" >"$log" 2>&1 || status=$?
  # The fork mode's last status line: "#RUNS: cov: .. oom/timeout/crash: A/B/C time: Ts ..."
  local last runs_done seconds
  last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1) || true
  runs_done=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
  seconds=$(sed -E 's/.* time: ([0-9]+)s.*/\1/' <<<"$last")
  printf '%-16s runs %-9s in %5ss = %6s/s  oom/timeout/crash %-8s new units %-5s (exit %s, %s)\n' \
    "$target" "${runs_done:-0}" "${seconds:-0}" "$((${runs_done:-0} / (${seconds:-0} + 1)))" \
    "$(sed -E 's/.*crash: ([0-9/]+).*/\1/' <<<"$last")" \
    "$(($(find build-fuzz/corpus/"$target" -type f | wc -l) - before))" "$status" "$log"
}

merge() {
  local target=$1 merged
  merged=$(mktemp -d)
  build-fuzz/tests/fuzz/"$target"_fuzz -merge=1 -timeout=10 -max_len="$(max_len "$target")" "$merged" \
    tests/fuzz/corpus/"$target" build-fuzz/corpus/"$target"
  rm -rf tests/fuzz/corpus/"$target"
  mv "$merged" tests/fuzz/corpus/"$target"
  chmod 755 tests/fuzz/corpus/"$target"
  echo "$target: $(ls tests/fuzz/corpus/"$target" | wc -l) files," \
    "$(du -sh tests/fuzz/corpus/"$target" | cut -f1)"
}

case "${1:-all}" in
  merge)
    build "$2"
    merge "$2"
    ;;
  all)
    build "${targets[@]}"
    for t in "${targets[@]}"; do run "$t" "${2:-1000000}"; done
    ;;
  *)
    build "$1"
    run "$1" "${2:-1000000}"
    ;;
esac
