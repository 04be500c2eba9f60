# Automatic list updates end to end: the list updater run by feed_probe, and by the dnsvagt
# binary itself, against real HTTP and HTTPS feed servers on 127.0.0.1 (feed_server.py).
"""Feed update tests.

    test_feeds.py [--probe PATH] [--dnsvagt PATH] [--keep] [-k PATTERN]

--probe: the feed_probe binary (also: env FEED_PROBE), for FeedTest; --dnsvagt: the dnsvagt
binary (also: env DNSVAGT_BIN), for DnsvagtFeedTest, which resolves through the test world
(world.py). A part whose binary is not given is skipped. Feeds are real lists from the shared
data (env DNSVAGT_SOURCE_DIR/../shared/data/feeds). Every wait is bounded; the test configs use
short refreshes and transfer timeouts.
"""

import argparse
import glob
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import subject
import wire
import world
from dig import dig

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("DNSVAGT_SOURCE_DIR", os.path.join(HERE, "..", ".."))
FEEDS = os.path.join(SOURCE_DIR, "..", "shared", "data", "feeds")
V1 = os.path.join(FEEDS, "hosts", "fademind_add.2o7Net_hosts.txt")
V2 = os.path.join(FEEDS, "hosts", "digitalside-osint_malware_hosts.txt")
SCALE = os.path.join(FEEDS, "scale", "hagezi_onlydomains_9lists_concat.txt")
V1_NAME = "smetrics.airbank.cz"   # in V1 only
V2_NAME = "10x45.com"             # in V2 only
PROBE_ARGS = ["--connect-timeout", "2", "--total-timeout", "10", "--low-speed-time", "3",
              "--first-retry-ms", "500"]


def leftovers(pattern, since):
    """Files matching `pattern` last written before `since` (a time.time()); files that vanish
    while being looked at are not left over."""
    found = []
    for path in glob.glob(pattern):
        try:
            if os.path.getmtime(path) < since:
                found.append(path)
        except FileNotFoundError:
            pass
    return found


class Options:
    probe = None
    dnsvagt = None
    keep = False


