#!/usr/bin/env bash
# The README's two commands:
#   scripts/dev.sh run    install dependencies, build, run dnsvagt on its built-in defaults
#   scripts/dev.sh test   install dependencies, build, run the whole test suite, then the same
#                         suite built with ASan and UBSan (scripts/sanitize.sh; CI's command)
set -euo pipefail
cd "$(dirname "$0")/.."

build() {
  ./scripts/install-deps.sh
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build build -j "$(nproc)"
}

case "${1:-}" in
  run)
    build
    # The default config drops privileges to this user after binding port 53.
    id dnsvagt >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin dnsvagt
    install -d -o dnsvagt -g dnsvagt /var/lib/dnsvagt /var/lib/dnsvagt/lists
    echo "dnsvagt starts on 127.0.0.1:53 and [::1]:53; query it with: dig @127.0.0.1 example.com"
    exec ./build/resolver/dnsvagt
    ;;
  test)
    build
    (cd build && ctest --output-on-failure --timeout 900 -j "$(nproc)")
    ./scripts/sanitize.sh
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 1
    ;;
esac
