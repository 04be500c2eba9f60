# The benchmark of a TLS listener for clients against the Unbound daemon's, shared by dot.py
# (DNS over TLS) and doh.py (DNS over HTTPS): both servers validating forwarders to the signed
# world's NSD with a certificate of a test CA, measured in one run.
"""Phases, each server in turn (alternating round by round where there are rounds):
  queries     cache hits over kept-alive TLS connections: dnsperf -m TRANSPORT -c CLIENTS
              -q OUTSTANDING for DURATION s; QPS and server CPU per query
  handshakes  HANDSHAKES full TLS handshakes (no resumption) a round, one connection at a
              time, each with one query; server CPU per handshake, the median of the rounds
              (capacity: 1 / that per core)
  idle        IDLE TLS connections opened and left idle (what a transport's client does on a
              new connection first, see its script); the server's VmRSS growth per connection
Servers pinned to --server-cpus, dnsperf, the Python clients and the NSD to --client-cpus.
Both servers: 1 thread, TCP limits and idle timeouts raised so that the idle connections stay.
Without --dnsvagt only Unbound is measured (to check the bench itself).
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
import doh_client  # noqa: E402
import pki  # noqa: E402

TLS_NAME = "tls.bench.test"
PROBE = "www.secure.%s." % benchlib.world.PARENT


class Transport:
    """What a transport's script says: its name for dnsperf -m, the ALPN its clients offer,
    its listener in dnsvagt's server.tls and Unbound's config, and what a client does on a new
    connection for the handshakes and idle phases."""

    name = None          # dnsperf -m
    title = None         # for the report
    alpn = ()

    def add_arguments(self, parser):
        pass

    def dnsvagt_listener(self, address):
        """server.tls keys (besides certificate and key) that serve on `address`."""
        raise NotImplementedError

    def unbound_lines(self, port):
        """Unbound server: lines that serve this transport on `port`'s TCP."""
        raise NotImplementedError

    def dnsperf_options(self, args, port):
        return []

    def load_text(self, args):
        """How the report describes the queries phase's load."""
        return "dnsperf -m %s -c %d -q %d" % (self.name, args.clients, args.outstanding)

    def exchange(self, sock, args):
        """One query on a new connection (handshakes phase); raises if it is not answered."""
        raise NotImplementedError

    def open_idle(self, sock, args):
        """What a new connection of the idle phase does after the handshake."""


def parse_args(argv, doc, transport, more_arguments=None):
    """The command line of a script measuring `transport`; more_arguments(parser), if given,
    adds that script's own options."""
    parser = benchlib.bench_parser(doc, dnsvagt_required=False)
    benchlib.add_rounds_arguments(parser, duration=8)
    parser.add_argument("--handshakes", type=int, default=1000)
    parser.add_argument("--idle", type=int, default=10000, help="idle connections")
    transport.add_arguments(parser)
    if more_arguments:
        more_arguments(parser)
    return benchlib.parse_bench_args(parser, argv, "dnsperf, the Python clients and the NSD")


