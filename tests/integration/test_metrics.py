#!/usr/bin/python3
# Metrics integration test: dnsvagt on the signed test world answers a known mix of queries;
# /metrics must count each exactly, /compliance.json must judge from them, the query log must
# hold one correct line per reply, and server.rate_limit must drop (UDP) or refuse (TCP) what
# exceeds a client's budget.
"""Usage: test_metrics.py --dnsvagt PATH [--keep] [-k PATTERN]

(dnsvagt only: --reference has no metrics to check and skips every test.)
"""

import collections
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest
import urllib.request

import subject
import wire
import world
from dig import dig
from world import ADDRESSES

W = "world.test"
TIME_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class Env:
    env = None
    port = None          # the subject: default threads, query log, metrics
    metrics_port = None
    query_log = None


def http_get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as reply:
        return reply.read().decode()


def start(name, extra):
    """Starts dnsvagt with a metrics listener and the top-level config keys extra(port) gives
    (replacing the subject's); waits until /healthz answers. Returns (dns port, metrics port)."""
    directory = os.path.join(Env.env.directory, name)
    os.makedirs(os.path.join(directory, "lists"), exist_ok=True)
    metrics_port = world.free_port()

    def start_on(port):
        text = subject.dnsvagt_config(Env.env.world, directory, port, allow=["127.0.0.1/32"])
        keys = dict(extra(port), metrics={"listen": "127.0.0.1:%d" % metrics_port})
        lines = [line for line in text.splitlines() if line.split(":")[0] not in keys]
        lines += ["%s: %s" % (key, json.dumps(value)) for key, value in keys.items()]
        conf = os.path.join(directory, "dnsvagt.yaml")
        with open(conf, "w") as out:
            out.write("\n".join(lines) + "\n")
        daemon = world.Daemon(name, [subject.Options.dnsvagt, "-c", conf],
                              os.path.join(directory, "dnsvagt.log"))
        Env.env.daemons.append(daemon)
        deadline = time.monotonic() + 20
        while True:
            if not daemon.running():
                raise world.DaemonExited("%s exited:\n%s" % (name, daemon.log_tail()))
            try:
                http_get(metrics_port, "/healthz")
                return daemon
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    port, _ = world.on_free_port(start_on)
    return port, metrics_port


def setUpModule():
    if subject.Options.dnsvagt is None:
        raise unittest.SkipTest("metrics are dnsvagt's own")
    Env.env = subject.Environment()
    try:
        Env.env.start_world()
        Env.query_log = os.path.join(Env.env.directory, "subject", "query.log")
        Env.port, Env.metrics_port = start(
            "subject", lambda port: {"logging": {"query_log": Env.query_log}})
    except BaseException:
        Env.env.stop()
        raise


def tearDownModule():
    if Env.env is not None:
        Env.env.stop()


def samples(text):
    """{'name{labels}': value} of a Prometheus text scrape."""
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            values[key] = float(value)
    return values


