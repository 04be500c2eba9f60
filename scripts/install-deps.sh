#!/usr/bin/env bash
# Installs every Debian 12 package dnsvagt needs to build, run, test and benchmark.
# Idempotent and non-interactive; run as root.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
  libunbound-dev libevent-dev libldns-dev libssl-dev libyaml-cpp-dev
  prometheus-cpp-dev libcurl4-openssl-dev libsystemd-dev libidn2-dev
  libnghttp2-dev libhttp-parser-dev   # DNS over HTTPS: HTTP/2 and HTTP/1.1
  libgtest-dev libgmock-dev libbenchmark-dev
  # fuzzing (scripts/fuzz.sh): clang's libFuzzer and sanitizer runtimes
  clang libclang-rt-14-dev
  # test-time servers and clients
  nsd unbound ldnsutils dnsutils knot-dnsutils dnsperf prometheus python3 python3-yaml openssl
  dnsdist   # the load balancer in front of two dnsvagt (PROXY protocol v2)
  curl procps iproute2 valgrind
  strace    # bench/e2e/handshake_costs.py --tool strace
  systemd   # systemd-analyze verify/security in the packaging tests (nothing is started)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The daemons are test peers, started by the tests on loopback ports; keep Debian from
  # starting its own copies on port 53.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
