#!/usr/bin/python3
# DNS over TLS for clients (issue 11): dnsvagt's listener against the Unbound daemon's, both
# validating forwarders to the signed world's NSD with a certificate of a test CA, in one run.
"""dnsvagt vs Unbound over DNS over TLS: queries, handshakes, idle connections.

    dot.py --dnsvagt PATH [--duration 8] [--rounds 3] [--handshakes 1000] [--idle 10000]
           [--out FILE]

Phases, each server in turn (alternating round by round where there are rounds):
  queries     cache hits over kept-alive TLS connections: dnsperf -m dot -c CLIENTS
              -q OUTSTANDING for DURATION s; QPS and server CPU per query
  handshakes  HANDSHAKES full TLS handshakes (no resumption), one connection at a time, each
              with one query; server CPU per handshake (capacity: 1 / that per core)
  idle        IDLE TLS connections opened, handshaken and left idle; the server's VmRSS
              growth per connection
Servers pinned to --server-cpus, dnsperf, the Python clients and the NSD to --client-cpus.
Both servers: 1 thread, TCP limits and idle timeouts raised so that the idle connections stay.
"""

import copy
import os
import socket
import ssl
import sys
import time

import benchlib
from benchlib import fmt

sys.path.insert(0, os.path.join(benchlib.HERE, "..", "..", "tests", "integration"))
import pki  # noqa: E402
import wire  # noqa: E402

TLS_NAME = "dot.bench.test"


def parse_args(argv):
    parser = benchlib.bench_parser(__doc__, dnsvagt_required=True)
    parser.add_argument("--duration", type=float, default=8, help="seconds per dnsperf run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--handshakes", type=int, default=1000)
    parser.add_argument("--idle", type=int, default=10000, help="idle connections")
    return benchlib.parse_bench_args(parser, argv, "dnsperf, the Python clients and the NSD")


class Bench(benchlib.Session):
    def run(self):
        args = self.args
        self.world = benchlib.BenchWorld(os.path.join(self.directory, "world"), args.hit_names)
        self.world.start()
        benchlib.pin(self.world.pids(), args.client_cpus)
        os.sched_setaffinity(0, {int(cpu) for cpu in args.client_cpus.split(",")})
        pki_dir = os.path.join(self.directory, "pki")
        os.makedirs(pki_dir)
        ca = pki.make_ca(pki_dir, "bench-ca")
        self.ca_file = ca[0]
        key, cert = pki.make_certificate(pki_dir, ca, TLS_NAME)
        self.queries = os.path.join(self.directory, "hit.txt")
        benchlib.write_queries(self.queries, benchlib.hit_queries(self.world))
        connections = args.idle + 1000
        dnsvagt_dot_port = benchlib.world.free_port()
        overrides = {"server": {
            "tls": {"listen": ["%s:%d" % (benchlib.LOOPBACK, dnsvagt_dot_port)],
                    "certificate": cert, "key": key},
            "max_tcp_connections": connections,
            "max_tcp_connections_per_client": connections,
            "tcp_idle_timeout": "600s"}}

        # Unbound serves TLS on its one port's TCP (UDP stays plain, for the warm-up): Unbound
        # asks for incoming-num-tcp descriptors per interface, and this machine allows 20000.
        # When fewer than half its TCP slots are free it cuts the idle timeout to 1%.
        def unbound_extra(port):
            return ["tls-port: %d" % port, 'tls-service-key: "%s"' % key,
                    'tls-service-pem: "%s"' % cert, "incoming-num-tcp: %d" % connections,
                    "outgoing-range: 512", "tcp-idle-timeout: 100000000"]

        self.servers = []
        for kind in ("dnsvagt", "unbound"):
            server = benchlib.start_server(self.processes, self.world, self.directory, kind,
                                           kind, args.server_cpus, 1, dnsvagt_bin=args.dnsvagt,
                                           config_overrides=overrides,
                                           unbound_extra=unbound_extra)
            server.dot = copy.copy(server)
            if kind == "dnsvagt":
                server.dot.port = dnsvagt_dot_port
            benchlib.warm(server, self.queries,
                          os.path.join(self.directory, kind + "-warm.log"), args.client_cpus)
            self.servers.append(server)
        self.queries_phase()
        self.handshakes_phase()
        self.idle_phase()

    def queries_phase(self):
        args = self.args
        self.query_runs = {server.name: [] for server in self.servers}
        for round_number in range(args.rounds):
            order = self.servers if round_number % 2 == 0 else list(reversed(self.servers))
            for server in order:
                log = os.path.join(self.directory, "%s-dot-%d.log" % (server.name, round_number))
                run = benchlib.run_dnsperf(server.dot, self.queries, log, args.client_cpus,
                                           seconds=args.duration, clients=args.clients,
                                           outstanding=args.outstanding, timeout=2, mode="dot")
                if run["completed"] == 0:
                    self.problems.append("%s answered no DoT query" % server.name)
                self.query_runs[server.name].append(run)

    def context(self):
        context = ssl.create_default_context(cafile=self.ca_file)
        context.set_alpn_protocols(["dot"])
        return context

    def connect(self, server, context):
        raw = socket.create_connection((benchlib.LOOPBACK, server.dot.port), timeout=10)
        return context.wrap_socket(raw, server_hostname=TLS_NAME)

    def handshakes_phase(self):
        self.handshake_cpu = {}
        query = wire.frame(wire.query(0x4444, "www.secure.%s." % benchlib.world.PARENT))
        for server in self.servers:
            context = self.context()  # no session is offered again: every handshake is full
            before = benchlib.cpu_seconds(server.pid)
            for _ in range(self.args.handshakes):
                with self.connect(server, context) as sock:
                    sock.sendall(query)
                    wire.tcp_read_message(sock)
            self.handshake_cpu[server.name] = (benchlib.cpu_seconds(server.pid) - before) \
                / self.args.handshakes

    def idle_phase(self):
        self.idle = {}
        for server in self.servers:
            context = self.context()
            time.sleep(1)
            before = benchlib.memory_kib(server.pid)[0]
            held = []
            try:
                for _ in range(self.args.idle):
                    held.append(self.connect(server, context))
                time.sleep(2)
                after = benchlib.memory_kib(server.pid)[0]
                alive = sum(1 for sock in held if still_open(sock))
            finally:
                for sock in held:
                    sock.close()
            if alive < len(held):
                self.problems.append("%s closed %d of %d idle connections"
                                     % (server.name, len(held) - alive, len(held)))
            self.idle[server.name] = (before, after, alive)


