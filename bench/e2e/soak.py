#!/usr/bin/python3
# Soak test: dnsvagt near saturation for minutes while its block list is swapped and its
# configuration reloaded, to see whether it loses queries, fails them, slows down or grows.
"""dnsvagt under a steady mixed dnsperf load with list swaps and SIGHUP reloads.

    soak.py --dnsvagt PATH [--duration 600] [--swap-every 30] [--reload-every 60]
            [--out FILE] [--json FILE]

Loopback only, bounded by --duration (default 10 minutes). The world of run.py
(benchlib.BenchWorld); dnsvagt (--threads 2) on --server-cpus with the metrics listener, a
JSON-lines query log in the work directory (rotated at 256 MiB; rotated files are deleted as
a log shipper would) and one `file:` block list of --domains names: the versions A and B of
swap.py (the scale feed's domains plus synthetic ones, B keeps 70 % of A, markers
swap-a/swap-b.wild.world.test.). Every --swap-every seconds the other version is copied to a
temporary file and renamed over the list; every --reload-every seconds (shifted by
--reload-offset, so that a reload does not fall on a swap) dnsvagt gets SIGHUP.

The load: consecutive dnsperf runs of --window seconds at a fixed -Q (default: --load-share
of the rate an unthrottled 10 s calibration run reached), each over a file of its own that
mixes, per 20 queries, 16 cache hits (the 608 names of run.py), 2 blocked names (names in
both A and B: NXDOMAIN), 1 miss of an existing name (a new name under a wildcard, signed or
unsigned) and 1 NXDOMAIN (a new name in the signed secure.world.test.). The file is long
enough that no miss or NXDOMAIN name repeats in the run.

Per window: QPS, lost queries (dnsperf), errors (every rcode other than NOERROR and NXDOMAIN
in dnsperf's counts, and the delta of dnsvagt_responses_total{rcode!~NOERROR|NXDOMAIN}),
client-side latency percentiles from dnsperf -v (one latency per query: queueing in the
sockets included), and the server-side p99 from the dnsvagt_query_duration_seconds histogram
delta (the upper bound of the bucket). VmRSS is sampled every --sample-every seconds with
dnsvagt_cache_bytes. Samples taken while a swap or reload is in progress (from the event until
3 s after it took effect) are transient: a swap holds the old and the new matcher for a moment
by design. The RSS criterion uses the other (steady) samples: after the first minute, every one
within --rss-tolerance of the minute-1 level (median of the steady samples in its last 20 s),
above or below. The spread (max - min over the level) is reported too.

Exit 1 if the RSS criterion fails, dnsvagt died, a swap did not become visible or a reload
did not succeed.
"""

import collections
import json
import os
import random
import re
import shutil
import signal
import sys
import threading
import time
import urllib.request

import benchlib
import swap
from benchlib import fmt

HITS_PER_20, BLOCKED_PER_20, MISS_PER_20, NX_PER_20 = 16, 2, 1, 1
NX_ZONE = "secure.%s" % benchlib.world.PARENT
OK_RCODES = ("NOERROR", "NXDOMAIN")
SETTLE = 3.0  # seconds after a swap/reload took effect that RSS samples still count as transient
RELOADED = "reloaded the configuration"
RELOAD_FAILED = "reload failed"
MIB = 1024.0


def parse_args(argv):
    parser = benchlib.bench_parser(__doc__, dnsvagt_required=True)
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument("--swap-every", type=float, default=30)
    parser.add_argument("--reload-every", type=float, default=60)
    parser.add_argument("--reload-offset", type=float, default=15,
                        help="reloads at k*RELOAD_EVERY + this")
    parser.add_argument("--window", type=float, default=10, help="seconds per dnsperf run")
    parser.add_argument("--qps", type=int, default=0,
                        help="dnsperf -Q (0: --load-share of a calibration run's rate)")
    parser.add_argument("--load-share", type=float, default=0.8)
    parser.add_argument("--sample-every", type=float, default=2, help="VmRSS sampling seconds")
    parser.add_argument("--rss-tolerance", type=float, default=0.05)
    swap.add_version_arguments(parser, "list entries per version")
    parser.add_argument("--cache-size", default="4MiB",
                        help="cache.size: small, so the cache is full within the first minute")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=2, help="dnsperf -t")
    parser.add_argument("--json", help="every window, sample, swap and reload as JSON")
    args = benchlib.parse_bench_args(parser, argv, "dnsperf, the NSD and this script")
    return args


