#!/usr/bin/python3
# End-to-end benchmark of issue 2: dnsvagt against the Unbound daemon, both validating forwarders
# to the signed test world's NSD, loaded by dnsperf on loopback (cache hits and cache misses).
"""dnsvagt vs Unbound under dnsperf: QPS, latency, server CPU per query, load-generator CPU.

    run.py [--dnsvagt PATH] [--duration 10] [--rounds 3] [--threads 1[,2]] [--out FILE]

Without --dnsvagt only Unbound is measured (checks the harness; ratios are n/a). The servers
are pinned to --server-cpus, dnsperf and the NSD to --client-cpus. Phases, each alternating
the servers round by round:

  hit        a few hundred existing names (A/AAAA/TXT, secure and insecure), warmed first,
             dnsperf -l DURATION -c CLIENTS -q OUTSTANDING, saturating
  miss-rate  names never asked before (wildcards *.wild.world.test. signed and
             *.w.plain.bench.test. unsigned), dnsperf -Q MISS_QPS: CPU per miss at equal load
  miss-sat   the same names without -Q (only with --miss-saturated): what a miss costs at the
             limit, where the NSD on the client core may be the bottleneck
"""

import os
import sys

import benchlib
from benchlib import fmt

PHASE_TITLES = {
    "hit": "cache hits, saturating",
    "miss-rate": "cache misses at a fixed rate",
    "miss-sat": "cache misses, saturating",
    "latency": "cache hits at a fixed rate, latency percentiles (dnsperf -v)",
}
GENERATOR_LIMITED = 0.90  # dnsperf CPU share of one core from which it is the bottleneck


def parse_args(argv):
    parser = benchlib.bench_parser(__doc__, dnsvagt_required=False)
    benchlib.add_rounds_arguments(parser, duration=10)
    parser.add_argument("--threads", default="1", help="comma list of worker thread counts")
    parser.add_argument("--miss-qps", type=int, default=2000, help="dnsperf -Q of miss-rate")
    parser.add_argument("--miss-saturated", action="store_true", help="add the miss-sat phase")
    parser.add_argument("--miss-names", type=int, default=400000,
                        help="names per miss-sat run (dnsperf -n 1 never repeats one)")
    parser.add_argument("--percentiles", action="store_true",
                        help="add a fixed-rate dnsperf -v run per server for p50/p99")
    parser.add_argument("--latency-qps", type=int, default=0,
                        help="rate of the percentile run (0 = half the lower hit QPS)")
    args = benchlib.parse_bench_args(parser, argv)
    args.thread_counts = [int(t) for t in args.threads.split(",")]
    return args


