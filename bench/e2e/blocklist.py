#!/usr/bin/python3
# End-to-end benchmark of issue 3: what a 1,000,000-domain blocklist costs dnsvagt on the
# cache-hit path, and its load time and memory next to Unbound loading the same names as RPZ.
"""dnsvagt with a 1M-domain blocklist vs without; Unbound with the same names as RPZ.

    blocklist.py [--dnsvagt PATH] [--duration 10] [--rounds 3] [--domains 1000000] [--out FILE]

The list: the unique domains of the scale feed (shared/data/feeds/scale/) plus synthetic names
up to --domains, plus one canary (canary.bench.test., which exists in the world but is never
queried by the load). No queried name is in it or below an entry. Unbound gets it as an RPZ
zone with `NAME CNAME .` and `*.NAME CNAME .` per domain (the same set dnsvagt blocks: the name
and everything below it).

Measured per server: seconds from spawn to the first reply, to the canary being blocked
(NXDOMAIN), and VmRSS/VmHWM once blocking. Then the cache-hit load of run.py against dnsvagt
without and with the list, alternating (and Unbound without/with RPZ with --unbound-load).
Without --dnsvagt only the Unbound part runs.
"""

import os
import random
import re
import sys
import time

import benchlib
from benchlib import fmt

FEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared",
                    "data", "feeds", "scale", "hagezi_onlydomains_9lists_concat.txt")
CANARY = "%s.%s." % (benchlib.CANARY_LABEL, benchlib.BENCH_ZONE)  # NOERROR until blocked
RPZ_ORIGIN = "rpz.bench."
NAME_PATTERN = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))+$")
SYNTHETIC_TLDS = ("com", "net", "org", "info", "xyz", "top", "ru", "de", "io", "shop")
TARGET_QPS_RATIO = 0.95


def parse_args(argv):
    parser = benchlib.bench_parser(__doc__, dnsvagt_required=False)
    benchlib.add_rounds_arguments(parser, duration=10)
    parser.add_argument("--threads", type=int, default=1)
    add_list_arguments(parser, "list size")
    parser.add_argument("--load-timeout", type=float, default=600,
                        help="seconds a server may take to load the list")
    parser.add_argument("--unbound-load", action="store_true",
                        help="also run the hit load against Unbound without and with RPZ")
    args = benchlib.parse_bench_args(parser, argv)
    return args


def add_list_arguments(parser, domains_help):
    """--domains (how many names the list has) and --feed (where the first ones come from),
    for the scripts that build lists like write_lists."""
    parser.add_argument("--domains", type=int, default=1000000, help=domains_help)
    parser.add_argument("--feed", default=os.path.abspath(FEED))


# -- the list

def feed_domains(path, excluded_suffix):
    """Unique, valid, lower-case domains of a domains-per-line feed, none under the suffix."""
    domains = set()
    with open(path, errors="replace") as feed:
        for line in feed:
            name = line.split("#", 1)[0].strip().lower().rstrip(".")
            if name and NAME_PATTERN.match(name) and len(name) < 200 and \
                    name != excluded_suffix and not name.endswith("." + excluded_suffix):
                domains.add(name)
    return domains


def synthetic_domains(domains, total):
    """Adds deterministic random names like real ones (two labels, common TLDs) up to total."""
    rng = random.Random(3)
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    while len(domains) < total:
        label = "".join(rng.choice(letters) for _ in range(rng.randint(6, 16)))
        if rng.random() < 0.3:
            label = "".join(rng.choice(letters) for _ in range(rng.randint(3, 8))) + "." + label
        domains.add("%s.%s" % (label, rng.choice(SYNTHETIC_TLDS)))
    return domains


