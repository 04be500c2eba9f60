#!/usr/bin/python3
# What one full TLS handshake costs dnsvagt's DoT or DoH listener and the Unbound daemon's,
# counted rather than timed: CPU ticks resolve a 3 % difference only over many thousands of
# handshakes on a quiet machine, counts repeat on a busy one.
"""System calls (strace) or user-space instructions (callgrind) per full TLS handshake of
dnsvagt and the Unbound daemon, in one run, on the handshakes phase of dot.py / doh.py.

    handshake_costs.py --transport dot|doh --tool strace|callgrind [--dnsvagt PATH]
                       [--handshakes 1000] [--out FILE]

Each server runs under the tool. After the warm-up, HANDSHAKES new connections are made one
at a time (a full handshake each, no resumption) and each does the transport's one exchange
(doh.py: ALPN h2, preface, SETTINGS, one GET; dot.py: one query). strace: the system calls
the server made from the first handshake to the last, by name, divided by HANDSHAKES.
callgrind: instrumentation is on only during the handshakes; the instructions by shared
object (self cost), divided by HANDSHAKES. Kernel work is in neither: strace shows how often
the server enters the kernel, callgrind what it does outside it.
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import time

import benchlib
import instructions
import tls_bench


def transport_named(name):
    if name == "doh":
        import doh
        return doh.DohTransport()
    import dot
    return dot.DotTransport()


class Bench(tls_bench.Bench):
    transport = None  # set by main()

    def server_wrapper(self, kind):
        if self.args.tool == "strace":
            return ["strace", "-f", "-qq", "-o", self.trace_path(kind)]
        os.makedirs(self.trace_path(kind), exist_ok=True)
        return ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                "--callgrind-out-file=%s/callgrind.out.%%p" % self.trace_path(kind)]

    def trace_path(self, kind):
        """strace's output file, or callgrind's directory."""
        return os.path.join(self.directory, "%s.%s" % (kind, self.args.tool))

    def measure(self):
        self.costs = {}
        for server in self.servers:
            path = self.trace_path(server.name)
            if self.args.tool == "strace":
                with open(path) as trace:
                    start = sum(1 for _ in trace)
                self.handshakes(server, self.args.handshakes)
                time.sleep(0.5)  # the server's last close
                with open(path) as trace:
                    lines = trace.read().splitlines()[start:]
                self.costs[server.name] = system_calls(lines)
            else:
                instructions.callgrind_control(server.pid, "--zero")
                instructions.callgrind_control(server.pid, "--instr=on")
                self.handshakes(server, self.args.handshakes)
                time.sleep(0.5)
                instructions.callgrind_control(server.pid, "--instr=off")
                instructions.callgrind_control(server.pid, "--dump=handshakes")
                instructions.dumped_instructions(path, server.pid, 1)
                self.costs[server.name] = instructions_by_object(
                    os.path.join(path, "callgrind.out.%d.1" % server.pid))


def system_calls(lines):
    """Counter of system call names in strace -f lines ("PID name(args) = result"); the
    "<... name resumed>" halves of calls strace saw interrupted are not counted twice."""
    calls = collections.Counter()
    for line in lines:
        match = re.match(r"\d+\s+([a-z_0-9]+)\(", line)
        if match:
            calls[match.group(1)] += 1
    return calls


def instructions_by_object(path):
    """Counter of self instructions by shared object of a callgrind dump (name compression
    and the inclusive cost lines after calls= are handled; only the Ir event is counted)."""
    names = {}
    by_object = collections.Counter()
    current = None
    skip_next_cost = False
    for line in open(path):
        if line.startswith(("ob=", "cob=")):
            match = re.match(r"c?ob=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
            if match.group(2) is not None:
                names[match.group(1)] = match.group(2)
            if line.startswith("ob="):
                current = names[match.group(1)]
        elif line.startswith("calls="):
            skip_next_cost = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if skip_next_cost:
                skip_next_cost = False
            else:
                by_object[os.path.basename(current)] += int(line.split()[-1])
    return by_object


def report(bench, info):
    args = bench.args
    per = args.handshakes
    unit = "system calls" if args.tool == "strace" else "instructions"
    names = [server.name for server in bench.servers]
    totals = {name: sum(bench.costs[name].values()) / per for name in names}
    keys = sorted({key for name in names for key in bench.costs[name]},
                  key=lambda key: -max(bench.costs[name][key] for name in names))
    shown = [key for key in keys if max(bench.costs[n][key] for n in names) / per >= 0.05]
    text = ("%s, %d full TLS handshakes per server, one at a time; %s per handshake (%s)\n\n"
            % (bench.transport.title, per, unit, args.tool))
    rows = [[key] + [fmt_cost(bench.costs[name][key] / per, args.tool) for name in names]
            for key in shown]
    rows.append(["**total**"] + ["**%s**" % fmt_cost(totals[name], args.tool)
                                 for name in names])
    text += benchlib.markdown_table([unit[:-1] if args.tool == "strace" else "object"] + names,
                                    rows)
    if "dnsvagt" in totals and "unbound" in totals:
        text += "\n\ndnsvagt / Unbound: %.2f\n" % (totals["dnsvagt"] / totals["unbound"])
    text += "\n" + "".join("- %s: %s\n" % item for item in info.items())
    if bench.problems:
        text += "\nProblems:\n" + "".join("- %s\n" % p for p in bench.problems)
    return text


def fmt_cost(value, tool):
    return "%.2f" % value if tool == "strace" else "{:,.0f}".format(value)


def main(argv):
    chooser = argparse.ArgumentParser(add_help=False)
    chooser.add_argument("--transport", choices=("dot", "doh"), default="doh")
    transport = transport_named(chooser.parse_known_args(argv[1:])[0].transport)

    def more_arguments(parser):
        parser.add_argument("--transport", choices=("dot", "doh"), default="doh")
        parser.add_argument("--tool", choices=("strace", "callgrind"), default="strace")

    args = tls_bench.parse_args(argv, __doc__, transport, more_arguments)
    bench = type("Bench", (Bench,), {"transport": transport})
    return benchlib.run_bench(args, bench, "dnsvagt-handshakes-", report)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