class Bench(benchlib.Session):
    """One benchmark session: the world, the servers, and the per-run records."""

    def __init__(self, args, directory):
        super().__init__(args, directory)
        self.records = []
        self.run_number = 0
        self.unbound_settings = {}

    def log_path(self, label):
        self.run_number += 1
        return os.path.join(self.directory, "dnsperf-%03d-%s.log" % (self.run_number, label))

    def measure(self, threads, phase, round_, server, datafile, **load):
        a = self.args
        label = "%s-%s-t%d-r%d" % (phase, server.name, threads, round_)
        log = self.log_path(label)
        result = benchlib.run_dnsperf(server, datafile, log, a.client_cpus,
                                      clients=a.clients, outstanding=a.outstanding,
                                      watch_pids=self.world.pids(), **load)
        completed = max(result["completed"], 1)
        record = {
            "threads": threads, "phase": phase, "round": round_, "server": server.kind,
            "qps": result["qps"], "completed": result["completed"], "lost": result["lost"],
            "avg_ms": result["avg_latency"] * 1e3, "stddev_ms": result["stddev_latency"] * 1e3,
            "max_ms": result["max_latency"] * 1e3,
            "server_us": result["server_cpu_s"] * 1e6 / completed,
            "client_share": result["client_share"], "udp_drops": result["udp_drops"],
            "nsd_us": result["watch_cpu_s"] * 1e6 / completed,
            "rcodes": result["rcodes"], "log": label,
        }
        if load.get("verbose"):
            latencies = benchlib.latencies_from_verbose(log)
            record["p50_ms"] = benchlib.percentile(latencies, 0.50) * 1e3
            record["p99_ms"] = benchlib.percentile(latencies, 0.99) * 1e3
            record["p999_ms"] = benchlib.percentile(latencies, 0.999) * 1e3
        self.records.append(record)
        sys.stderr.write("  %-9s t%d r%d %-8s %9.0f qps  %7.1f us/q  dnsperf %3.0f%%  lost %d\n"
                         % (phase, threads, round_, server.kind, record["qps"],
                            record["server_us"], 100 * record["client_share"], record["lost"]))
        return record

    def run(self):
        a = self.args
        self.world = benchlib.BenchWorld(os.path.join(self.directory, "world"), a.hit_names)
        self.world.start()
        benchlib.pin(self.world.pids(), a.client_cpus)
        hits = benchlib.write_queries(os.path.join(self.directory, "hits.txt"),
                                      benchlib.hit_queries(self.world))
        for threads in a.thread_counts:
            servers = []
            if a.dnsvagt:
                servers.append(benchlib.start_server(
                    self.processes, self.world, self.directory, "dnsvagt-t%d" % threads,
                    "dnsvagt", a.server_cpus, threads, dnsvagt_bin=a.dnsvagt))
            servers.append(benchlib.start_server(
                self.processes, self.world, self.directory, "unbound-t%d" % threads,
                "unbound", a.server_cpus, threads))
            for server in servers:
                self.problems += benchlib.check_validation(server)
                if server.kind == "unbound":
                    self.unbound_settings = benchlib.unbound_settings(server.conf)
            self.run_phases(threads, servers, hits)
            for server in servers:
                self.processes.stop(server.daemon)

    def run_phases(self, threads, servers, hits):
        a = self.args
        for round_ in range(a.rounds):
            for server in alternate(servers, round_):
                benchlib.warm(server, hits, self.log_path("warm-" + server.name), a.client_cpus)
                self.measure(threads, "hit", round_, server, hits, seconds=a.duration,
                             timeout=benchlib.HIT_TIMEOUT)
        miss_count = int(a.miss_qps * a.duration * 1.05) + 1000
        for round_ in range(a.rounds):
            for server in alternate(servers, round_):
                misses = benchlib.write_miss_queries(
                    os.path.join(self.directory, "misses.txt"),
                    "%s%dr%d" % (server.kind[0], threads, round_), miss_count)
                self.measure(threads, "miss-rate", round_, server, misses, seconds=a.duration,
                             qps=a.miss_qps, max_runs=1)
        if a.miss_saturated:
            for round_ in range(a.rounds):
                for server in alternate(servers, round_):
                    misses = benchlib.write_miss_queries(
                        os.path.join(self.directory, "misses.txt"),
                        "s%s%dr%d" % (server.kind[0], threads, round_), a.miss_names)
                    self.measure(threads, "miss-sat", round_, server, misses,
                                 seconds=a.duration, max_runs=1)
        if a.percentiles:
            rate = a.latency_qps or int(0.5 * min(
                benchlib.median([r["qps"] for r in self.records
                                 if r["phase"] == "hit" and r["threads"] == threads
                                 and r["server"] == s.kind]) for s in servers))
            for server in servers:
                benchlib.warm(server, hits, self.log_path("warm-" + server.name), a.client_cpus)
                self.measure(threads, "latency", 0, server, hits, seconds=a.duration, qps=rate,
                             timeout=benchlib.HIT_TIMEOUT, verbose=True)


def alternate(servers, round_):
    """Servers in turn, the first one going first in even rounds and last in odd ones."""
    return list(servers) if round_ % 2 == 0 else list(reversed(servers))


# -- report

def summarize(records, phase, threads):
    """Per server medians over the rounds of one phase."""
    by_server = {}
    for kind in ("dnsvagt", "unbound"):
        runs = [r for r in records if r["phase"] == phase and r["threads"] == threads
                and r["server"] == kind]
        if runs:
            by_server[kind] = {key: benchlib.median([r.get(key) for r in runs])
                               for key in ("qps", "server_us", "client_share", "avg_ms",
                                           "stddev_ms", "max_ms", "nsd_us", "lost",
                                           "udp_drops", "p50_ms", "p99_ms", "p999_ms")}
            by_server[kind]["runs"] = len(runs)
    return by_server


def ratio(summary, key):
    if "dnsvagt" not in summary or "unbound" not in summary:
        return None
    d, u = summary["dnsvagt"][key], summary["unbound"][key]
    return d / u if d is not None and u else None


def verdicts(phase, summary):
    """(what, ratio, target, met) lines for the targets of issue 2."""
    cpu, qps = ratio(summary, "server_us"), ratio(summary, "qps")
    lines = [("CPU/query dnsvagt / Unbound", cpu,
              "<= 0.5" if phase == "hit" else "(no target)",
              None if cpu is None or phase != "hit" else cpu <= 0.5)]
    if phase in ("hit", "miss-sat"):
        limited = summary.get("dnsvagt", {}).get("client_share") or 0
        target = 1.0 if limited >= GENERATOR_LIMITED else 1.5
        why = "dnsperf saturated" if limited >= GENERATOR_LIMITED else "dnsperf not the limit"
        lines.append(("QPS dnsvagt / Unbound", qps, ">= %.1f (%s)" % (target, why),
                      None if qps is None else qps >= target))
    else:
        lines.append(("QPS dnsvagt / Unbound", qps, "(fixed rate: equal if both keep up)", None))
    return lines