def write_lists(directory, feed, total):
    """Writes the domains file (dnsvagt) and the RPZ zone (Unbound); returns (domains file,
    rpz file, how many from the feed)."""
    domains = feed_domains(feed, "test")
    from_feed = len(domains)
    if from_feed >= total:
        domains = set(random.Random(2).sample(sorted(domains), total - 1))
    domains = synthetic_domains(domains, total - 1)
    domains.add(CANARY.rstrip("."))
    ordered = sorted(domains)
    domains_file = os.path.join(directory, "blocklist.txt")
    with open(domains_file, "w") as out:
        out.writelines(name + "\n" for name in ordered)
    rpz_file = os.path.join(directory, "blocklist.rpz")
    with open(rpz_file, "w") as out:
        out.write("$ORIGIN %s\n$TTL 300\n" % RPZ_ORIGIN)
        out.write("@ SOA localhost. hostmaster.localhost. 1 3600 600 86400 300\n")
        out.write("@ NS localhost.\n")
        for name in ordered:
            out.write("%s CNAME .\n*.%s CNAME .\n" % (name, name))
    return domains_file, rpz_file, min(from_feed, total - 1)


# -- start-up timing

def timed_ready(times, blocking, timeout):
    """A start_server `ready` that records, in `times`, the seconds from spawn to the first
    reply and (when `blocking`) to the canary answered NXDOMAIN."""
    def ready(server):
        deadline = server.started_at + timeout
        while time.monotonic() < deadline:
            if not server.daemon.running():
                raise benchlib.world.DaemonExited("%s exited:\n%s"
                                                  % (server.name, server.daemon.log_tail()))
            reply = benchlib.probe(server.port, CANARY, timeout=0.05)
            now = time.monotonic() - server.started_at
            if reply is not None:
                times.setdefault("first_reply_s", now)
                if not blocking or reply[0] == 3:
                    times["blocking_s"] = now if blocking else None
                    return
            time.sleep(0.01)
        raise RuntimeError("%s not ready within %.0fs (times %s: no reply, or %s never "
                           "blocked):\n%s" % (server.name, timeout, times, CANARY,
                                               server.daemon.log_tail()))
    return ready


class Bench(benchlib.Session):
    def __init__(self, args, directory):
        super().__init__(args, directory)
        self.startups = []   # one dict per server configuration
        self.records = []
        self.list_info = {}
        self.run_number = 0

    def start(self, name, kind, blocking, **server_args):
        a = self.args
        times = {}
        server = benchlib.start_server(
            self.processes, self.world, self.directory, name, kind, a.server_cpus, a.threads,
            dnsvagt_bin=a.dnsvagt, ready=timed_ready(times, blocking, a.load_timeout),
            **server_args)
        rss, hwm = benchlib.memory_kib(server.pid)
        self.startups.append({"name": name, "kind": kind, "list": blocking,
                              "rss_mib": rss / 1024, "hwm_mib": hwm / 1024, **times})
        sys.stderr.write("  started %s: %s, VmRSS %.0f MiB\n" % (name, times, rss / 1024))
        self.problems += benchlib.check_validation(server)
        return server

    def measure(self, pair_name, round_, server, hits):
        a = self.args
        self.run_number += 1
        log = os.path.join(self.directory, "dnsperf-%03d-%s-r%d.log"
                           % (self.run_number, server.name, round_))
        benchlib.warm(server, hits, log + ".warm", a.client_cpus)
        result = benchlib.run_dnsperf(server, hits, log, a.client_cpus, seconds=a.duration,
                                      clients=a.clients, outstanding=a.outstanding,
                                      timeout=benchlib.HIT_TIMEOUT,
                                      watch_pids=self.world.pids())
        record = {"pair": pair_name, "round": round_, "server": server.name,
                  "qps": result["qps"], "lost": result["lost"],
                  "server_us": result["server_cpu_s"] * 1e6 / max(result["completed"], 1),
                  "client_share": result["client_share"], "avg_ms": result["avg_latency"] * 1e3,
                  "rss_mib": benchlib.memory_kib(server.pid)[0] / 1024}
        self.records.append(record)
        sys.stderr.write("  %-20s r%d %9.0f qps  %7.1f us/q  dnsperf %3.0f%%\n"
                         % (server.name, round_, record["qps"], record["server_us"],
                            100 * record["client_share"]))

    def compare(self, pair_name, without, with_list, hits):
        for round_ in range(self.args.rounds):
            for server in (without, with_list) if round_ % 2 == 0 else (with_list, without):
                self.measure(pair_name, round_, server, hits)

    def run(self):
        a = self.args
        started = time.monotonic()
        domains_file, rpz_file, from_feed = write_lists(self.directory, a.feed, a.domains)
        self.list_info = {"domains": a.domains, "from_feed": from_feed,
                          "generation_s": time.monotonic() - started,
                          "domains_file_mib": os.path.getsize(domains_file) / 2**20,
                          "rpz_records": 2 * a.domains}
        self.world = benchlib.BenchWorld(os.path.join(self.directory, "world"), a.hit_names)
        self.world.start()
        benchlib.pin(self.world.pids(), a.client_cpus)
        hits = benchlib.write_queries(os.path.join(self.directory, "hits.txt"),
                                      benchlib.hit_queries(self.world))
        if a.dnsvagt:
            plain = self.start("dnsvagt-nolist", "dnsvagt", False)
            listed = self.start("dnsvagt-list", "dnsvagt", True, lists=[
                {"name": "bench", "file": domains_file, "format": "domains"}])
            self.compare("dnsvagt", plain, listed, hits)
            self.processes.stop(plain.daemon)
            self.processes.stop(listed.daemon)
        plain = self.start("unbound-norpz", "unbound", False)
        if not a.unbound_load:
            self.processes.stop(plain.daemon)
        listed = self.start("unbound-rpz", "unbound", True, rpz_file=rpz_file)
        if a.unbound_load:
            self.compare("unbound", plain, listed, hits)