def still_open(sock):
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except (ssl.SSLWantReadError, BlockingIOError):
        return True
    except (OSError, ssl.SSLError):
        return False


def report(bench, info):
    args = bench.args
    names = [server.name for server in bench.servers]
    rows = []
    summary = {}
    for name in names:
        runs = bench.query_runs[name]
        qps = benchlib.median([run["qps"] for run in runs])
        cpu = benchlib.median([run["server_cpu_s"] * 1e6 / max(run["completed"], 1)
                               for run in runs])
        share = benchlib.median([run["client_share"] for run in runs])
        handshake_us = bench.handshake_cpu[name] * 1e6
        before, after, alive = bench.idle[name]
        per_connection = (after - before) / max(alive, 1)
        summary[name] = (qps, cpu, handshake_us, per_connection)
        rows.append([name, fmt(qps, 0), fmt(cpu, 2), fmt(share * 100, 0),
                     "%.0f" % handshake_us, "%.0f" % (1e6 / handshake_us),
                     "%d" % alive, "%.1f" % per_connection])
    text = ("DNS over TLS, 1 server thread; queries: dnsperf -m dot -c %d -q %d, %d rounds of "
            "%g s (medians); handshakes: %d full TLS handshakes; idle: %d connections\n\n"
            % (args.clients, args.outstanding, args.rounds, args.duration, args.handshakes,
               args.idle))
    text += benchlib.markdown_table(
        ["server", "QPS", "server CPU µs/query", "dnsperf CPU %", "server CPU µs/handshake",
         "handshakes/s per core", "idle connections held", "VmRSS KiB per idle connection"],
        rows)
    d, u = summary["dnsvagt"], summary["unbound"]
    text += ("\n\ndnsvagt / Unbound: QPS %.2f, CPU per query %.2f, CPU per handshake %.2f, "
             "memory per idle connection %.2f\n" % (d[0] / u[0], d[1] / u[1], d[2] / u[2],
                                                   d[3] / u[3] if u[3] else float("nan")))
    text += "\n" + "".join("- %s: %s\n" % item for item in info.items())
    if bench.problems:
        text += "\nProblems:\n" + "".join("- %s\n" % p for p in bench.problems)
    return text


def main(argv):
    args = parse_args(argv)
    return benchlib.run_bench(args, Bench, "dnsvagt-dot-", report)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