def report(args, records, problems, info, unbound_settings):
    out = ["# End-to-end: dnsvagt vs Unbound", ""]
    out.append("Run: `%s`" % " ".join(sys.argv))
    out.append("")
    out.append(benchlib.markdown_table(["", "version"], sorted(info.items())))
    out.append("")
    out.append("Load: dnsperf -c %d -q %d, %g s per run, %d rounds, servers alternating; "
               "servers on CPU %s, dnsperf and NSD on CPU %s. Miss rate -Q %d."
               % (args.clients, args.outstanding, args.duration, args.rounds, args.server_cpus,
                  args.client_cpus, args.miss_qps))
    out.append("")
    out.append("Unbound effective settings: " + ", ".join(
        "`%s: %s`" % item for item in unbound_settings.items()))
    out.append("")
    out.append("Columns: server CPU = utime+stime of the server process (all threads) from "
               "/proc/PID/stat over the run, per completed query; dnsperf CPU = its own CPU "
               "over its sending time as a share of one core (>= %d%%: the generator is the "
               "limit); NSD CPU = the upstream's, ~0 on cache hits; UDP rcvbuf drops = "
               "kernel drops on full socket buffers (the usual cause of `lost`)."
               % (100 * GENERATOR_LIMITED))
    out.append("")
    if problems:
        out.append("**Validation check failed, numbers are not comparable:**")
        out += ["- " + p for p in problems]
    else:
        out.append("Validation check: both servers set AD on signed names, not on unsigned "
                   "ones, and SERVFAIL the bogus name.")
    out.append("")
    for threads in args.thread_counts:
        for phase in ("hit", "miss-rate", "miss-sat", "latency"):
            summary = summarize(records, phase, threads)
            if not summary:
                continue
            out.append("## %s, threads %d (medians of %d runs)"
                       % (PHASE_TITLES[phase], threads,
                          max(s["runs"] for s in summary.values())))
            out.append("")
            rows = []
            for kind, s in summary.items():
                row = [kind, fmt(s["qps"], 0), fmt(s["server_us"], 1), fmt(s["avg_ms"], 3),
                       fmt(s["stddev_ms"], 3), fmt(s["max_ms"], 1),
                       fmt(100 * s["client_share"], 0), fmt(s["nsd_us"], 1), fmt(s["lost"], 0),
                       fmt(s["udp_drops"], 0)]
                if phase == "latency":
                    row += [fmt(s["p50_ms"], 3), fmt(s["p99_ms"], 3), fmt(s["p999_ms"], 3)]
                rows.append(row)
            header = ["server", "QPS", "server CPU µs/query", "avg latency ms",
                      "latency stddev ms", "max latency ms", "dnsperf CPU %", "NSD CPU µs/query",
                      "lost", "UDP rcvbuf drops"]
            if phase == "latency":
                header += ["p50 ms", "p99 ms", "p99.9 ms"]
            out.append(benchlib.markdown_table(header, rows))
            out.append("")
            if phase != "latency":
                out.append(benchlib.markdown_table(
                    ["ratio", "value", "target", "met"],
                    [(what, fmt(value, 2), target, {None: "", True: "yes", False: "NO"}[met])
                     for what, value, target, met in verdicts(phase, summary)]))
                out.append("")
    out.append("## Every run")
    out.append("")
    out.append(benchlib.markdown_table(
        ["phase", "threads", "round", "server", "QPS", "µs/query", "avg ms", "dnsperf CPU %",
         "NSD µs/query", "lost", "UDP drops", "rcodes"],
        [(r["phase"], r["threads"], r["round"], r["server"], fmt(r["qps"], 0),
          fmt(r["server_us"], 1), fmt(r["avg_ms"], 3), fmt(100 * r["client_share"], 0),
          fmt(r["nsd_us"], 1), int(r["lost"]), r["udp_drops"], r["rcodes"]) for r in records]))
    out.append("")
    return "\n".join(out)


def main(argv):
    args = parse_args(argv)
    return benchlib.run_bench(
        args, Bench, "dnsvagt-e2e-",
        lambda bench, info: report(args, bench.records, bench.problems, info,
                                   bench.unbound_settings))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