class MetricsTest(unittest.TestCase):
    """One known mix of queries, then every view of it. The tests run in name order."""

    # (what, dig arguments or a raw packet sender, expected status)
    @classmethod
    def setUpClass(cls):
        secure = "www.secure." + W
        insecure = "www.insecure." + W
        bogus = "www.bogus." + W
        cls.replies = [
            dig(Env.port, secure),                           # miss, secure
            dig(Env.port, secure),                           # hit, secure
            dig(Env.port, secure, tcp=True),                 # hit, secure, TCP
            dig(Env.port, insecure),                         # miss, insecure
            dig(Env.port, insecure),                         # hit, insecure
            dig(Env.port, bogus),                            # miss, bogus: SERVFAIL
            dig(Env.port, secure, extra=("-b", "127.0.0.2")),  # not allowed: REFUSED
        ]
        # qdcount 2: FORMERR (a raw packet; dig cannot send it).
        packet = wire.header(4242, qd=2) + wire.question(secure)
        cls.formerr = wire.udp_exchange(Env.port, packet)
        time.sleep(0.1)  # the TCP connection's close reaches the server
        cls.scrape = http_get(Env.metrics_port, "/metrics")
        cls.values = samples(cls.scrape)

    def test_0_the_mix_was_answered_as_expected(self):
        statuses = [reply.status for reply in self.replies]
        self.assertEqual(statuses, ["NOERROR"] * 5 + ["SERVFAIL", "REFUSED"],
                         [reply.summary() for reply in self.replies])
        self.assertEqual(self.replies[0].rdata("A"), [ADDRESSES["www.secure"]])
        self.assertIsNotNone(self.formerr)
        self.assertEqual(wire.Reply(self.formerr, strict=False).rcode, "FORMERR")

    def assert_values(self, expected):
        for key, value in expected.items():
            self.assertEqual(self.values.get(key), value, key)

    def test_1_queries_and_responses(self):
        self.assert_values({
            'dnsvagt_queries_total{transport="udp"}': 7,
            'dnsvagt_queries_total{transport="tcp"}': 1,
            'dnsvagt_responses_total{rcode="NOERROR"}': 5,
            'dnsvagt_responses_total{rcode="SERVFAIL"}': 1,
            'dnsvagt_responses_total{rcode="REFUSED"}': 1,
            'dnsvagt_responses_total{rcode="FORMERR"}': 1,
            'dnsvagt_responses_total{rcode="NXDOMAIN"}': 0,
            "dnsvagt_query_duration_seconds_count": 8,
            "dnsvagt_query_log_dropped_total": 0,
            'dnsvagt_rate_limited_total{transport="udp"}': 0,
            'dnsvagt_rate_limited_total{transport="tcp"}': 0,
            "dnsvagt_tcp_connections": 0,
        })

    def test_2_dnssec_and_cache(self):
        self.assert_values({
            'dnsvagt_dnssec_answers_total{status="secure"}': 3,
            'dnsvagt_dnssec_answers_total{status="insecure"}': 2,
            'dnsvagt_dnssec_answers_total{status="bogus"}': 1,
            'dnsvagt_dnssec_answers_total{status="indeterminate"}': 0,
            'dnsvagt_cache_lookups_total{result="hit"}': 3,
            'dnsvagt_cache_lookups_total{result="miss"}': 3,
            "dnsvagt_dnssec_validation_enabled": 1,
        })
        self.assertGreaterEqual(self.values["dnsvagt_cache_entries"], 2)
        self.assertGreater(self.values["dnsvagt_cache_bytes"], 0)

    def test_3_build_info(self):
        build = [key for key in self.values if key.startswith("dnsvagt_build_info{")]
        self.assertEqual(len(build), 1, build)
        self.assertRegex(build[0], r'^dnsvagt_build_info\{version="[^"]+"\}$')
        self.assertEqual(self.values[build[0]], 1)

    def test_4_promtool_accepts_the_scrape(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool is not installed")
        result = subprocess.run([promtool, "check", "metrics"], input=self.scrape,
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_5_compliance_json(self):
        report = json.loads(http_get(Env.metrics_port, "/compliance.json"))
        dnssec = report["requirement_21_dnssec_validation"]
        self.assertEqual(dnssec["verdict"], "met", dnssec["reasons"])
        self.assertTrue(dnssec["validation_enabled"])
        self.assertEqual([(a["zone"], a["source"], a["loaded"]) for a in dnssec["trust_anchors"]],
                         [("world.test.", "config", True)])
        self.assertEqual(dnssec["answers"],
                         {"secure": 3, "insecure": 2, "bogus": 1, "indeterminate": 0})
        self.assertEqual(dnssec["validated_share"], 0.5)
        self.assertEqual([event["name"] for event in dnssec["recent_bogus"]],
                         ["www.bogus.world.test."])
        self.assertTrue(dnssec["recent_bogus"][0]["reason"])
        blocking = report["requirement_22_blocking"]
        self.assertEqual(blocking["verdict"], "at risk")
        self.assertEqual(blocking["reasons"], ["no block lists are configured"])

    def test_6_query_log_has_one_line_per_reply(self):
        deadline = time.monotonic() + 10
        while True:
            with open(Env.query_log) as log:
                lines = log.read().splitlines()
            if len(lines) >= 8 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        entries = [json.loads(line) for line in lines]
        self.assertEqual(len(entries), 8, lines)
        for entry in entries:
            self.assertEqual(sorted(entry), sorted(["time", "client", "transport", "name",
                                                    "type", "rcode", "dnssec", "list", "group",
                                                    "cache_hit", "latency_us"]))
            self.assertRegex(entry["time"], TIME_FORMAT)
            self.assertIsInstance(entry["latency_us"], int)
            self.assertIsNone(entry["list"])
            self.assertIsNone(entry["group"])  # no client groups configured
        # The mix, in any order: each query was answered before the next was sent, but two
        # workers' lines reach the log in the order their workers hand them over (a reply is
        # sent before its line is queued).
        secure, insecure, bogus = ("www.%s.world.test." % zone
                                   for zone in ("secure", "insecure", "bogus"))
        self.assertEqual(
            collections.Counter((e["client"], e["transport"], e["name"], e["type"], e["rcode"],
                                 e["dnssec"], e["cache_hit"]) for e in entries),
            collections.Counter([
                ("127.0.0.1", "udp", secure, "A", "NOERROR", "secure", False),
                ("127.0.0.1", "udp", secure, "A", "NOERROR", "secure", True),
                ("127.0.0.1", "tcp", secure, "A", "NOERROR", "secure", True),
                ("127.0.0.1", "udp", insecure, "A", "NOERROR", "insecure", False),
                ("127.0.0.1", "udp", insecure, "A", "NOERROR", "insecure", True),
                ("127.0.0.1", "udp", bogus, "A", "SERVFAIL", "bogus", False),
                ("127.0.0.2", "udp", secure, "A", "REFUSED", None, False),
                ("127.0.0.1", "udp", None, None, "FORMERR", None, False)]))


class RateLimitTest(unittest.TestCase):
    def test_over_limit_udp_is_dropped_and_tcp_refused_both_counted(self):
        # qps 1, burst 2 per client, one bucket over both workers.
        def config(port):
            return {"server": {"listen": ["127.0.0.1:%d" % port], "threads": 2,
                               "user": world.current_user(),
                               "allow": ["127.0.0.1/32", "127.0.0.2/32"],
                               "rate_limit": {"qps": 1, "burst": 2}}}
        port, metrics_port = start("limited", config)
        sent = 10
        with wire.udp_socket("127.0.0.2") as sock:
            sock.settimeout(1.0)
            for qid in range(sent):
                sock.sendto(wire.query(qid, W + ".", 6), ("127.0.0.1", port))
            udp_answered = 0
            try:
                while True:
                    sock.recv(65535)
                    udp_answered += 1
            except OSError:  # timeout: no more replies
                pass
        # The burst, plus at most one token if a second passed while sending.
        self.assertIn(udp_answered, (2, 3))

        # 127.0.0.1 over TCP, a connection per query: the kernel spreads them over both
        # workers, which must still meet one bucket. Every query gets an answer.
        queries = [wire.frame(wire.query(qid, W + ".", 6, edns={})) for qid in range(sent)]
        replies = [wire.Reply(reply) for [reply] in wire.tcp_batch(port, queries)]
        rcodes = [reply.rcode for reply in replies]
        tcp_answered = rcodes.count("NOERROR")
        self.assertIn(tcp_answered, (2, 3), rcodes)
        self.assertEqual(rcodes.count("REFUSED"), sent - tcp_answered, rcodes)
        for reply in replies:
            if reply.rcode == "REFUSED":
                self.assertEqual(reply.ede_codes(), [0])  # Other: "rate limited (...)"

        values = samples(http_get(metrics_port, "/metrics"))
        self.assertEqual(values['dnsvagt_queries_total{transport="udp"}'], sent)
        self.assertEqual(values['dnsvagt_queries_total{transport="tcp"}'], sent)
        self.assertEqual(values['dnsvagt_rate_limited_total{transport="udp"}'],
                         sent - udp_answered)
        self.assertEqual(values['dnsvagt_rate_limited_total{transport="tcp"}'],
                         sent - tcp_answered)
        self.assertEqual(values['dnsvagt_responses_total{rcode="NOERROR"}'],
                         udp_answered + tcp_answered)
        self.assertEqual(values['dnsvagt_responses_total{rcode="REFUSED"}'], sent - tcp_answered)


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