# -- /metrics

METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


def scrape(port):
    """{(name, labels text): value} of dnsvagt's /metrics, or None when it does not answer."""
    try:
        with urllib.request.urlopen("http://%s:%d/metrics" % (benchlib.LOOPBACK, port),
                                    timeout=2) as reply:
            text = reply.read().decode()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        match = METRIC_LINE.match(line)
        if match:
            try:
                values[(match.group(1), match.group(2) or "")] = float(match.group(3))
            except ValueError:
                pass
    return values


def metric(values, name, labels=""):
    return (values or {}).get((name, labels))


def error_responses(values):
    """Responses with an rcode other than NOERROR/NXDOMAIN, from dnsvagt_responses_total."""
    return sum(v for (name, labels), v in (values or {}).items()
               if name == "dnsvagt_responses_total"
               and not any('"%s"' % rcode in labels for rcode in OK_RCODES))


def histogram_p99(before, after):
    """Upper bound (s) of the dnsvagt_query_duration_seconds bucket holding the p99 of the
    queries between two scrapes; inf when it is above the last bound."""
    buckets = []
    for (name, labels), value in (after or {}).items():
        if name == "dnsvagt_query_duration_seconds_bucket":
            bound = re.search(r'le="([^"]+)"', labels).group(1)
            buckets.append((float(bound), value - (before or {}).get((name, labels), 0.0)))
    buckets.sort()
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    for bound, cumulative in buckets:
        if cumulative >= 0.99 * total:
            return bound
    return float("inf")


# -- the load

def rcode_counts(text):
    """{"NOERROR": n, ...} from dnsperf's "Response codes:" line."""
    return {name: int(count) for name, count in re.findall(r"([A-Z]+) (\d+) \(", text)}


def latency_counts(log_path):
    """Counter of dnsperf -v latencies (exact values, µs resolution) of one run."""
    return collections.Counter(benchlib.latencies_from_verbose(log_path))


def counter_percentile(counts, share):
    total = sum(counts.values())
    if not total:
        return None
    rank, seen = share * total, 0
    for value in sorted(counts):
        seen += counts[value]
        if seen > rank:
            return value
    return max(counts)


def write_window(path, tag, lines, hits, blocked):
    """A dnsperf data file of `lines` queries in the fixed mix; misses and NXDOMAIN names are
    new (tag makes them unique per window)."""
    miss_zones = ("wild.%s" % benchlib.world.PARENT, "w.%s" % benchlib.PLAIN_ZONE)
    out_lines, hit, block, fresh = [], 0, 0, 0
    for i in range(lines):
        slot = i % 20
        if slot < HITS_PER_20:
            name, qtype = hits[hit % len(hits)]
            hit += 1
        elif slot < HITS_PER_20 + BLOCKED_PER_20:
            name, qtype = blocked[block % len(blocked)], "A"
            block += 1
        elif slot < HITS_PER_20 + BLOCKED_PER_20 + MISS_PER_20:
            name, qtype = "m%s-%d.%s." % (tag, fresh, miss_zones[fresh % 2]), "A"
            fresh += 1
        else:
            name, qtype = "nx%s-%d.%s." % (tag, fresh, NX_ZONE), "A"
            fresh += 1
        out_lines.append("%s %s\n" % (name, qtype))
    with open(path, "w") as out:
        out.writelines(out_lines)
    return path


def shared_blocked_names(path_a, path_b, count):
    """`count` names listed in both versions (blocked whichever is active), as FQDNs."""
    with open(path_b) as listed:
        in_b = set(line.strip() for line in listed)
    with open(path_a) as listed:
        both = [name for name in (line.strip() for line in listed)
                if name in in_b and not name.startswith("swap-")]
    return [name + "." for name in random.Random(7).sample(both, min(count, len(both)))]


# -- the run

