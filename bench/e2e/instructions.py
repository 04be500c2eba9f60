#!/usr/bin/python3
# Instructions per query, counted by callgrind: repeatable on a shared machine where CPU time
# is not, so a refactoring can be shown to cost nothing.
"""Instructions per answered query of dnsvagt binaries and of the Unbound daemon, on the same
cache-hit loads, each server run under valgrind --tool=callgrind.

    instructions.py --dnsvagt BIN[,BIN...] [--label NAME,...] [--passes 4] [--qps 400] [--out FILE]

Every server forwards to the benchmark world's NSD (benchlib.BenchWorld) and is warmed with two
passes of the hit names (608 names, A/AAAA/TXT, secure and insecure). Then callgrind's
instrumentation is switched on (callgrind_control -i on), dnsperf sends --passes passes of the
same names at --qps over UDP and then over TCP (one connection, queries pipelined), and the
instrumentation goes off again. Instructions counted while it was on, divided by the queries
answered, are the figure; what the process did before and after (start-up, validation of the
warm-up misses, shutdown) is not in it. dnsperf's rate is low and fixed because a server under
valgrind runs some 50 times slower, and because the instructions per query depend on how
many queries one recvmmsg call finds waiting: the same rate for every server keeps that alike.
"""

import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import benchlib  # noqa: E402
import world  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dnsvagt", required=True, help="comma list of dnsvagt binaries")
    parser.add_argument("--label", help="comma list of names for them (default: the paths)")
    parser.add_argument("--passes", type=int, default=4, help="passes over the hit names")
    parser.add_argument("--qps", type=int, default=400, help="dnsperf -Q of each measured run")
    parser.add_argument("--hit-names", type=int, default=100)
    parser.add_argument("--no-unbound", action="store_true", help="measure dnsvagt only")
    parser.add_argument("--out", help="Markdown report (also printed)")
    parser.add_argument("--workdir", help="keep logs and callgrind files here")
    return parser.parse_args(argv)


def callgrind_control(pid, *args):
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True,
                   timeout=60)


def dumped_instructions(directory, pid, number, timeout=60.0):
    """Ir of the process's dump `number` (callgrind.out.PID.NUMBER), once it is written whole:
    callgrind_control returns before the process has written it."""
    path = os.path.join(directory, "callgrind.out.%d.%d" % (pid, number))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as data:
                for line in data:
                    match = re.match(r"totals:\s+(\d+)", line)
                    if match:
                        return int(match.group(1))
        time.sleep(0.2)
    raise RuntimeError("no callgrind dump %s within %.0fs" % (path, timeout))


class Bench(benchlib.Session):
    def __init__(self, args, directory):
        super().__init__(args, directory)
        self.rows = []

    def run(self):
        a = self.args
        self.world = benchlib.BenchWorld(os.path.join(self.directory, "world"), a.hit_names)
        self.world.start()
        hits = benchlib.write_queries(os.path.join(self.directory, "hits.txt"),
                                      benchlib.hit_queries(self.world))
        binaries = a.dnsvagt.split(",")
        labels = a.label.split(",") if a.label else binaries
        servers = [("dnsvagt", label, binary) for label, binary in zip(labels, binaries)]
        if not a.no_unbound:
            servers.append(("unbound", "unbound", None))
        for index, (kind, label, binary) in enumerate(servers):
            self.measure(index, kind, label, binary, hits)

    def measure(self, index, kind, label, binary, hits):
        name = "%s-%d" % (kind, index)
        out_dir = os.path.join(self.directory, name + "-callgrind")
        os.makedirs(out_dir, exist_ok=True)
        wrapper = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                   "--callgrind-out-file=%s/callgrind.out.%%p" % out_dir]
        server = benchlib.start_server(self.processes, self.world, self.directory, name, kind,
                                       "0,1", 1, dnsvagt_bin=binary, wrapper=wrapper,
                                       ready_timeout=180.0)
        log = lambda phase: os.path.join(self.directory, "%s-%s.log" % (name, phase))
        benchlib.warm(server, hits, log("warm"), "0,1")
        row = {"server": label, "kind": kind}
        for number, mode in enumerate(("udp", "tcp"), start=1):
            callgrind_control(server.pid, "--zero")
            callgrind_control(server.pid, "--instr=on")
            result = benchlib.run_dnsperf(server, hits, log(mode), "0,1", clients=1,
                                          outstanding=20, qps=self.args.qps,
                                          max_runs=self.args.passes, mode=mode)
            callgrind_control(server.pid, "--instr=off")
            callgrind_control(server.pid, "--dump=" + mode)
            instructions = dumped_instructions(out_dir, server.pid, number)
            if result["completed"] < result["sent"]:
                self.problems.append("%s %s lost %d of %d queries" % (
                    label, mode, result["sent"] - result["completed"], result["sent"]))
            row[mode] = instructions / max(1, result["completed"])
            row[mode + "_queries"] = result["completed"]
        self.processes.stop(server.daemon)
        self.rows.append(row)


def report(bench, info):
    a = bench.args
    lines = ["### Instructions per query (callgrind), `bench/e2e/instructions.py`", "",
             "%d passes over %d hit names at %d QPS, one server at a time, each warmed first."
             % (a.passes, len(benchlib.hit_queries(bench.world)), a.qps), ""]
    unbound = next((r for r in bench.rows if r["kind"] == "unbound"), None)
    header = ["server", "UDP instr/query", "TCP instr/query", "queries (UDP/TCP)"]
    if unbound:
        header += ["UDP ÷ Unbound", "TCP ÷ Unbound"]
    rows = []
    for r in bench.rows:
        row = [r["server"], "{:,.0f}".format(r["udp"]), "{:,.0f}".format(r["tcp"]),
               "%d / %d" % (r["udp_queries"], r["tcp_queries"])]
        if unbound:
            row += ["%.2f" % (r["udp"] / unbound["udp"]), "%.2f" % (r["tcp"] / unbound["tcp"])]
        rows.append(row)
    lines.append(benchlib.markdown_table(header, rows))
    lines.append("")
    for key, value in info.items():
        lines.append("- %s: %s" % (key, value))
    for problem in bench.problems:
        lines.append("- **problem**: %s" % problem)
    return "\n".join(lines) + "\n"


def main(argv):
    args = parse_args(argv)
    first = args.dnsvagt.split(",")[0]
    args_for_versions = argparse.Namespace(**vars(args))
    args_for_versions.dnsvagt = first
    return benchlib.run_bench(args_for_versions, lambda _, d: Bench(args, d), "instructions-",
                              report)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
