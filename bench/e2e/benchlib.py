# Shared parts of the end-to-end benchmarks: the integration tests' signed world plus bench
# zones, dnsvagt and Unbound configured alike, dnsperf runs with CPU accounting from /proc.
"""Building blocks for run.py (dnsvagt vs Unbound) and blocklist.py (1M-entry lists).

Everything listens on 127.0.0.1 only. Every process is started through `Processes`, whose
stop_all() (called from a finally block by the scripts) kills what is still running.
"""

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import struct
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))

import world  # noqa: E402  (the integration tests' signed world: NSD + zones + trust anchor)

LOOPBACK = world.LOOPBACK
BENCH_ZONE = "bench.test"            # signed, own trust anchor, names for the cache-hit load
PLAIN_ZONE = "plain.bench.test"      # unsigned child without DS: provably insecure
# canary.bench.test. exists and is never in a load: blocklist.py blocks it to see when a list
# is active.
CANARY_LABEL = "canary"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- the world: the integration world plus two bench zones in the same NSD

class BenchWorld(world.World):
    """world.World with bench.test. (signed, second trust anchor) and plain.bench.test.
    (unsigned, no DS) added to the same NSD: `hit_names` names with A, AAAA and TXT in each,
    canary.bench.test. A, and a wildcard *.w.plain.bench.test. for insecure cache misses (the
    world has *.wild.world.test. for secure ones)."""

    def __init__(self, directory, hit_names=100):
        super().__init__(directory)
        self.hit_names = hit_names
        self.bench_anchor = None

    def build_zones(self):
        super().build_zones()
        bench = world.Zone(BENCH_ZONE)
        plain = world.Zone(PLAIN_ZONE)
        bench.add("plain NS ns.plain", "ns.plain A %s" % LOOPBACK)
        for zone, net in ((bench, 100), (plain, 101)):
            for i in range(self.hit_names):
                zone.add("h%d A 198.51.%d.%d" % (i, net, i % 250 + 1),
                         "h%d AAAA 2001:db8:%d::%x" % (i, net, i + 1),
                         'h%d TXT "bench %d"' % (i, i))
        plain.add("*.w A 198.51.101.251")
        bench.add("%s A 198.51.100.254" % CANARY_LABEL)
        key = self.keygen(BENCH_ZONE)
        self.zone_files[BENCH_ZONE] = self.sign(bench, [key])
        self.bench_anchor = self.ds_of(key)
        self.zone_files[PLAIN_ZONE] = self.write_unsigned(plain)

    def anchors(self):
        return [self.trust_anchor, self.bench_anchor]

    def pids(self):
        """Every process of the world's NSD (it forks a server and an xfrd child)."""
        return session_pids(self.nsd.pid)


def hit_queries(bench_world):
    """The cache-hit query set: (name, type) pairs that exist, in a fixed shuffled order."""
    queries = []
    for zone in (BENCH_ZONE, PLAIN_ZONE):
        for i in range(bench_world.hit_names):
            for qtype in ("A", "AAAA", "TXT"):
                queries.append(("h%d.%s." % (i, zone), qtype))
    p = world.PARENT
    queries += [("www.secure.%s." % p, "A"), ("www.secure.%s." % p, "AAAA"),
                ("txt.secure.%s." % p, "TXT"), ("mail.secure.%s." % p, "A"),
                ("www.insecure.%s." % p, "A"), ("www.nsec3.%s." % p, "A"),
                ("www.wild.%s." % p, "A"), ("www.%s." % p, "A")]
    random.Random(1).shuffle(queries)
    return queries


def write_queries(path, queries):
    with open(path, "w") as out:
        out.writelines("%s %s\n" % q for q in queries)
    return path


def write_miss_queries(path, tag, count):
    """`count` names never asked before (tag makes them unique per run), half answered by the
    signed wildcard *.wild.world.test., half by the unsigned *.w.plain.bench.test."""
    with open(path, "w") as out:
        for i in range(count):
            zone = "wild.%s" % world.PARENT if i % 2 == 0 else "w.%s" % PLAIN_ZONE
            out.write("m%s-%d.%s. A\n" % (tag, i, zone))
    return path