def wait_for(what, condition, timeout=30.0):
    """Polls condition() until it returns a true value (returned) or fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def write_file(path, data):
    """Replaces a file atomically (a feed server never serves half a version)."""
    with open(path + ".part", "wb") as f:
        f.write(data)
    os.replace(path + ".part", path)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_certificates(directory):
    """A test CA with a server certificate for 127.0.0.1, and a self-signed one outside it."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    paths = {name: os.path.join(directory, name) for name in
             ("ca.pem", "ca.key", "server.csr", "server.pem", "server.key", "self.pem",
              "self.key", "san.ext")}
    openssl("req", "-x509", *ec, "-keyout", paths["ca.key"], "-out", paths["ca.pem"],
            "-days", "2", "-subj", "/CN=dnsvagt feed test CA")
    openssl("req", *ec, "-keyout", paths["server.key"], "-out", paths["server.csr"],
            "-subj", "/CN=127.0.0.1")
    with open(paths["san.ext"], "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", paths["server.csr"], "-CA", paths["ca.pem"], "-CAkey",
            paths["ca.key"], "-CAcreateserial", "-out", paths["server.pem"], "-days", "2",
            "-extfile", paths["san.ext"])
    openssl("req", "-x509", *ec, "-keyout", paths["self.key"], "-out", paths["self.pem"],
            "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    return paths


class FeedServer:
    """feed_server.py in a subprocess; restartable on the same port."""

    def __init__(self, root, log, cert=None, key=None, ca=None, port=0):
        self.root, self.log, self.ca = root, log, ca
        command = [sys.executable, os.path.join(HERE, "feed_server.py"), "--root", root,
                   "--port", str(port)]
        if cert:
            command += ["--cert", cert, "--key", key]
        self.scheme = "https" if cert else "http"
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError("feed server did not start")
        self.port = int(line.split()[1])

    def url(self, path):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def control(self, what):
        context = ssl.create_default_context(cafile=self.ca) if self.ca else None
        with urllib.request.urlopen(self.url("/_control/" + what), timeout=5,
                                    context=context) as response:
            return response.read()

    def fault(self, path, mode, **params):
        query = "&".join(["path=" + path, "mode=" + mode] +
                         ["%s=%s" % item for item in params.items()])
        self.control("fault?" + query)

    def requests(self, path=None):
        return [r for r in json.loads(self.control("requests"))
                if path is None or r["path"] == path]

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()


class Probe:
    """feed_probe running a config's list updater; state() is its latest JSON state."""

    def __init__(self, directory, lists, checks, log):
        self.state_file = os.path.join(directory, "state.json")
        if os.path.exists(self.state_file):
            os.remove(self.state_file)
        self.config = os.path.join(directory, "dnsvagt.yaml")
        blocking = {"cache_dir": os.path.join(directory, "cache"), "lists": lists}
        with open(self.config, "w") as f:
            f.write("metrics: %s\nblocking: %s\n" % (json.dumps({"listen": ""}),
                                                      json.dumps(blocking)))
        command = [Options.probe, self.config, self.state_file] + PROBE_ARGS
        for name in checks:
            command += ["--check", name]
        self.process = subprocess.Popen(command, stdout=log, stderr=log)
        wait_for("the probe's first state", self.state, timeout=20)

    def state(self):
        if self.process.poll() is not None:
            raise AssertionError("feed_probe exited with %s" % self.process.returncode)
        try:
            with open(self.state_file) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def list(self, name):
        return next(l for l in self.state()["lists"] if l["name"] == name)

    def blocked_by(self, name):
        return self.state()["checks"][name]

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError("feed_probe did not stop on SIGTERM")


def feed(name, url, **settings):
    entry = {"name": name, "url": url, "refresh": "2s"}
    entry.update(settings)
    return entry


class FeedTest(unittest.TestCase):
    def setUp(self):
        if not Options.probe:
            self.skipTest("no --probe given")
        self.directory = tempfile.mkdtemp(prefix="dnsvagt_feeds_")
        self.root = os.path.join(self.directory, "www")
        os.mkdir(self.root)
        self.log = open(os.path.join(self.directory, "log.txt"), "w")
        self.servers = []
        self.probes = []
        self.v1_entries = None

    def tearDown(self):
        for probe in self.probes:
            if probe.process.poll() is None:
                probe.kill()
        for server in self.servers:
            server.stop()
        self.log.close()
        if Options.keep or sys.exc_info()[0]:
            print("kept " + self.directory)
        else:
            shutil.rmtree(self.directory, ignore_errors=True)

    def serve(self, path, source):
        write_file(os.path.join(self.root, path.lstrip("/")), read(source))

    def server(self, **kwargs):
        server = FeedServer(self.root, self.log, **kwargs)
        self.servers.append(server)
        return server

    def probe(self, lists, checks=(V1_NAME, V2_NAME)):
        probe = Probe(self.directory, lists, checks, self.log)
        self.probes.append(probe)
        return probe

    def wait_good(self, probe, name, check_name=V1_NAME):
        """Waits until list `name` is in use and blocks `check_name`; returns its status."""
        wait_for(name + " in use", lambda: probe.list(name)["available"] and
                 probe.state()["checks"][check_name] == name)
        return probe.list(name)

    def meta(self, name):
        text = read(os.path.join(self.directory, "cache", name + ".meta")).decode()
        return dict(line.split(" ", 1) for line in text.splitlines()[1:] if " " in line)

    # -- update, 304, validators, restart ----------------------------------------------------

    def test_update_conditional_requests_and_restart(self):
        self.serve("/feed.txt", V1)
        server = self.server()
        probe = self.probe([feed("feed", server.url("/feed.txt"))])
        status = self.wait_good(probe, "feed")
        wait_for("the policy", lambda: probe.state()["policy_entries"]["feed"] == status["entries"])
        publishes = probe.state()["publishes"]
        self.assertGreater(status["entries"], 1000)
        first = server.requests("/feed.txt")[0]
        self.assertTrue(first["user_agent"].startswith("dnsvagt/"), first)
        self.assertIn("gzip", first["accept_encoding"])
        self.assertIsNone(first["if_none_match"])

        # Unchanged: conditional requests get 304, each a successful check.
        wait_for("a 304", lambda: any(r["status"] == 304 for r in server.requests()))
        checked = [r for r in server.requests() if r["status"] == 304][0]
        self.assertEqual(checked["if_none_match"], status["etag"])
        self.assertTrue(checked["if_modified_since"])
        successes = probe.list("feed")["successes"]
        wait_for("another successful check", lambda: probe.list("feed")["successes"] > successes)
        self.assertEqual(probe.list("feed")["sha256"], status["sha256"])
        self.assertEqual(probe.state()["publishes"], publishes)  # a 304 rebuilds nothing

        # Changed: the new version replaces the old one.
        self.serve("/feed.txt", V2)
        wait_for("version 2", lambda: probe.blocked_by(V2_NAME) == "feed")
        self.assertIsNone(probe.blocked_by(V1_NAME))
        v2 = probe.list("feed")
        self.assertNotEqual(v2["etag"], status["etag"])
        self.assertEqual(read(os.path.join(self.directory, "cache", "feed.list")), read(V2))
        self.assertEqual(self.meta("feed")["etag"], v2["etag"])
        self.assertEqual(self.meta("feed")["sha256"], hashlib.sha256(read(V2)).hexdigest())
        probe.stop()

        # Restart: the list is in use from the cache at once, and the first request is
        # conditional with the stored validators.
        before = len(server.requests())
        probe = self.probe([feed("feed", server.url("/feed.txt"))])
        self.assertTrue(probe.list("feed")["available"])
        self.assertEqual(probe.blocked_by(V2_NAME), "feed")
        wait_for("a request after the restart", lambda: len(server.requests()) > before)
        after = server.requests()[before]
        self.assertEqual(after["if_none_match"], v2["etag"])
        wait_for("a 304 after the restart", lambda: server.requests()[before]["status"] == 304)
        probe.stop()

        # Restart with the feed server down: lists from disk, failures recorded.
        server.stop()
        probe = self.probe([feed("feed", server.url("/feed.txt"))])
        self.assertEqual(probe.blocked_by(V2_NAME), "feed")
        wait_for("a connect failure", lambda: probe.list("feed")["failures"]["connect"] >= 1)
        self.assertEqual(probe.blocked_by(V2_NAME), "feed")
        probe.stop()

        # A damaged cached copy is detected at start and fetched again.
        with open(os.path.join(self.directory, "cache", "feed.list"), "ab") as f:
            f.write(b"0.0.0.0 tampered.example.com\n")
        server = self.server(port=server.port)
        probe = self.probe([feed("feed", server.url("/feed.txt"))],
                           checks=(V2_NAME, "tampered.example.com"))
        self.assertEqual(probe.list("feed")["failures"]["io"], 1)
        wait_for("the refetched list", lambda: probe.blocked_by(V2_NAME) == "feed")
        self.assertIsNone(probe.blocked_by("tampered.example.com"))
        refetch = [r for r in server.requests() if r["path"] == "/feed.txt"][0]
        self.assertIsNone(refetch["if_none_match"])  # no validators of a copy not in use
        probe.stop()

    # -- faults: each keeps the last good version and records its reason ---------------------

    def test_faults_keep_the_last_good_version(self):
        certs = make_certificates(self.directory)
        main = self.server()
        refusing = self.server()
        https = self.server(cert=certs["server.pem"], key=certs["server.key"], ca=certs["ca.pem"])
        secure = self.server(cert=certs["server.pem"], key=certs["server.key"], ca=certs["ca.pem"])
        small = {"max_size": "256KiB"}
        trusted = {"ca_file": certs["ca.pem"]}
        pinned = {"sha256": hashlib.sha256(read(V1)).hexdigest()}
        cases = {  # list name: (server, fault mode, fault params, expected reason, extra config)
            "f404": (main, "404", {}, "http_status", {}),
            "f500": (main, "500", {}, "http_status", {}),
            "fhang": (main, "hang", {}, "timeout", {}),
            "fstall": (main, "stall", {}, "timeout", {}),
            "ftruncate": (main, "truncate", {}, "connect", {}),
            "fhtml": (main, "html", {}, "parse_budget", {}),
            "fempty": (main, "empty", {}, "too_small", {}),
            "fgarbage": (main, "garbage", {}, "parse_budget", {}),
            "fbig": (main, "big", {"size": 600000}, "too_large", small),
            "fchunked": (main, "big_chunked", {"size": 600000}, "too_large", small),
            "fshrink": (main, None, {}, "shrink", {}),
            "frefused": (refusing, None, {}, "connect", {}),
            "ftls": (https, None, {}, "tls", trusted),
            "fdowngrade": (secure, "redirect", {"to": main.url("/fdowngrade.txt")},
                           "insecure_redirect", trusted),
            "fpinned": (main, None, {}, "checksum", pinned),
        }
        lists = []
        for name, (server, _, _, _, extra) in cases.items():
            self.serve("/%s.txt" % name, V1)
            lists.append(feed(name, server.url("/%s.txt" % name), **extra))
        self.serve("/steady.txt", V1)
        lists.append(feed("steady", main.url("/steady.txt")))  # never faulted
        probe = self.probe(lists, checks=[V1_NAME])
        wait_for("every list in use", lambda: all(l["available"] and l["successes"] >= 1
                                                  for l in probe.state()["lists"]))
        good = {l["name"]: l for l in probe.state()["lists"]}
        steady_successes = good["steady"]["successes"]
        wait_for("the policy", lambda: all(probe.state()["policy_entries"][name] == l["entries"]
                                           for name, l in good.items()))
        self.assertEqual(len({l["sha256"] for l in good.values()}), 1)
        self.assertEqual(good["ftls"]["failures"]["tls"], 0)  # HTTPS with the test CA works

        for name, (server, mode, params, _, _) in cases.items():
            if mode:
                server.fault("/%s.txt" % name, mode, **params)
        lines = read(V1).splitlines(keepends=True)
        write_file(os.path.join(self.root, "fshrink.txt"), b"".join(lines[:len(lines) // 10]))
        write_file(os.path.join(self.root, "fpinned.txt"), read(V2))
        refusing.stop()
        https.stop()  # the same port again, with a certificate outside the CA file
        https = self.server(cert=certs["self.pem"], key=certs["self.key"], port=https.port)

        def reasons_seen():
            state = {l["name"]: l for l in probe.state()["lists"]}
            return all(state[name]["failures"][reason] >= 1
                       for name, (_, _, _, reason, _) in cases.items())
        try:
            wait_for("every fault's failure", reasons_seen, timeout=60)
        finally:
            for l in probe.state()["lists"]:
                print("%-10s last failure %s" % (l["name"], l["last_failure_reason"]))
        state = {l["name"]: l for l in probe.state()["lists"]}
        for name, (_, _, _, reason, _) in cases.items():
            with self.subTest(list=name):
                self.assertTrue(state[name]["available"])
                self.assertEqual(state[name]["sha256"], good[name]["sha256"])
                self.assertEqual(state[name]["entries"], good[name]["entries"])
                if name != "ftls":  # restarting its server may also refuse a connection
                    self.assertEqual(state[name]["failures"][reason],
                                     sum(state[name]["failures"].values()), state[name])
        # Lists are independent: hanging and stalled feeds did not hold up this one.
        self.assertGreater(state["steady"]["successes"], steady_successes)
        self.assertEqual(sum(state["steady"]["failures"].values()), 0)
        for name in ("fhtml", "fempty", "fgarbage", "fshrink"):
            self.assertTrue(os.path.exists(os.path.join(self.directory, "cache",
                                                        name + ".rejected")), name)
        self.assertEqual(read(os.path.join(self.directory, "cache", "fshrink.rejected")),
                         b"".join(lines[:len(lines) // 10]))
        # Nothing rejected was published: the policy holds every list's last good version.
        policy_entries = probe.state()["policy_entries"]
        for name, status in good.items():
            self.assertEqual(policy_entries[name], status["entries"], name)
        probe.stop()

    # -- kill -9 ---------------------------------------------------------------------------

    def test_kill_during_download(self):
        self.serve("/feed.txt", V1)
        server = self.server()
        lists = [feed("feed", server.url("/feed.txt"))]
        probe = self.probe(lists)
        status = self.wait_good(probe, "feed")
        self.serve("/feed.txt", V2)
        server.fault("/feed.txt", "stall")
        wait_for("a stalled download", lambda: any(r["fault"] == "stall"
                                                   for r in server.requests()))
        time.sleep(0.2)  # let the first half of the body arrive
        probe.kill()
        server.stop()
        probe = self.probe(lists)
        self.assertTrue(probe.list("feed")["available"])
        self.assertEqual(probe.list("feed")["sha256"], status["sha256"])
        self.assertEqual(probe.blocked_by(V1_NAME), "feed")
        self.assertEqual(probe.list("feed")["failures"]["io"], 0)
        probe.stop()

    def test_kill_during_cache_write(self):
        """Kills the probe while it writes a large new version, at several points: while it
        downloads it into the cache directory (feed.incoming.tmp, also judged from there), and
        at the steps of the save."""
        cache = os.path.join(self.directory, "cache")
        self.serve("/feed.txt", V1)
        server = self.server()
        lists = [feed("feed", server.url("/feed.txt"), max_shrink=1.0)]
        versions = {hashlib.sha256(read(V1)).hexdigest(), hashlib.sha256(read(SCALE)).hexdigest()}
        probe = self.probe(lists)
        self.wait_good(probe, "feed")
        caught = []
        # Each round serves the other version, and kills when the save reaches `marker`.
        for marker, source in (("feed.incoming.tmp", SCALE), ("feed.list.new", V1),
                               ("feed.meta.tmp", SCALE), ("feed.incoming.tmp", V1)):
            self.serve("/feed.txt", source)
            wanted = hashlib.sha256(read(source)).hexdigest()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if os.path.exists(os.path.join(cache, marker)):
                    probe.kill()
                    caught.append(marker)
                    break
                if probe.list("feed")["sha256"] == wanted:
                    print("round %s: saved before %s was seen" % (source, marker))
                    break  # no kill this round
            if probe.process.poll() is None:
                probe.stop()
            restarted = time.time()
            probe = self.probe(lists)
            status = probe.list("feed")
            self.assertTrue(status["available"], status)
            self.assertIn(status["sha256"], versions)
            self.assertEqual(status["failures"]["io"], 0, status)
            # No temp file of the killed save is left; the new probe may already be saving its
            # own next version, whose temp files are younger than its start.
            self.assertEqual(leftovers(os.path.join(cache, "*.tmp"), restarted), [])
        print("killed during the save at: %s" % ", ".join(caught))
        self.assertIn("feed.incoming.tmp", caught)  # the long download and check are always seen
        probe.stop()


# -- the dnsvagt binary (issue 4) ----------------------------------------------------------

W = world.PARENT
DNS_FEED = V1           # "0.0.0.0 NAME" lines only, every name once
DNS_SAMPLES = 5
EDE_BLOCKED = 15


def hosts_names(path):
    """The names of a hosts file's "ADDRESS NAME" lines, in file order."""
    names = []
    for line in read(path).decode().splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            names.append(fields[1].lower().rstrip("."))
    return names


def strict_parents(name):
    labels = name.split(".")
    return {".".join(labels[i:]) for i in range(1, len(labels))}


def metric_samples(text):
    """{(metric name, frozenset of label pairs): value} of a Prometheus text scrape."""
    values = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, value = line.rsplit(" ", 1)
        name, _, labels = key.partition("{")
        pairs = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels))
        values[(name, pairs)] = float(value)
    return values


def ede_options(reply):
    """(INFO-CODE, EXTRA-TEXT) of every EDE option of a wire.Reply."""
    found = []
    options = reply.opt[4] if reply.opt else b""
    while len(options) >= 4:
        code, length = struct.unpack("!HH", options[:4])
        body = options[4:4 + length]
        if code == 15 and length >= 2:
            found.append((struct.unpack("!H", body[:2])[0], body[2:].decode(errors="replace")))
        options = options[4 + length:]
    return found


def blocked_text(name):
    return "blocked by list feed (entry %s)" % name


def http_get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as reply:
        return reply.read().decode()


class DnsvagtFeedTest(unittest.TestCase):
    """dnsvagt with one hosts feed from feed_server.py, forwarding to the test world: blocks
    the feed's names, counts updates and their failures in /metrics and /compliance.json,
    keeps the last good version through faults, and blocks from its cached copy at a restart
    with the feed server gone. The tests run in name order, each from the state the previous
    one left."""

    directory = None
    world = None
    feed_server = None
    daemon = None
    port = None
    metrics_port = None

    @classmethod
    def setUpClass(cls):
        if not Options.dnsvagt:
            raise unittest.SkipTest("no --dnsvagt given")
        cls.directory = tempfile.mkdtemp(prefix="dnsvagt_feeds_binary_")
        cls.log = open(os.path.join(cls.directory, "log.txt"), "w")
        try:
            cls.names = hosts_names(DNS_FEED)
            listed = set(cls.names)
            cls.entries = len(listed)
            head = set(cls.names[:len(cls.names) // 10])  # what the shrunk version keeps
            # Names the shrunk version would drop and no other entry covers: if a bad version
            # were published they would no longer be blocked.
            candidates = sorted(n for n in set(cls.names) - head
                                if not strict_parents(n) & listed)
            cls.samples = random.Random(20251128).sample(candidates, DNS_SAMPLES)
            cls.conf_dir = os.path.join(cls.directory, "dnsvagt")
            os.makedirs(os.path.join(cls.conf_dir, "lists"))
            cls.root = os.path.join(cls.directory, "www")
            os.makedirs(cls.root)
            write_file(os.path.join(cls.root, "feed.txt"), read(DNS_FEED))
            cls.world = world.World(os.path.join(cls.directory, "world")).start()
            cls.feed_server = FeedServer(cls.root, cls.log)
            cls.start_dnsvagt(wait=True)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.daemon is not None:
            cls.daemon.stop()
        if cls.feed_server is not None:
            cls.feed_server.stop()
        if cls.world is not None:
            cls.world.stop()
        if cls.directory is not None:
            cls.log.close()
            if Options.keep:
                print("kept " + cls.directory)
            else:
                shutil.rmtree(cls.directory, ignore_errors=True)

    @classmethod
    def start_dnsvagt(cls, wait):
        """Starts dnsvagt on free ports (the same ones again at a restart); with `wait`, returns
        once it answers, else at once."""
        url = cls.feed_server.url("/feed.txt")
        cls.metrics_port = cls.metrics_port or world.free_port()

        def start(port):
            config = subject.dnsvagt_settings(cls.world, cls.conf_dir, port)
            config["blocking"]["lists"] = [feed("feed", url)]
            config["metrics"] = {"listen": "127.0.0.1:%d" % cls.metrics_port}
            conf = os.path.join(cls.conf_dir, "dnsvagt.yaml")
            with open(conf, "w") as out:
                out.write(subject.config_text(config))
            command = [Options.dnsvagt, "-c", conf]
            log = os.path.join(cls.conf_dir, "dnsvagt.log")
            if wait:
                return world.start_answering("dnsvagt", command, log, port)
            return world.Daemon("dnsvagt", command, log)

        if cls.port is None:
            cls.port, cls.daemon = world.on_free_port(start)
        else:
            cls.daemon = start(cls.port)

    def tearDown(self):
        self.assertTrue(self.daemon.running(), "dnsvagt exited with %s:\n%s"
                        % (self.daemon.process.returncode, self.daemon.log_tail()))

    def metrics(self):
        return metric_samples(http_get(self.metrics_port, "/metrics"))

    def metric(self, name, **labels):
        return self.metrics().get((name, frozenset(labels.items())))

    def failures(self, reason):
        return self.metric("dnsvagt_list_update_failures_total", list="feed", reason=reason) or 0

    def compliance(self):
        return json.loads(http_get(self.metrics_port, "/compliance.json"))[
            "requirement_22_blocking"]

    def feed_status(self, blocking):
        return next(l for l in blocking["lists"] if l["name"] == "feed")

    def assert_blocked(self, name):
        result = dig(self.port, name + ".")
        self.assertEqual((result.status, result.ede), ("NXDOMAIN", [EDE_BLOCKED]),
                         "%s: %s" % (name, result.summary()))
        self.assertIn("(%s)" % blocked_text(name), result.output)

    def wait_blocked(self, name):
        wait_for("%s blocked" % name,
                 lambda: EDE_BLOCKED in dig(self.port, name + ".").ede, timeout=30)

    def test_1_feed_names_blocked_and_unlisted_names_resolve(self):
        self.wait_blocked(self.samples[0])
        for name in self.samples:
            self.assert_blocked(name)
        resolved = dig(self.port, "www.secure.%s." % W)
        self.assertEqual((resolved.status, resolved.rdata("A"), resolved.ede),
                         ("NOERROR", [world.ADDRESSES["www.secure"]], []), resolved.summary())

    def test_2_metrics_and_compliance_of_a_good_list(self):
        self.assertEqual(self.metric("dnsvagt_list_entries", list="feed"), self.entries)
        self.assertGreater(self.metric("dnsvagt_list_last_success_timestamp_seconds",
                                       list="feed"), 0)
        # Met while updates succeed (a 304 every refresh is a success).
        def met():
            blocking = self.compliance()
            return blocking if blocking["verdict"] == "met" else None
        blocking = wait_for("requirement 22 met", met, timeout=15)
        self.assertEqual(blocking["reasons"], [])
        status = self.feed_status(blocking)
        self.assertEqual((status["kind"], status["format"], status["entries"], status["failing"]),
                         ("block", "auto", self.entries, False), status)
        self.assertEqual(status["source"], self.feed_server.url("/feed.txt"))
        self.assertEqual(status["refresh_seconds"], 2)
        self.assertGreaterEqual(status["blocked"], DNS_SAMPLES)

    def test_3_http_500_counted_and_the_list_kept(self):
        before = self.failures("http_status")
        self.feed_server.fault("/feed.txt", "500")
        try:
            wait_for("an http_status failure", lambda: self.failures("http_status") > before)
        finally:
            self.feed_server.fault("/feed.txt", "none")
        self.assert_blocked(self.samples[0])
        self.assertEqual(self.metric("dnsvagt_list_entries", list="feed"), self.entries)

    def test_4_shrunk_version_rejected_and_the_list_kept(self):
        before = self.failures("shrink")
        lines = read(DNS_FEED).splitlines(keepends=True)
        write_file(os.path.join(self.root, "feed.txt"), b"".join(lines[:len(lines) // 10]))
        wait_for("a shrink failure", lambda: self.failures("shrink") > before)
        for name in self.samples:
            self.assert_blocked(name)
        self.assertEqual(self.metric("dnsvagt_list_entries", list="feed"), self.entries)
        blocking = self.compliance()
        status = self.feed_status(blocking)
        self.assertEqual((status["entries"], status["failing"], status["last_failure_reason"]),
                         (self.entries, True, "shrink"), status)
        self.assertEqual(blocking["verdict"], "at risk")
        self.assertIn("every block list is empty or its last update failed", blocking["reasons"])

    def test_5_restart_without_the_feed_server_blocks_from_the_first_query(self):
        cls = type(self)
        cls.daemon.stop()
        cls.feed_server.stop()
        cls.start_dnsvagt(wait=False)
        name = self.samples[0]
        # The first reply of any kind to the blocked name, polled from the moment the process
        # starts. Not blocked, it would be SERVFAIL (the world's NSD refuses names outside
        # world.test.), never NXDOMAIN with EDE 15.
        qid = 0x4242
        packet = wire.query(qid, name, edns={"udp_size": 1232})
        deadline = time.monotonic() + 30
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.05)
            while True:
                self.assertTrue(self.daemon.running(), self.daemon.log_tail())
                self.assertLess(time.monotonic(), deadline, "no reply to %s" % name)
                sock.sendto(packet, ("127.0.0.1", self.port))
                try:
                    reply = wire.Reply(sock.recv(65535))
                except (socket.timeout, ConnectionRefusedError):
                    continue
                if reply.id == qid:
                    break
        self.assertEqual((reply.rcode, ede_options(reply)),
                         ("NXDOMAIN", [(EDE_BLOCKED, blocked_text(name))]),
                         "the first reply after the restart")
        for sample in self.samples:
            self.assert_blocked(sample)
        self.assertEqual(self.metric("dnsvagt_list_entries", list="feed"), self.entries)
        wait_for("a connect failure", lambda: self.failures("connect") >= 1)
        self.assert_blocked(name)
        resolved = dig(self.port, "www.secure.%s." % W)
        self.assertEqual(resolved.rdata("A"), [world.ADDRESSES["www.secure"]],
                         resolved.summary())
        status = self.feed_status(self.compliance())
        self.assertEqual((status["entries"], status["failing"]), (self.entries, True),
                         status)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--probe", default=os.environ.get("FEED_PROBE"))
    parser.add_argument("--dnsvagt", default=os.environ.get("DNSVAGT_BIN"))
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("-k", dest="patterns", action="append",
                        help="only tests whose name contains this")
    args = parser.parse_args()
    if not args.probe and not args.dnsvagt:
        parser.error("give --probe PATH (or FEED_PROBE) and/or --dnsvagt PATH (or DNSVAGT_BIN)")
    Options.probe = args.probe and os.path.abspath(args.probe)
    Options.dnsvagt = args.dnsvagt and os.path.abspath(args.dnsvagt)
    Options.keep = args.keep
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = ["*%s*" % p for p in args.patterns]
    suite = loader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)
    return subject.summarize(result)


if __name__ == "__main__":
    sys.exit(main())
