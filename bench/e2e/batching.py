#!/usr/bin/python3
# Does batched UDP I/O (recvmmsg/sendmmsg, 32 datagrams per call) pay? Two dnsvagt builds,
# the normal one and one compiled with kUdpBatch = 1 (one datagram per call), under the same
# cache-hit load, alternating; reports QPS and server CPU per query of each and their ratio.
"""Usage: batching.py --dnsvagt PATH --unbatched PATH [--duration 8] [--rounds 3] [--out FILE]

Build the unbatched binary from a copy of the tree with
    sed -i 's/^constexpr int kUdpBatch = 32; /constexpr int kUdpBatch = 1; /' resolver/worker.cc
Loopback only; servers on CPU 1, dnsperf and the NSD on CPU 0 (as run.py).
"""

import argparse
import os
import sys
import tempfile

import benchlib


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dnsvagt", required=True)
    parser.add_argument("--unbatched", required=True)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out")
    args = parser.parse_args()
    benchlib.exit_on_sigterm()
    directory = tempfile.mkdtemp(prefix="dnsvagt-batching-")
    processes = benchlib.Processes()
    bench_world = benchlib.BenchWorld(os.path.join(directory, "world"))
    try:
        bench_world.start()
        benchlib.pin(bench_world.pids(), "0")
        queries = os.path.join(directory, "hit.txt")
        benchlib.write_queries(queries, benchlib.hit_queries(bench_world))
        servers = [benchlib.start_server(processes, bench_world, directory, name, "dnsvagt", "1",
                                         1, dnsvagt_bin=binary)
                   for name, binary in (("batched", args.dnsvagt),
                                        ("unbatched", args.unbatched))]
        results = {server.name: [] for server in servers}
        for round_number in range(args.rounds):
            for server in servers if round_number % 2 == 0 else reversed(servers):
                log = os.path.join(directory, "%s-%d.log" % (server.name, round_number))
                benchlib.warm(server, queries, log + ".warm", "0")
                run = benchlib.run_dnsperf(server, queries, log, "0", seconds=args.duration,
                                           timeout=1)
                results[server.name].append(run)
        rows = []
        summary = {}
        for name, runs in results.items():
            qps = benchlib.median([run["qps"] for run in runs])
            cpu = benchlib.median([run["server_cpu_s"] * 1e6 / run["completed"] for run in runs])
            share = benchlib.median([run["client_share"] for run in runs])
            summary[name] = (qps, cpu)
            rows.append([name, "%.0f" % qps, "%.2f" % cpu, "%.0f" % (share * 100)])
        text = "Cache hits, threads 1, %d rounds of %d s (medians)\n\n" % (args.rounds,
                                                                        args.duration)
        text += benchlib.markdown_table(["build", "QPS", "server CPU µs/query", "dnsperf CPU %"],
                                        rows)
        text += "\n\nbatched / unbatched: QPS %.2f, CPU per query %.2f\n" % (
            summary["batched"][0] / summary["unbatched"][0],
            summary["batched"][1] / summary["unbatched"][1])
        print(text)
        if args.out:
            with open(args.out, "w") as out:
                out.write(text)
    finally:
        processes.stop_all()
        bench_world.stop()


if __name__ == "__main__":
    sys.exit(main())
