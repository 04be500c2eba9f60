#!/usr/bin/python3
# End-to-end measurement of issue 4: what swapping a 1,000,000-domain `file:` list costs a
# loaded dnsvagt: time until the new version answers, resident memory around the swap, and
# the queries dnsperf lost and the rate it got while the swap ran.
"""dnsvagt under a rate-limited cache-hit dnsperf load while its block list is swapped.

    swap.py --dnsvagt PATH [--swaps 5] [--domains 1000000] [--qps 20000] [--out FILE]

Lists: A is the list of blocklist.py (the unique domains of the scale feed plus synthetic
names up to --domains); B keeps 70 % of A and replaces the other 30 % with changed names (a
number appended to the first label). A also blocks swap-a.wild.world.test., B
swap-b.wild.world.test.; both exist through the world's signed wildcard, so a probe sees which
version answers. dnsvagt starts with a one-name list; the first swap (row 0) loads A, then the
versions alternate. Every swap writes the version to a temporary file and renames it over the
configured one, while a dnsperf run (-Q QPS over the cache-hit names of run.py) is under way.

Per swap: seconds from the rename until both markers follow the new version (the list file is
polled every 5 s, so this includes up to 5 s of waiting), VmRSS just before the rename, its
maximum over 100 ms samples until SETTLE seconds after the swap was visible, and at that
moment; dnsperf's QPS, lost queries and latency for its whole run (rename after LEAD seconds),
and the datagrams the kernel dropped on full socket buffers (RcvbufErrors) in the run and from
the rename until 'after' (dnsperf does not say when it lost a query; a drop is the usual cause).
A first run without a swap gives the baseline.
"""

import itertools
import os
import random
import shutil
import sys
import threading
import time

import benchlib
import blocklist
from benchlib import fmt

MARKER_A = "swap-a.wild.%s." % benchlib.world.PARENT
MARKER_B = "swap-b.wild.%s." % benchlib.world.PARENT
NOERROR, NXDOMAIN = 0, 3
SAMPLE_SECONDS = 0.1


def parse_args(argv):
    parser = benchlib.bench_parser(__doc__, dnsvagt_required=True)
    parser.add_argument("--swaps", type=int, default=5, help="swaps after the first load of A")
    add_version_arguments(parser, "entries per version")
    parser.add_argument("--qps", type=int, default=20000, help="dnsperf -Q")
    parser.add_argument("--run-seconds", type=float, default=25,
                        help="dnsperf -l of each run (the swap must be visible within it)")
    parser.add_argument("--lead", type=float, default=2, help="seconds of load before a rename")
    parser.add_argument("--settle", type=float, default=3,
                        help="seconds after the swap is visible until VmRSS 'after'")
    parser.add_argument("--swap-timeout", type=float, default=120)
    parser.add_argument("--threads", type=int, default=2)
    args = benchlib.parse_bench_args(parser, argv)
    return args


def add_version_arguments(parser, domains_help):
    """The options of write_versions: blocklist.py's list options and --changed."""
    blocklist.add_list_arguments(parser, domains_help)
    parser.add_argument("--changed", type=float, default=0.3,
                        help="share of entries B does not share with A")


# -- the two versions

def changed_name(name, taken):
    """A name like `name`: its first label with a number appended, the first not in `taken`."""
    first, _, rest = name.partition(".")
    for number in itertools.count(2):
        candidate = "%s%d.%s" % (first[:60], number, rest)
        if candidate not in taken:
            return candidate


def write_versions(directory, feed, total, changed_share):
    """Writes A and B (sorted domains files); returns (path A, path B, from feed, shared)."""
    domains = blocklist.feed_domains(feed, "test")
    from_feed = min(len(domains), total - 1)
    if len(domains) > total - 1:
        domains = set(random.Random(2).sample(sorted(domains), total - 1))
    version_a = blocklist.synthetic_domains(domains, total - 1)
    ordered = sorted(version_a)
    replaced = random.Random(5).sample(ordered, int(total * changed_share))
    version_b = version_a.difference(replaced)
    taken = set(version_a)
    for name in replaced:
        new = changed_name(name, taken)
        taken.add(new)
        version_b.add(new)
    shared = len(version_a & version_b)
    paths = []
    for label, names, marker in (("a", version_a, MARKER_A), ("b", version_b, MARKER_B)):
        path = os.path.join(directory, "version-%s.txt" % label)
        with open(path, "w") as out:
            out.writelines(name + "\n" for name in sorted(names | {marker.rstrip(".")}))
        paths.append(path)
    return paths[0], paths[1], from_feed, shared