class Soak(benchlib.Session):
    def __init__(self, args, directory):
        super().__init__(args, directory)
        self.server = None
        self.metrics_port = None
        self.notes = []        # odd things worth a line in the report
        self.windows = []
        self.samples = []      # (t, VmRSS KiB, cache bytes or None)
        self.swaps = []
        self.reloads = []
        self.transients = []   # (from t, to t) of swaps and reloads in progress
        self.info = {}
        self.qps = None
        self.calibration = None
        self.load_start = None
        self.stopping = threading.Event()
        self.version = "A"
        self.version_lock = threading.Lock()
        self.died = False

    def now(self):
        return time.monotonic() - self.load_start

    # -- set-up

    def ready(self, server):
        """Answers, and the list (version A) is loaded: swap-a blocked, swap-b not."""
        benchlib.world.wait_until_answers(server.daemon, server.port,
                                          "www.secure.%s." % benchlib.world.PARENT, timeout=60)
        deadline = time.monotonic() + 120
        while swap.markers(server.port) != swap.marker_rcodes("A"):
            if not server.daemon.running():
                raise benchlib.world.DaemonExited(server.daemon.log_tail())
            if time.monotonic() > deadline:
                raise RuntimeError("list A not active after 120 s:\n%s"
                                   % server.daemon.log_tail())
            time.sleep(0.2)

    def start(self):
        a = self.args
        started = time.monotonic()
        self.path_a, self.path_b, from_feed, shared = swap.write_versions(
            self.directory, a.feed, a.domains, a.changed)
        self.blocked = shared_blocked_names(self.path_a, self.path_b, 2000)
        self.info["lists"] = {"domains": a.domains, "from_feed": from_feed, "shared": shared,
                              "file_mib": os.path.getsize(self.path_a) / 2**20,
                              "generation_s": time.monotonic() - started}
        lists_dir = os.path.join(self.directory, "list")
        os.makedirs(lists_dir, exist_ok=True)
        self.list_file = os.path.join(lists_dir, "block.txt")
        shutil.copyfile(self.path_a, self.list_file)
        self.world = benchlib.BenchWorld(os.path.join(self.directory, "world"), a.hit_names)
        self.world.start()
        benchlib.pin(self.world.pids(), a.client_cpus)
        self.hits = benchlib.hit_queries(self.world)
        self.hits_file = benchlib.write_queries(os.path.join(self.directory, "hits.txt"),
                                                self.hits)
        self.query_log_dir = os.path.join(self.directory, "querylog")
        os.makedirs(self.query_log_dir, exist_ok=True)
        self.query_log = os.path.join(self.query_log_dir, "queries.jsonl")
        self.metrics_port = benchlib.world.free_port()
        overrides = {
            "cache": {"size": a.cache_size},
            "metrics": {"listen": "%s:%d" % (benchlib.LOOPBACK, self.metrics_port)},
            "logging": {"level": "info", "query_log": self.query_log,
                        "query_log_rotate": "256MiB"},
        }
        self.server = benchlib.start_server(
            self.processes, self.world, self.directory, "dnsvagt", "dnsvagt", a.server_cpus,
            a.threads, dnsvagt_bin=a.dnsvagt, ready=self.ready, config_overrides=overrides,
            lists=[{"name": "soak", "file": self.list_file, "format": "domains"}])
        if scrape(self.metrics_port) is None:
            raise RuntimeError("no /metrics on port %d" % self.metrics_port)
        self.problems += benchlib.check_validation(self.server)
        benchlib.warm(self.server, self.hits_file, os.path.join(self.directory, "warm.log"),
                      a.client_cpus)
        for name in self.blocked[:20]:
            reply = benchlib.probe(self.server.port, name, timeout=1.0)
            if reply is None or reply[0] != swap.NXDOMAIN:
                raise RuntimeError("%s not blocked: %s" % (name, reply))

    def calibrate(self):
        """One unthrottled 10 s run over the mix; -Q is --load-share of its rate."""
        a = self.args
        path = write_window(os.path.join(self.directory, "calibrate.txt"), "c", 2000000,
                            self.hits, self.blocked)
        result = benchlib.run_dnsperf(self.server, path, os.path.join(self.directory,
                                                                      "calibrate.log"),
                                      a.client_cpus, seconds=10, clients=a.clients,
                                      outstanding=a.outstanding, timeout=a.timeout)
        os.remove(path)
        self.calibration = result
        return int(result["qps"] * a.load_share)

    # -- the background threads

    def sampler(self):
        a = self.args
        while not self.stopping.is_set():
            t = self.now()
            try:
                rss = benchlib.memory_kib(self.server.pid)[0]
            except OSError:
                rss = None
            values = scrape(self.metrics_port)
            self.samples.append((t, rss, metric(values, "dnsvagt_cache_bytes")))
            self.drop_rotated_logs()
            self.stopping.wait(max(0.0, a.sample_every - (self.now() - t)))

    def drop_rotated_logs(self):
        for entry in os.listdir(self.query_log_dir):
            if entry != os.path.basename(self.query_log):
                path = os.path.join(self.query_log_dir, entry)
                try:
                    self.rotated_bytes = getattr(self, "rotated_bytes", 0) + \
                        os.path.getsize(path)
                    os.remove(path)
                except OSError:
                    pass

    def schedule(self):
        a = self.args
        events = []
        k = 1
        while k * a.swap_every < a.duration - 1:
            events.append((k * a.swap_every, "swap"))
            k += 1
        k = 0
        while k * a.reload_every + a.reload_offset < a.duration - 1:
            if k * a.reload_every + a.reload_offset > 0:
                events.append((k * a.reload_every + a.reload_offset, "reload"))
            k += 1
        return sorted(events)

    def events(self):
        try:
            for at, kind in self.schedule():
                if self.stopping.wait(max(0.0, at - self.now())):
                    return
                if not self.server.daemon.running():
                    return
                (self.do_swap if kind == "swap" else self.do_reload)()
        except Exception as error:  # reported, never silently lost
            self.problems.append("event thread failed: %r" % error)

    def do_swap(self):
        a = self.args
        with self.version_lock:
            version = "B" if self.version == "A" else "A"
        staged = self.list_file + ".new"
        shutil.copyfile(self.path_a if version == "A" else self.path_b, staged)
        rss_before = self.rss_now()
        t0 = self.now()
        os.replace(staged, self.list_file)
        with self.version_lock:
            self.version = version
        want = swap.marker_rcodes(version)
        visible = None
        limit = max(10.0, min(a.swap_every - 2, 25.0))
        while self.now() - t0 < limit and not self.stopping.is_set():
            if swap.markers(self.server.port) == want:
                visible = self.now() - t0
                break
            time.sleep(0.2)
        self.transients.append((t0, self.now() + SETTLE))
        self.stopping.wait(SETTLE)
        self.swaps.append({"t": t0, "to": version, "visible_s": visible,
                           "rss_before": rss_before, "rss_after": self.rss_now()})
        sys.stderr.write("  %6.1f s swap to %s: %s\n" % (
            t0, version, "visible after %.1f s" % visible if visible is not None
            else "NOT visible"))

    def rss_now(self):
        try:
            return benchlib.memory_kib(self.server.pid)[0]
        except OSError:
            return None

    def count_log(self, needle):
        try:
            with open(self.server.daemon.log_path, errors="replace") as log:
                return log.read().count(needle)
        except OSError:
            return 0

    def do_reload(self):
        ok_before, failed_before = self.count_log(RELOADED), self.count_log(RELOAD_FAILED)
        rss_before = self.rss_now()
        t0 = self.now()
        os.kill(self.server.pid, signal.SIGHUP)
        outcome, took = "no log line within 30 s", None
        while self.now() - t0 < 30:
            if self.count_log(RELOADED) > ok_before:
                outcome, took = "ok", self.now() - t0
                break
            if self.count_log(RELOAD_FAILED) > failed_before:
                outcome, took = "failed", self.now() - t0
                break
            time.sleep(0.1)
        # The list must still be the current version after the reload (the new generation's
        # updater loads it from its stored copy).
        with self.version_lock:
            want = swap.marker_rcodes(self.version)
        markers = None
        deadline = self.now() + 15
        while self.now() < deadline:
            markers = swap.markers(self.server.port)
            if markers == want:
                break
            time.sleep(0.2)
        self.transients.append((t0, self.now() + SETTLE))
        self.stopping.wait(SETTLE)
        self.reloads.append({"t": t0, "outcome": outcome, "took_s": took,
                             "list_kept": markers == want, "markers": markers,
                             "rss_before": rss_before, "rss_after": self.rss_now()})
        sys.stderr.write("  %6.1f s reload: %s%s, list %s\n" % (
            t0, outcome, "" if took is None else " in %.2f s" % took,
            "kept" if markers == want else "NOT as expected: %s" % (markers,)))

    # -- the windows

    def window(self, number, seconds, path):
        a = self.args
        log = os.path.join(self.directory, "dnsperf-%03d.log" % number)
        t0 = self.now()
        before = scrape(self.metrics_port)
        try:
            result = benchlib.run_dnsperf(self.server, path, log, a.client_cpus,
                                          seconds=seconds, clients=a.clients,
                                          outstanding=a.outstanding, qps=self.qps,
                                          timeout=a.timeout, verbose=True)
        except RuntimeError as error:
            self.died = not self.server.daemon.running()
            self.problems.append("window %d: %s" % (number, str(error).splitlines()[0]))
            return False
        after = scrape(self.metrics_port)
        rcodes = rcode_counts(result["rcodes"])
        if sum(rcodes.values()) != result["completed"]:
            self.notes.append("window %d: dnsperf's rcode counts %s do not add up to %d "
                              "completed" % (number, rcodes, result["completed"]))
        latencies = latency_counts(log)
        os.remove(log)
        errors = sum(n for rcode, n in rcodes.items() if rcode not in OK_RCODES)
        self.windows.append({
            "n": number, "t": t0, "end": self.now(), "run_time": result["run_time"],
            "sent": result["sent"], "completed": result["completed"], "lost": result["lost"],
            "qps": result["qps"], "rcodes": rcodes, "errors": errors,
            "server_errors": None if before is None or after is None
            else error_responses(after) - error_responses(before),
            "server_p99_le": histogram_p99(before, after),
            "udp_drops": result["udp_drops"], "latencies": latencies,
            "server_cpu_us": result["server_cpu_s"] * 1e6 / max(result["completed"], 1),
            "server_cpu_share": result["server_cpu_s"] / max(result["run_time"], 1e-9),
            "client_share": result["client_share"], "nxdomain_share":
            rcodes.get("NXDOMAIN", 0) / max(result["completed"], 1),
            "p50": counter_percentile(latencies, 0.50), "p99": counter_percentile(latencies, 0.99),
            "max": result["max_latency"],
            "query_log_dropped": metric(after, "dnsvagt_query_log_dropped_total"),
        })
        w = self.windows[-1]
        sys.stderr.write("  %6.1f s window %d: %.0f qps, lost %d, errors %d, p99 %s ms\n" % (
            t0, number, w["qps"], w["lost"], errors, fmt((w["p99"] or 0) * 1e3, 2)))
        return True

    def run(self):
        a = self.args
        try:
            os.sched_setaffinity(0, {int(c) for c in a.client_cpus.split(",")})
        except (OSError, ValueError):
            pass
        self.start()
        self.qps = a.qps or self.calibrate()
        sys.stderr.write("  load: dnsperf -Q %d\n" % self.qps)
        # Each window's file: one pass of it covers the window at -Q, so no name repeats.
        lines = int(self.qps * a.window * 1.1) + 20
        next_path = os.path.join(self.directory, "window-%d.txt")
        write_window(next_path % 0, "w0x", lines, self.hits, self.blocked)
        self.rss_start = benchlib.memory_kib(self.server.pid)[0]
        self.load_start = time.monotonic()
        threads = [threading.Thread(target=self.sampler, daemon=True),
                   threading.Thread(target=self.events, daemon=True)]
        for thread in threads:
            thread.start()
        number = 0
        try:
            while True:
                remaining = a.duration - self.now()
                if remaining < 1:
                    break
                path = next_path % (number % 2)
                seconds = min(a.window, remaining)
                maker = threading.Thread(target=write_window, args=(
                    next_path % ((number + 1) % 2), "w%dx" % (number + 1), lines, self.hits,
                    self.blocked))
                maker.start()
                ok = self.window(number, max(1, int(round(seconds))), path)
                maker.join()
                if not ok:
                    break
                number += 1
        finally:
            self.stopping.set()
            for thread in threads:
                thread.join(timeout=40)
        self.alive = self.server.daemon.running() and not self.died
        if self.alive:
            reply = benchlib.probe(self.server.port, "www.secure.%s." % benchlib.world.PARENT,
                                   timeout=2.0)
            self.alive = reply is not None and reply[0] == 0
        self.final_metrics = scrape(self.metrics_port)
        self.log_tail = self.server.daemon.log_tail(10)
        self.judge()

    # -- verdict

    def transient(self, t):
        return any(start <= t <= end for start, end in self.transients)

    def judge(self):
        a = self.args
        steady = [(t, rss) for t, rss, _ in self.samples if rss is not None
                  and not self.transient(t)]
        level_samples = [rss for t, rss in steady if 40 <= t < 60]
        if not level_samples:
            level_samples = [rss for t, rss in steady if t < 60][-3:]
        after = [rss for t, rss in steady if t >= 60]
        self.rss = {"level": benchlib.median(level_samples), "after_min": min(after, default=None),
                    "after_max": max(after, default=None),
                    "peak": max((rss for _, rss, _ in self.samples if rss), default=None)}
        r = self.rss
        if r["level"] and after:
            r["spread"] = (r["after_max"] - r["after_min"]) / r["level"]
            r["growth"] = r["after_max"] / r["level"] - 1
            r["deviation"] = max(r["growth"], 1 - r["after_min"] / r["level"])
            r["ok"] = r["deviation"] <= a.rss_tolerance
        else:
            r["spread"] = r["growth"] = r["deviation"] = None
            r["ok"] = False
        if not r["ok"]:
            self.problems.append("RSS after minute 1 not within %.0f %% of the minute-1 level"
                                 % (100 * a.rss_tolerance))
        if not self.alive:
            self.problems.append("dnsvagt not alive at the end")
        for s in self.swaps:
            if s["visible_s"] is None:
                self.problems.append("swap at %.0f s to %s never visible" % (s["t"], s["to"]))
        for r_ in self.reloads:
            if r_["outcome"] != "ok" or not r_["list_kept"]:
                self.problems.append("reload at %.0f s: %s, list %s" % (
                    r_["t"], r_["outcome"], "kept" if r_["list_kept"] else r_["markers"]))

    # -- report

    def minutes(self):
        rows = []
        count = int((self.args.duration + 59) // 60)
        for minute in range(count):
            lo, hi = 60 * minute, 60 * (minute + 1)
            ws = [w for w in self.windows if lo <= w["t"] < hi]
            latencies = collections.Counter()
            for w in ws:
                latencies.update(w["latencies"])
            samples = [(t, rss) for t, rss, _ in self.samples if lo <= t < hi and rss]
            steady = [rss for t, rss in samples if not self.transient(t)]
            cache = [c for t, _, c in self.samples if lo <= t < hi and c is not None]
            run_time = sum(w["run_time"] for w in ws)
            server_p99 = [w["server_p99_le"] for w in ws if w["server_p99_le"] is not None]
            rows.append({
                "minute": minute + 1,
                "qps": sum(w["completed"] for w in ws) / run_time if run_time else None,
                "sent": sum(w["sent"] for w in ws), "lost": sum(w["lost"] for w in ws),
                "errors": sum(w["errors"] for w in ws),
                "server_errors": sum(w["server_errors"] or 0 for w in ws),
                "p99": counter_percentile(latencies, 0.99),
                "server_p99_le": max(server_p99) if server_p99 else None,
                "rss_min": min(steady, default=None), "rss_max": max(steady, default=None),
                "rss_peak": max((rss for _, rss in samples), default=None),
                "cache_mib": max(cache) / 2**20 if cache else None,
                "swaps": sum(1 for s in self.swaps if lo <= s["t"] < hi),
                "reloads": sum(1 for r in self.reloads if lo <= r["t"] < hi),
                "udp_drops": sum(w["udp_drops"] for w in ws),
                "server_cpu": benchlib.median([w["server_cpu_share"] for w in ws]),
                "client_cpu": benchlib.median([w["client_share"] for w in ws]),
            })
        return rows

    def verdict(self):
        r = self.rss
        total_sent = sum(w["sent"] for w in self.windows)
        total_lost = sum(w["lost"] for w in self.windows)
        total_errors = sum(w["errors"] for w in self.windows)
        seen = [s["visible_s"] for s in self.swaps if s["visible_s"] is not None]
        reload_ok = sum(1 for x in self.reloads if x["outcome"] == "ok" and x["list_kept"])
        parts = [
            "RSS %s: steady samples after minute 1 %s-%s MiB, at most %s %% from the minute-1 "
            "level %s MiB (limit %.0f %%; spread %s %%)" % (
                "ok" if r["ok"] else "FAILED",
                fmt(r["after_min"] and r["after_min"] / MIB), fmt(r["after_max"] and
                                                                  r["after_max"] / MIB),
                fmt(r["deviation"] and 100 * r["deviation"], 1),
                fmt(r["level"] and r["level"] / MIB), 100 * self.args.rss_tolerance,
                fmt(r["spread"] and 100 * r["spread"], 1)),
            "steady RSS minimum per minute from minute 2: %s" % ", ".join(
                fmt(m["rss_min"] and m["rss_min"] / MIB) for m in self.minutes()[1:]),
            "lost %d of %d queries (%s %%)" % (total_lost, total_sent,
                                               fmt(100.0 * total_lost / max(total_sent, 1), 4)),
            "errors %d" % total_errors,
            "dnsvagt %s" % ("alive" if self.alive else "NOT ALIVE"),
            "swaps visible %d of %d (after %s-%s s)" % (
                len(seen), len(self.swaps), fmt(min(seen, default=None)),
                fmt(max(seen, default=None))),
            "reloads ok %d of %d" % (reload_ok, len(self.reloads)),
        ]
        return "**%s**: %s." % ("PASS" if not self.problems else "FAIL", "; ".join(parts))


def kib_mib(kib):
    return None if kib is None else kib / MIB


def report(args, soak, info):
    out = ["### Soak: %g s near saturation, list swaps every %g s, reload every %g s"
           % (args.duration, args.swap_every, args.reload_every), ""]
    out.append("Run: `%s` (%s UTC)" % (" ".join(sys.argv),
                                       time.strftime("%Y-%m-%d %H:%M", time.gmtime())))
    out.append("")
    out.append(benchlib.markdown_table(["", "version"], sorted(info.items())))
    out.append("")
    li = soak.info.get("lists")
    if li:
        cal = soak.calibration
        out.append(
            "List: `file:` domains list, versions A and B of %d domains (%d from the scale "
            "feed, %d shared, %.1f MiB), alternating every %g s by rename; SIGHUP at %g s + "
            "k x %g s. dnsvagt (threads %d, cache.size %s, metrics on, query log on, rotated "
            "at 256 MiB) on CPU %s; dnsperf, NSD and this script on CPU %s. Load: "
            "consecutive %g s runs of `dnsperf -Q %d -c %d -q %d -t %d -v`%s; per 20 "
            "queries 16 cache hits, 2 blocked, 1 miss (new wildcard name), 1 NXDOMAIN (new "
            "name, signed zone)." % (
                li["domains"], li["from_feed"], li["shared"], li["file_mib"], args.swap_every,
                args.reload_offset, args.reload_every, args.threads, args.cache_size,
                args.server_cpus, args.client_cpus, args.window, soak.qps or 0, args.clients,
                args.outstanding, args.timeout,
                "" if not cal else " (%.0f %% of the %.0f QPS of an unthrottled 10 s run, "
                "in which dnsvagt used %.0f %% and dnsperf %.0f %% of a core)"
                % (100 * args.load_share, cal["qps"],
                   100 * cal["server_cpu_s"] / max(cal["run_time"], 1e-9),
                   100 * cal["client_share"])))
        out.append("")
    if soak.windows:
        out.append("p99: client side, from dnsperf -v (every query's latency). server p99 <=: "
                   "the dnsvagt_query_duration_seconds bucket holding the p99 (worst window). "
                   "errors: rcodes other than NOERROR/NXDOMAIN in dnsperf's counts (dnsvagt's "
                   "own count of them in parentheses). RSS min/max: steady samples (every %g s, "
                   "none during a swap or reload); peak: all samples. CPU: medians over the "
                   "minute's runs, as a share of one core. dnsperf ran %.0f s of the %g s (it "
                   "waits -t for lost queries after each run, then its log is read)."
                   % (args.sample_every, sum(w["run_time"] for w in soak.windows),
                      args.duration))
        out.append("")
        out.append(benchlib.markdown_table(
            ["minute", "QPS", "dnsvagt CPU %", "dnsperf CPU %", "lost", "errors", "p99 ms",
             "server p99 <= ms", "RSS min MiB", "RSS max MiB", "RSS peak MiB", "cache MiB",
             "swaps", "reloads"],
            [(m["minute"], fmt(m["qps"], 0), fmt(m["server_cpu"] and 100 * m["server_cpu"], 0),
              fmt(m["client_cpu"] and 100 * m["client_cpu"], 0),
              "%d of %d" % (m["lost"], m["sent"]),
              "%d (%d)" % (m["errors"], m["server_errors"]), fmt(m["p99"] and m["p99"] * 1e3, 2),
              fmt(m["server_p99_le"] and m["server_p99_le"] * 1e3, 2),
              fmt(m["rss_min"] and m["rss_min"] / MIB), fmt(m["rss_max"] and m["rss_max"] / MIB),
              fmt(m["rss_peak"] and m["rss_peak"] / MIB), fmt(m["cache_mib"]), m["swaps"],
              m["reloads"]) for m in soak.minutes()]))
        out.append("")
    if soak.swaps:
        out.append("Swaps (at s: to version, seconds from the rename until both markers "
                   "follow, VmRSS MiB before -> %g s after): " % SETTLE + "; ".join(
                       "%.0f: %s %s, %s -> %s" % (
                           s["t"], s["to"], "-" if s["visible_s"] is None
                           else "%.1f" % s["visible_s"], fmt(kib_mib(s["rss_before"])),
                           fmt(kib_mib(s["rss_after"]))) for s in soak.swaps) + ".")
        out.append("")
    if soak.reloads:
        out.append("Reloads (at s: seconds from SIGHUP to the log line, VmRSS MiB before -> "
                   "%g s after): " % SETTLE + "; ".join(
                       "%.0f: %s, %s -> %s" % (
                           r["t"], "%.2f" % r["took_s"] if r["outcome"] == "ok"
                           else r["outcome"], fmt(kib_mib(r["rss_before"])),
                           fmt(kib_mib(r["rss_after"]))) for r in soak.reloads) + ".")
        out.append("")
    final = getattr(soak, "final_metrics", None)
    if final is not None:
        out.append("At the end: query log lines dropped %s, internal errors %s, "
                   "dnsvagt_list_update_failures_total %s; query log written %.0f MiB."
                   % (fmt(metric(final, "dnsvagt_query_log_dropped_total"), 0),
                      fmt(metric(final, "dnsvagt_internal_errors_total"), 0),
                      fmt(sum(v for (n, _), v in final.items()
                              if n == "dnsvagt_list_update_failures_total"), 0),
                      (getattr(soak, "rotated_bytes", 0) + (os.path.getsize(soak.query_log)
                       if os.path.exists(soak.query_log) else 0)) / 2**20))
    out.append("")
    if soak.notes:
        out.append("Notes:")
        out += ["- " + n for n in soak.notes]
        out.append("")
    if soak.problems:
        out.append("Problems:")
        out += ["- " + p for p in soak.problems]
        out.append("")
    if getattr(soak, "rss", None):
        out.append(soak.verdict())
        out.append("")
    return "\n".join(out)


def dump_json(path, soak):
    windows = [{k: v for k, v in w.items() if k != "latencies"} for w in soak.windows]
    with open(path, "w") as out:
        json.dump({"qps": soak.qps, "windows": windows, "samples": soak.samples,
                   "swaps": soak.swaps, "reloads": soak.reloads, "transients": soak.transients,
                   "minutes": soak.minutes(), "rss": getattr(soak, "rss", None),
                   "problems": soak.problems}, out, indent=1)


def main(argv):
    args = parse_args(argv)

    def make_report(soak, info):
        if args.json:
            dump_json(args.json, soak)
        return report(args, soak, info)

    return benchlib.run_bench(args, Soak, "dnsvagt-e2e-soak-", make_report)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