class Bench(benchlib.Session):
    transport = None  # set by main()

    def run(self):
        args = self.args
        transport = self.transport
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
        dnsvagt_tls_port = benchlib.world.free_port()
        tls = transport.dnsvagt_listener("%s:%d" % (benchlib.LOOPBACK, dnsvagt_tls_port))
        tls.update(certificate=cert, key=key)
        overrides = {"server": {
            "tls": tls, "max_tcp_connections": connections,
            "max_tcp_connections_per_client": connections, "tcp_idle_timeout": "600s"}}

        # Unbound serves the transport on its one port's TCP (UDP stays plain, for the
        # warm-up): Unbound asks for incoming-num-tcp descriptors per interface, and this
        # machine allows 20000. When fewer than half its TCP slots are free it cuts the idle
        # timeout to 1%.
        def unbound_extra(port):
            return transport.unbound_lines(port) + [
                'tls-service-key: "%s"' % key, 'tls-service-pem: "%s"' % cert,
                "incoming-num-tcp: %d" % connections, "outgoing-range: 512",
                "tcp-idle-timeout: 100000000"]

        self.servers = []
        for kind in ("dnsvagt", "unbound") if args.dnsvagt else ("unbound",):
            wrapper = self.server_wrapper(kind)
            server = benchlib.start_server(self.processes, self.world, self.directory, kind,
                                           kind, args.server_cpus, 1, dnsvagt_bin=args.dnsvagt,
                                           config_overrides=overrides,
                                           unbound_extra=unbound_extra, wrapper=wrapper,
                                           ready_timeout=180.0 if wrapper else 60.0)
            server.tls = copy.copy(server)
            if kind == "dnsvagt":
                server.tls.port = dnsvagt_tls_port
            benchlib.warm(server, self.queries,
                          os.path.join(self.directory, kind + "-warm.log"), args.client_cpus)
            self.servers.append(server)
        self.measure()

    def server_wrapper(self, kind):
        """The command a server runs under (valgrind, strace), or () for none."""
        return ()

    def measure(self):
        self.queries_phase()
        self.handshakes_phase()
        self.idle_phase()

    def queries_phase(self):
        args = self.args
        self.query_runs = {server.name: [] for server in self.servers}
        for round_number in range(args.rounds):
            order = self.servers if round_number % 2 == 0 else list(reversed(self.servers))
            for server in order:
                log = os.path.join(self.directory, "%s-%s-%d.log"
                                   % (server.name, self.transport.name, round_number))
                run = benchlib.run_dnsperf(
                    server.tls, self.queries, log, args.client_cpus, seconds=args.duration,
                    clients=args.clients, outstanding=args.outstanding, timeout=2,
                    mode=self.transport.name,
                    options=self.transport.dnsperf_options(args, server.tls.port))
                if run["completed"] == 0:
                    self.problems.append("%s answered no %s query"
                                         % (server.name, self.transport.name))
                self.query_runs[server.name].append(run)

    def context(self):
        context = ssl.create_default_context(cafile=self.ca_file)
        context.set_alpn_protocols(list(self.transport.alpn))
        return context

    def connect(self, server, context):
        raw = socket.create_connection((benchlib.LOOPBACK, server.tls.port), timeout=10)
        return context.wrap_socket(raw, server_hostname=TLS_NAME)

    def handshakes_phase(self):
        """HANDSHAKES handshakes per server in each round, servers alternating as in the
        queries phase: a handshake costs about a millisecond, so one pass is short enough for
        the machine's other work to tilt it."""
        self.handshake_cpu = {server.name: [] for server in self.servers}
        for round_number in range(self.args.rounds):
            order = self.servers if round_number % 2 == 0 else list(reversed(self.servers))
            for server in order:
                before = benchlib.cpu_seconds(server.pid)
                self.handshakes(server, self.args.handshakes)
                self.handshake_cpu[server.name].append(
                    (benchlib.cpu_seconds(server.pid) - before) / self.args.handshakes)

    def handshakes(self, server, count):
        """`count` full handshakes with `server`, one connection at a time, each with the
        transport's one exchange."""
        context = self.context()  # no session is offered again: every handshake is full
        for _ in range(count):
            with self.connect(server, context) as sock:
                self.transport.exchange(sock, self.args)

    def idle_phase(self):
        self.idle = {}
        for server in self.servers:
            context = self.context()
            time.sleep(1)
            before = benchlib.memory_kib(server.pid)[0]
            held = []
            try:
                for _ in range(self.args.idle):
                    sock = self.connect(server, context)
                    held.append(sock)
                    self.transport.open_idle(sock, self.args)
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
    """Whether the server has not closed `sock` (what it sent meanwhile is read)."""
    sock.setblocking(False)
    return not doh_client.closed(sock.recv)


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
        handshake_us = benchlib.median(bench.handshake_cpu[name]) * 1e6
        before, after, alive = bench.idle[name]
        per_connection = (after - before) / max(alive, 1)
        summary[name] = (qps, cpu, handshake_us, per_connection)
        rows.append([name, fmt(qps, 0), fmt(cpu, 2), fmt(share * 100, 0),
                     "%.0f" % handshake_us,
                     "%.0f" % (1e6 / handshake_us) if handshake_us else "n/a",
                     "%d" % alive, "%.1f" % per_connection])
    text = ("%s, 1 server thread; queries: %s, %d rounds of %g s (medians); handshakes: %d "
            "full TLS handshakes a round (medians); idle: %d connections\n\n"
            % (bench.transport.title, bench.transport.load_text(args), args.rounds,
               args.duration, args.handshakes, args.idle))
    text += benchlib.markdown_table(
        ["server", "QPS", "server CPU µs/query", "dnsperf CPU %", "server CPU µs/handshake",
         "handshakes/s per core", "idle connections held", "VmRSS KiB per idle connection"],
        rows)
    if "dnsvagt" in summary and "unbound" in summary:
        d, u = summary["dnsvagt"], summary["unbound"]
        text += ("\n\ndnsvagt / Unbound: QPS %.2f, CPU per query %.2f, CPU per handshake %.2f, "
                 "memory per idle connection %.2f\n"
                 % (d[0] / u[0], d[1] / u[1], d[2] / u[2] if u[2] else float("nan"),
                    d[3] / u[3] if u[3] else float("nan")))
    else:
        text += "\n\nUnbound only (no --dnsvagt)\n"
    text += "\nServer CPU µs per handshake, round by round:\n" + "".join(
        "- %s: %s\n" % (name, ", ".join("%.0f" % (cpu * 1e6) for cpu in bench.handshake_cpu[name]))
        for name in names)
    text += "\n" + "".join("- %s: %s\n" % item for item in info.items())
    if bench.problems:
        text += "\nProblems:\n" + "".join("- %s\n" % p for p in bench.problems)
    return text


def main(argv, doc, transport):
    args = parse_args(argv, doc + "\n" + __doc__, transport)
    bench = type("Bench", (Bench,), {"transport": transport})
    return benchlib.run_bench(args, bench, "dnsvagt-%s-" % transport.name, report)