# -- one swap

def markers(port):
    """(rcode of MARKER_A, rcode of MARKER_B), None for no reply within 0.5 s."""
    return tuple(None if reply is None else reply[0]
                 for reply in (benchlib.probe(port, name, timeout=0.5)
                               for name in (MARKER_A, MARKER_B)))


def marker_rcodes(version):
    return {"A": (NXDOMAIN, NOERROR), "B": (NOERROR, NXDOMAIN)}[version]


class Bench(benchlib.Session):
    def __init__(self, args, directory):
        super().__init__(args, directory)
        self.server = None
        self.rows = []
        self.list_info = {}

    def load_run(self, label, during):
        """One dnsperf run over the hit names; calls during() from this thread meanwhile and
        returns (dnsperf result, during()'s result)."""
        a = self.args
        log = os.path.join(self.directory, "dnsperf-%s.log" % label)
        outcome = {}

        def load():
            try:
                outcome["result"] = benchlib.run_dnsperf(
                    self.server, self.hits, log, a.client_cpus, seconds=a.run_seconds,
                    clients=a.clients, outstanding=a.outstanding, qps=a.qps,
                    timeout=benchlib.HIT_TIMEOUT, watch_pids=self.world.pids())
            except Exception as error:  # reported after the join
                outcome["error"] = error

        thread = threading.Thread(target=load)
        thread.start()
        try:
            during_result = during()
        finally:
            thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"], during_result

    def swap(self, version, path):
        """Renames `path` over the list file; returns the per-swap figures."""
        a = self.args
        pid, port = self.server.pid, self.server.port
        time.sleep(a.lead)
        staged = self.list_file + ".new"
        shutil.copyfile(path, staged)
        rss_before = benchlib.memory_kib(pid)[0]
        drops_before = benchlib.udp_receive_buffer_errors()
        renamed = time.monotonic()
        os.replace(staged, self.list_file)
        peak, visible_s, want = rss_before, None, marker_rcodes(version)
        while True:
            now = time.monotonic()
            peak = max(peak, benchlib.memory_kib(pid)[0])
            if visible_s is None and markers(port) == want:
                visible_s = time.monotonic() - renamed
            if visible_s is not None and now - renamed >= visible_s + a.settle:
                break
            if visible_s is None and now - renamed > a.swap_timeout:
                raise RuntimeError("version %s not visible %.0f s after the rename:\n%s"
                                   % (version, a.swap_timeout, self.server.daemon.log_tail()))
            time.sleep(max(0.0, SAMPLE_SECONDS - (time.monotonic() - now)))
        rss_after = benchlib.memory_kib(pid)[0]
        return {"visible_s": visible_s, "rss_before": rss_before, "rss_peak": peak,
                "rss_after": rss_after,
                "swap_drops": benchlib.udp_receive_buffer_errors() - drops_before}

    def record(self, label, version, load, swap):
        row = {"label": label, "version": version, "qps": load["qps"], "lost": load["lost"],
               "sent": load["sent"], "avg_ms": load["avg_latency"] * 1e3,
               "max_ms": load["max_latency"] * 1e3, "udp_drops": load["udp_drops"], **swap}
        self.rows.append(row)
        sys.stderr.write("  %-8s %s: %s\n" % (label, version or "-", {
            k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}))

    def run(self):
        a = self.args
        started = time.monotonic()
        path_a, path_b, from_feed, shared = write_versions(self.directory, a.feed, a.domains,
                                                           a.changed)
        self.list_info = {"from_feed": from_feed, "shared": shared,
                          "generation_s": time.monotonic() - started,
                          "file_mib": os.path.getsize(path_a) / 2**20}
        lists_dir = os.path.join(self.directory, "list")
        os.makedirs(lists_dir, exist_ok=True)
        self.list_file = os.path.join(lists_dir, "block.txt")
        with open(self.list_file, "w") as out:  # the start list: one name, blocks no marker
            out.write("%s.%s\n" % (benchlib.CANARY_LABEL, benchlib.BENCH_ZONE))
        self.world = benchlib.BenchWorld(os.path.join(self.directory, "world"), a.hit_names)
        self.world.start()
        benchlib.pin(self.world.pids(), a.client_cpus)
        self.hits = benchlib.write_queries(os.path.join(self.directory, "hits.txt"),
                                           benchlib.hit_queries(self.world))
        self.server = benchlib.start_server(
            self.processes, self.world, self.directory, "dnsvagt", "dnsvagt", a.server_cpus,
            a.threads, dnsvagt_bin=a.dnsvagt,
            lists=[{"name": "swapped", "file": self.list_file, "format": "domains"}])
        self.problems += benchlib.check_validation(self.server)
        benchlib.warm(self.server, self.hits, os.path.join(self.directory, "warm.log"),
                      a.client_cpus)
        if markers(self.server.port) != (NOERROR, NOERROR):
            raise RuntimeError("a marker is blocked by the start list: %s"
                               % (markers(self.server.port),))

        def steady():
            rss = benchlib.memory_kib(self.server.pid)[0]
            return {"visible_s": None, "rss_before": rss, "rss_peak": rss, "rss_after": rss,
                    "swap_drops": None}

        load, figures = self.load_run("baseline", steady)
        self.record("baseline", None, load, figures)
        for number in range(a.swaps + 1):
            version = "A" if number % 2 == 0 else "B"
            path = path_a if version == "A" else path_b
            load, figures = self.load_run("swap%d" % number, lambda: self.swap(version, path))
            self.record("first load" if number == 0 else "swap %d" % number, version, load,
                        figures)
            if not self.server.daemon.running():
                raise RuntimeError("dnsvagt died:\n%s" % self.server.daemon.log_tail())