# -- processes

def session_pids(leader):
    """Pids whose session id is `leader` (a Daemon runs in its own session)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == leader:  # field 6 (session), counted after "pid (comm)"
                pids.append(int(entry))
    return pids


def pin(pids, cpus):
    for pid in pids:
        subprocess.run(["taskset", "-a", "-c", "-p", cpus, str(pid)], check=True,
                       capture_output=True)


def cpu_seconds(pid):
    """utime + stime of the process, all threads included (fields 14, 15 of /proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_seconds_of(pids):
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total


def memory_kib(pid):
    """(VmRSS, VmHWM) in KiB from /proc/PID/status."""
    values = {}
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values.get("VmRSS"), values.get("VmHWM")


def exit_on_sigterm():
    """Makes SIGTERM (e.g. from `timeout`) raise SystemExit, so the scripts' finally blocks
    still stop every server they started."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


class Processes:
    """Every daemon a benchmark started; stop_all() kills those still running."""

    def __init__(self):
        self.daemons = []

    def add(self, daemon):
        self.daemons.append(daemon)
        return daemon

    def stop(self, daemon):
        stop_session(daemon)
        self.daemons.remove(daemon)

    def stop_all(self):
        for daemon in reversed(self.daemons):
            stop_session(daemon)
        self.daemons = []


def stop_session(daemon):
    """Stops `daemon` and what is left of its session: a server started under strace
    outlives the strace that the daemon's pid is."""
    leftovers = [pid for pid in session_pids(daemon.pid) if pid != daemon.pid]
    daemon.stop()
    for pid in leftovers:
        world.kill_pid(pid)


def bench_parser(doc, dnsvagt_required):
    """An argument parser with the script's docstring as its help and --dnsvagt (optional:
    without it only Unbound is measured)."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    if dnsvagt_required:
        parser.add_argument("--dnsvagt", required=True, help="dnsvagt binary")
    else:
        parser.add_argument("--dnsvagt", help="dnsvagt binary (omit: Unbound only)")
    return parser


def parse_bench_args(parser, argv, client_cpus_help="dnsperf and the NSD"):
    """Adds the options every dnsperf benchmark shares (add_load_arguments), parses argv
    (argv[0] is the script) and makes --dnsvagt an absolute path to an executable."""
    add_load_arguments(parser, client_cpus_help)
    args = parser.parse_args(argv[1:])
    if args.dnsvagt:
        args.dnsvagt = os.path.abspath(args.dnsvagt)
        if not os.access(args.dnsvagt, os.X_OK):
            parser.error("not an executable: %s" % args.dnsvagt)
    return args


def add_load_arguments(parser, client_cpus_help="dnsperf and the NSD"):
    """The options every dnsperf benchmark shares: CPU pinning, dnsperf's clients and
    outstanding queries, the hit names, the report and the working directory."""
    parser.add_argument("--server-cpus", default="1")
    parser.add_argument("--client-cpus", default="0", help=client_cpus_help)
    parser.add_argument("--clients", type=int, default=16, help="dnsperf -c")
    parser.add_argument("--outstanding", type=int, default=500, help="dnsperf -q")
    parser.add_argument("--hit-names", type=int, default=100,
                        help="names per bench zone (x3 types x2 zones, plus 8 world names)")
    parser.add_argument("--out", help="Markdown report (also printed)")
    parser.add_argument("--workdir",
                        help="keep logs, lists and configs here (default: temp, removed)")


def add_rounds_arguments(parser, duration):
    """--duration and --rounds of the benchmarks that measure the servers in turn, round by
    round, with dnsperf runs of `duration` seconds by default."""
    parser.add_argument("--duration", type=float, default=duration, help="seconds per dnsperf run")
    parser.add_argument("--rounds", type=int, default=3)


class Session:
    """One benchmark run as run_bench() drives it: the arguments and working directory, the
    processes it started and the world it built (both stopped at the end), and the problems
    it recorded (any: exit 1)."""

    def __init__(self, args, directory):
        self.args = args
        self.directory = directory
        self.processes = Processes()
        self.world = None
        self.problems = []


# -- server configs: the same forwarder setup for both

def dnsvagt_config(bench_world, directory, port, threads, lists=(), overrides=None):
    """dnsvagt: validating forwarder of everything to the world's NSD, the world's anchors,
    256 MiB cache, no metrics listener, no query log. overrides: {section: {key: value}},
    merged into those sections (e.g. {"cache": {"size": "8MiB"}})."""
    nsd = "%s@%d" % (LOOPBACK, bench_world.nsd_port)
    config = {
        "server": {"listen": ["%s:%d" % (LOOPBACK, port)], "threads": threads,
                   "user": world.current_user()},
        # The zones are named too: only then does dnsvagt lift libunbound's built-in "test."
        # local zone for them (Unbound gets `local-zone: "test." nodefault` instead).
        "upstream": {"mode": "forward", "servers": [nsd],
                     "zones": [{"name": world.PARENT, "servers": [nsd]},
                               {"name": BENCH_ZONE, "servers": [nsd]}]},
        "dnssec": {"validate": True, "root_trust_anchor_file": "",
                   "trust_anchors": bench_world.anchors()},
        "cache": {"size": "256MiB"},
        "metrics": {"listen": ""},
        "blocking": {"cache_dir": os.path.join(directory, "lists"), "lists": list(lists)},
        "logging": {"level": "warning", "query_log": ""},
    }
    for section, values in (overrides or {}).items():
        config.setdefault(section, {}).update(values)
    # JSON is YAML; one top-level key per line.
    return "".join("%s: %s\n" % (key, json.dumps(value)) for key, value in config.items())


# Unbound settings the benchmark sets on top of world.unbound_config(); everything else is
# Unbound 1.17's default (minimal-responses yes, prefetch no, serve-expired no,
# aggressive-nsec yes, rrset-roundrobin yes, qname-minimisation yes: see versions()).
def unbound_config(bench_world, directory, name, port, threads, rpz_file=None, extra=()):
    text = world.unbound_config(directory, name, port, bench_world.nsd_port,
                                bench_world.trust_anchor)
    lines = ["server:",
             "  num-threads: %d" % threads,
             "  so-reuseport: yes",
             "  msg-cache-size: 128m",
             "  rrset-cache-size: 256m",
             "  key-cache-size: 16m",
             "  verbosity: 0",
             "  trust-anchor: \"%s\"" % bench_world.bench_anchor]
    lines += ["  " + line for line in extra]
    if rpz_file:
        lines += ["  module-config: \"respip validator iterator\"",
                  "rpz:",
                  "  name: \"rpz.bench.\"",
                  "  zonefile: \"%s\"" % rpz_file,
                  "  rpz-log: no"]
    # Everything to the NSD, like dnsvagt's forward mode (world.test. already is).
    lines += ["forward-zone:", "  name: \".\"",
              "  forward-addr: %s@%d" % (LOOPBACK, bench_world.nsd_port)]
    return text + "\n".join(lines) + "\n"


class Server:
    """A resolver under test: name, port, Daemon (pid = the server's own pid: taskset execs)."""

    def __init__(self, name, kind, port, daemon, started_at, conf):
        self.name = name
        self.kind = kind          # "dnsvagt" | "unbound"
        self.port = port
        self.daemon = daemon
        self.started_at = started_at
        self.conf = conf

    @property
    def pid(self):
        return self.daemon.pid


def start_server(processes, bench_world, directory, name, kind, cpus, threads,
                 dnsvagt_bin=None, lists=(), rpz_file=None, ready=None, config_overrides=None,
                 wrapper=(), ready_timeout=60.0, unbound_extra=()):
    """Starts dnsvagt or Unbound pinned to `cpus` on a free port; returns a Server once
    ready(server) returns (default: it answers www.secure.world.test. with NOERROR within
    ready_timeout). config_overrides: dnsvagt_config's overrides (dnsvagt only); unbound_extra:
    lines added to Unbound's server: clause, or a function of the port giving them (Unbound
    only). wrapper: a
    command the server runs under (e.g. valgrind), after taskset.
    ready raises world.DaemonExited when the daemon exits, so another port is tried."""
    conf_dir = os.path.join(directory, name)
    os.makedirs(os.path.join(conf_dir, "lists"), exist_ok=True)

    def start(port):
        if kind == "dnsvagt":
            conf = os.path.join(conf_dir, "dnsvagt.yaml")
            with open(conf, "w") as out:
                out.write(dnsvagt_config(bench_world, conf_dir, port, threads, lists,
                                         config_overrides))
            args = [dnsvagt_bin, "-c", conf]
        else:
            conf = os.path.join(conf_dir, "unbound.conf")
            with open(conf, "w") as out:
                extra = unbound_extra(port) if callable(unbound_extra) else unbound_extra
                out.write(unbound_config(bench_world, conf_dir, name, port, threads, rpz_file,
                                         extra))
            if not rpz_file:  # unbound-checkconf would load the whole RPZ zone too
                subprocess.run(["unbound-checkconf", conf], check=True, capture_output=True)
            args = ["unbound", "-d", "-c", conf]
        started_at = time.monotonic()
        daemon = processes.add(world.Daemon(name, ["taskset", "-c", cpus] + list(wrapper) + args,
                                            os.path.join(conf_dir, kind + ".log")))
        server = Server(name, kind, port, daemon, started_at, conf)
        try:
            if ready is None:
                world.wait_until_answers(daemon, port, "www.secure.%s." % world.PARENT,
                                         timeout=ready_timeout)
            else:
                ready(server)
        except BaseException:
            processes.stop(daemon)
            raise
        return server

    return world.on_free_port(start)[1]


# -- the scripts' main

def run_bench(args, make_bench, prefix, make_report):
    """Runs make_bench(args, directory).run() in --workdir (else a temporary directory, removed
    afterwards), always stopping what it started; writes make_report(bench, versions) to --out
    and stdout. Returns the exit code: 1 if the bench recorded problems."""
    exit_on_sigterm()
    directory = os.path.abspath(args.workdir) if args.workdir else tempfile.mkdtemp(prefix=prefix)
    os.makedirs(directory, exist_ok=True)
    bench = make_bench(args, directory)
    info = versions(args.dnsvagt)
    try:
        bench.run()
    finally:
        bench.processes.stop_all()
        if bench.world is not None:
            bench.world.stop()
        if not args.workdir:
            shutil.rmtree(directory, ignore_errors=True)
    text = make_report(bench, info)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text)
    print(text)
    return 1 if bench.problems else 0


def main(argv, parse_args, make_bench, prefix, report):
    """A script's main: parse_args(argv), then run_bench with report(args, bench, versions)
    as its report. Returns the exit code."""
    args = parse_args(argv)
    return run_bench(args, make_bench, prefix, lambda bench, info: report(args, bench, info))


# -- probes

def probe(port, name, qtype=1, flags=0x0100, timeout=0.2):
    """One UDP query; returns (rcode, flags) of the reply, or None on timeout."""
    qid = random.randrange(65536)
    packet = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0)
    for label in name.strip(".").split("."):
        packet += bytes([len(label)]) + label.encode()
    packet += b"\0" + struct.pack("!HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, (LOOPBACK, port))
        try:
            while True:
                reply = sock.recv(4096)
                if len(reply) >= 12 and struct.unpack("!H", reply[:2])[0] == qid:
                    reply_flags = struct.unpack("!H", reply[2:4])[0]
                    return reply_flags & 0xF, reply_flags
        except socket.timeout:
            return None


def check_validation(server):
    """Both servers must validate alike: AD on signed names, not on unsigned ones. Returns a
    list of problems (empty when fine)."""
    problems = []
    ad_request = 0x0120  # RD + AD: ask for the AD bit without DO
    expected = [("www.secure.%s." % world.PARENT, True), ("h0.%s." % BENCH_ZONE, True),
                ("x.wild.%s." % world.PARENT, True), ("h0.%s." % PLAIN_ZONE, False),
                ("www.insecure.%s." % world.PARENT, False)]
    for name, secure in expected:
        reply = probe(server.port, name, flags=ad_request, timeout=2.0)
        if reply is None or reply[0] != 0:
            problems.append("%s: %s for %s" % (server.name, reply, name))
        elif bool(reply[1] & 0x0020) != secure:
            problems.append("%s: AD=%s for %s, expected %s"
                            % (server.name, bool(reply[1] & 0x0020), name, secure))
    reply = probe(server.port, "www.bogus.%s." % world.PARENT, timeout=2.0)
    if reply is None or reply[0] != 2:
        problems.append("%s: %s for www.bogus, expected SERVFAIL" % (server.name, reply))
    return problems


# -- dnsperf

DNSPERF_FIELDS = {
    "sent": r"Queries sent:\s+(\d+)",
    "completed": r"Queries completed:\s+(\d+)",
    "lost": r"Queries lost:\s+(\d+)",
    "run_time": r"Run time \(s\):\s+([\d.]+)",
    "qps": r"Queries per second:\s+([\d.]+)",
    "avg_latency": r"Average Latency \(s\):\s+([\d.]+)",
    "max_latency": r"Average Latency \(s\):\s+[\d.]+ \(min [\d.]+, max ([\d.]+)\)",
    "stddev_latency": r"Latency StdDev \(s\):\s+([\d.]+)",
}


def parse_dnsperf(text):
    result = {}
    for key, pattern in DNSPERF_FIELDS.items():
        match = re.search(pattern, text)
        if match is None:
            raise RuntimeError("dnsperf output lacks %s:\n%s" % (key, text[-2000:]))
        result[key] = float(match.group(1))
    match = re.search(r"Response codes:\s+(.*)", text)
    result["rcodes"] = match.group(1).strip() if match else ""
    return result


# dnsperf -t for cache hits: a hit is answered within milliseconds even under load, and the
# queries dropped on a full socket buffer when dnsperf opens with a burst of -q queries would
# otherwise hold their outstanding slots for dnsperf's default 5 s.
HIT_TIMEOUT = 1


def run_dnsperf(server, datafile, log_path, cpus, seconds=None, clients=16, outstanding=500,
                qps=None, max_runs=None, timeout=None, verbose=False, watch_pids=(), mode="udp",
                options=()):
    """Runs dnsperf (pinned to `cpus`) against `server`; returns the parsed statistics plus
    server_cpu_s (utime+stime delta of the server process), client_cpu_s (dnsperf's rusage),
    client_share, watch_cpu_s (delta over `watch_pids`, e.g. the NSD) and udp_drops.
    timeout: dnsperf -t, seconds until a query counts as lost and frees its -q slot.
    options: more dnsperf arguments (-O doh-uri=... for -m doh)."""
    args = ["taskset", "-c", cpus, "dnsperf", "-s", LOOPBACK, "-p", str(server.port),
            "-d", datafile, "-c", str(clients), "-q", str(outstanding)]
    if seconds:
        args += ["-l", str(seconds)]
    if qps:
        args += ["-Q", str(int(qps))]
    if max_runs:
        args += ["-n", str(max_runs)]
    if timeout:
        args += ["-t", str(timeout)]
    if verbose:
        args.append("-v")
    if mode != "udp":
        args += ["-m", mode]
    args += list(options)
    server_before = cpu_seconds(server.pid)
    watch_before = cpu_seconds_of(watch_pids)
    drops_before = udp_receive_buffer_errors()
    with open(log_path, "w") as log:
        started = time.monotonic()
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    # dnsperf stops itself after -l seconds (or -n passes); the deadline only guards hangs.
    deadline = started + (seconds or 60) + 30
    # dnsperf's CPU sampled while it runs: after its run time it only waits (up to -t) for
    # lost queries, and that idle tail must not dilute its CPU share.
    samples = []
    rusage = None
    try:
        while rusage is None:
            try:
                samples.append((time.monotonic() - started, cpu_seconds(process.pid)))
            except (OSError, IndexError):
                pass
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid == process.pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                rusage = usage
            elif time.monotonic() > deadline:
                raise RuntimeError("dnsperf did not finish: %s" % " ".join(args))
            else:
                time.sleep(0.02)
    finally:
        if rusage is None:
            world.kill_pid(process.pid, grace=1.0)
    elapsed = time.monotonic() - started
    server_after = cpu_seconds(server.pid)
    watch_after = cpu_seconds_of(watch_pids)
    drops_after = udp_receive_buffer_errors()
    with open(log_path) as log:
        text = log.read()
    if process.returncode != 0:
        raise RuntimeError("dnsperf failed (%d):\n%s" % (process.returncode, text[-2000:]))
    result = parse_dnsperf(text)
    result["server_cpu_s"] = server_after - server_before
    result["client_cpu_s"] = rusage.ru_utime + rusage.ru_stime
    result["client_share"] = client_share(samples, result["run_time"],
                                          result["client_cpu_s"], elapsed)
    result["watch_cpu_s"] = watch_after - watch_before
    result["udp_drops"] = drops_after - drops_before
    if not server.daemon.running():
        raise RuntimeError("%s died during the load:\n%s" % (server.name,
                                                             server.daemon.log_tail()))
    return result


def client_share(samples, run_time, total_cpu, elapsed):
    """dnsperf's CPU as a share of one core over its sending time: the last sample taken within
    run_time of the start (startup included, it is short), else the whole-life average."""
    within = [(t, cpu) for t, cpu in samples if 0.5 <= t <= run_time + 0.05]
    if within:
        t, cpu = within[-1]
        return cpu / t
    return total_cpu / max(elapsed, 1e-9)


def udp_receive_buffer_errors():
    """Datagrams the kernel dropped because a socket's receive buffer was full (all sockets:
    on this loopback-only benchmark, the server's and dnsperf's)."""
    with open("/proc/net/snmp") as snmp:
        rows = [line.split() for line in snmp if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def latencies_from_verbose(log_path):
    """Per-query latencies (s) from dnsperf -v lines "> RCODE name type latency"."""
    values = []
    with open(log_path) as log:
        for line in log:
            if line.startswith("> "):
                try:
                    values.append(float(line.rsplit(None, 1)[1]))
                except (IndexError, ValueError):
                    pass
    return values


def percentile(values, share):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def warm(server, datafile, log_path, cpus):
    """Two passes over the file at low concurrency so every name is in the server's cache."""
    result = run_dnsperf(server, datafile, log_path, cpus, clients=4, outstanding=50,
                         max_runs=2)
    if result["completed"] < result["sent"]:
        raise RuntimeError("warming %s lost %d queries" % (server.name,
                                                           result["sent"] - result["completed"]))
    return result


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# -- environment description

def first_line(args):
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as error:
        return "unknown (%s)" % error
    text = (out.stdout + out.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def unbound_settings(conf, names=("num-threads", "so-reuseport", "msg-cache-size",
                                    "rrset-cache-size", "minimal-responses", "prefetch",
                                    "serve-expired", "aggressive-nsec", "rrset-roundrobin",
                                    "qname-minimisation", "so-rcvbuf", "module-config")):
    """Effective values of the Unbound settings that matter for the comparison."""
    return {name: first_line(["unbound-checkconf", "-o", name, conf]) for name in names}


def versions(dnsvagt_bin):
    dnsperf = "unknown"
    help_run = subprocess.run(["dnsperf", "-h"], capture_output=True, text=True)
    help_text = help_run.stdout + help_run.stderr
    match = re.search(r"Version\s+(\S+)", help_text)
    if match:
        dnsperf = "dnsperf " + match.group(1)
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "dnsvagt": first_line([dnsvagt_bin, "version"]) if dnsvagt_bin else "not run",
        "unbound": first_line(["unbound", "-V"]),
        "dnsperf": dnsperf,
        "nsd": first_line(["nsd", "-v"]),
        "kernel": os.uname().release,
        "cpu": "%s, %d cores online" % (cpu, os.cpu_count()),
        "load average at start": " ".join("%.2f" % x for x in os.getloadavg()),
    }


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value, digits=1):
    if value is None:
        return "n/a"
    return "%.*f" % (digits, value)