def pair_ratios(records, pair):
    # By the whole part after the server's name: "dnsvagt-nolist" also ends with "list".
    runs = {name: [r for r in records
                   if r["pair"] == pair and r["server"].split("-", 1)[1] == name]
            for name in ("nolist", "list", "norpz", "rpz")}
    without = runs["nolist"] or runs["norpz"]
    with_list = runs["list"] or runs["rpz"]
    if not without or not with_list:
        return None
    med = {key: (benchlib.median([r[key] for r in without]),
                 benchlib.median([r[key] for r in with_list]))
           for key in ("qps", "server_us", "client_share", "avg_ms", "lost")}
    # The two runs of a round follow each other; this machine's speed drifts over minutes
    # (runs of one server vary by 40 %), so the ratio within each round is the steadier one.
    rounds = sorted({r["round"] for r in without} & {r["round"] for r in with_list})
    for key in ("qps", "server_us"):
        med[key + "_paired"] = benchlib.median(
            [benchlib.median([r[key] for r in with_list if r["round"] == n]) /
             benchlib.median([r[key] for r in without if r["round"] == n]) for n in rounds])
    return med


def report(args, bench, info):
    out = ["# End-to-end: a 1M-domain blocklist in dnsvagt, and Unbound with the same as RPZ", ""]
    out.append("Run: `%s`" % " ".join(sys.argv))
    out.append("")
    out.append(benchlib.markdown_table(["", "version"], sorted(info.items())))
    out.append("")
    li = bench.list_info
    out.append("List: %d domains (%d unique from the scale feed, the rest synthetic, one "
               "canary), "
               "%.1f MiB as a domains file; RPZ: %d records (name and wildcard per domain). "
               "Generated in %.1f s. Servers on CPU %s, dnsperf and NSD on CPU %s, threads %d; "
               "load dnsperf -c %d -q %d, %g s x %d rounds alternating."
               % (li["domains"], li["from_feed"], li["domains_file_mib"], li["rpz_records"],
                  li["generation_s"], args.server_cpus, args.client_cpus, args.threads,
                  args.clients, args.outstanding, args.duration, args.rounds))
    out.append("")
    if bench.problems:
        out.append("**Validation check failed:**")
        out += ["- " + p for p in bench.problems]
        out.append("")
    out.append("## Start-up and memory")
    out.append("")
    out.append(benchlib.markdown_table(
        ["server", "list", "spawn to first reply s", "spawn to blocking s", "VmRSS MiB",
         "VmHWM MiB"],
        [(s["name"], "yes" if s["list"] else "no", fmt(s.get("first_reply_s"), 2),
          fmt(s.get("blocking_s"), 2), fmt(s["rss_mib"], 0), fmt(s["hwm_mib"], 0))
         for s in bench.startups]))
    out.append("")
    by_name = {s["name"]: s for s in bench.startups}
    if "dnsvagt-list" in by_name and "unbound-rpz" in by_name:
        d, u = by_name["dnsvagt-list"], by_name["unbound-rpz"]
        out.append(benchlib.markdown_table(
            ["with the list", "dnsvagt / Unbound"],
            [("spawn to blocking", fmt(d["blocking_s"] / u["blocking_s"], 2)),
             ("VmRSS", fmt(d["rss_mib"] / u["rss_mib"], 2)),
             ("VmRSS added by the list",
              fmt((d["rss_mib"] - by_name["dnsvagt-nolist"]["rss_mib"]) /
                  max(u["rss_mib"] - by_name["unbound-norpz"]["rss_mib"], 1e-9), 2))]))
        out.append("")
    for pair in ("dnsvagt", "unbound"):
        med = pair_ratios(bench.records, pair)
        if med is None:
            continue
        out.append("## Cache-hit load, %s without vs with the list (medians)" % pair)
        out.append("")
        out.append(benchlib.markdown_table(
            ["", "without", "with", "with / without", "target"],
            [("QPS", fmt(med["qps"][0], 0), fmt(med["qps"][1], 0),
              fmt(med["qps"][1] / med["qps"][0], 3),
              ">= %.2f" % TARGET_QPS_RATIO if pair == "dnsvagt" else ""),
             ("server CPU µs/query", fmt(med["server_us"][0], 1), fmt(med["server_us"][1], 1),
              fmt(med["server_us"][1] / med["server_us"][0], 3),
              "<= %.2f" % (1 / TARGET_QPS_RATIO) if pair == "dnsvagt" else ""),
             ("QPS, median of the per-round ratios", "", "", fmt(med["qps_paired"], 3),
              ">= %.2f" % TARGET_QPS_RATIO if pair == "dnsvagt" else ""),
             ("server CPU µs/query, median of the per-round ratios", "", "",
              fmt(med["server_us_paired"], 3),
              "<= %.2f" % (1 / TARGET_QPS_RATIO) if pair == "dnsvagt" else ""),
             ("avg latency ms", fmt(med["avg_ms"][0], 3), fmt(med["avg_ms"][1], 3),
              fmt(med["avg_ms"][1] / med["avg_ms"][0], 3), ""),
             ("dnsperf CPU %", fmt(100 * med["client_share"][0], 0),
              fmt(100 * med["client_share"][1], 0), "", ""),
             ("lost", fmt(med["lost"][0], 0), fmt(med["lost"][1], 0), "", "")]))
        out.append("")
    if bench.records:
        out.append("## Every run")
        out.append("")
        out.append(benchlib.markdown_table(
            ["server", "round", "QPS", "µs/query", "avg ms", "dnsperf CPU %", "lost",
             "VmRSS MiB after"],
            [(r["server"], r["round"], fmt(r["qps"], 0), fmt(r["server_us"], 1),
              fmt(r["avg_ms"], 3), fmt(100 * r["client_share"], 0), int(r["lost"]),
              fmt(r["rss_mib"], 0)) for r in bench.records]))
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(benchlib.main(sys.argv, parse_args, Bench, "dnsvagt-e2e-list-", report))