def report(args, bench, info):
    mib = 1024.0
    out = ["# End-to-end: swapping a %d-domain list under load" % args.domains, ""]
    out.append("Run: `%s`" % " ".join(sys.argv))
    out.append("")
    out.append(benchlib.markdown_table(["", "version"], sorted(info.items())))
    out.append("")
    li = bench.list_info
    if li:
        out.append("Versions A and B: %d domains each (%d unique from the scale feed, the rest "
                   "synthetic, plus one marker), %d shared, %.1f MiB as a domains file; "
                   "generated in %.1f s. dnsvagt (threads %d) on CPU %s with a one-name start "
                   "list; dnsperf and NSD on CPU %s: `dnsperf -Q %d -l %g -c %d -q %d -t %d` "
                   "over %d cache-hit names, one run per row, the rename %g s into the run."
                   % (args.domains, li["from_feed"], li["shared"], li["file_mib"],
                      li["generation_s"], args.threads, args.server_cpus, args.client_cpus,
                      args.qps, args.run_seconds, args.clients, args.outstanding,
                      benchlib.HIT_TIMEOUT, 6 * args.hit_names + 8, args.lead))
        out.append("")
    if bench.problems:
        out.append("**Validation check failed:**")
        out += ["- " + p for p in bench.problems]
        out.append("")
    out.append(benchlib.markdown_table(
        ["run", "to", "rename to visible s", "VmRSS before MiB", "peak MiB",
         "after MiB", "QPS", "lost", "avg ms", "max ms", "UDP rcvbuf drops",
         "of them from rename to after"],
        [(r["label"], r["version"] or "-", fmt(r["visible_s"], 2),
          fmt(r["rss_before"] / mib, 1), fmt(r["rss_peak"] / mib, 1),
          fmt(r["rss_after"] / mib, 1), fmt(r["qps"], 0),
          "%d of %d" % (r["lost"], r["sent"]), fmt(r["avg_ms"], 3), fmt(r["max_ms"], 1),
          r["udp_drops"], "n/a" if r["swap_drops"] is None else r["swap_drops"])
         for r in bench.rows]))
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(benchlib.main(sys.argv, parse_args, Bench, "dnsvagt-e2e-swap-", report))
