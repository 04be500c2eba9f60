#!/usr/bin/python3
# Blocklist filtering end to end (issue 3): dnsvagt on the test world with one real feed of each
# format, every blocking.action and RPZ action, allow over block, CNAME cloaking across list
# changes with a warm cache, and `dnsvagt lookup`.
"""dnsvagt blocks names from hosts, domains, AdBlock and RPZ lists; see the module comment.

Blocked names are answered locally; every other name is forwarded to the test world's NSD
only, so no query ever leaves the machine.  Run: test_blocking.py --dnsvagt PATH
"""

import os
import random
import re
import signal
import subprocess
import sys
import time
import unittest

import subject
import world
from dig import dig

FEEDS = os.path.join(os.environ.get("DNSVAGT_SOURCE_DIR",
                                    os.path.join(os.path.dirname(__file__), "..", "..")),
                     "..", "shared", "data", "feeds")
# One real feed per format: list name -> (format, file under FEEDS).
FEED_LISTS = {
    "hosts": ("hosts", "hosts/digitalside-osint_malware_hosts.txt"),
    "domains": ("domains", "domains/kadhosts_KADomains.txt"),
    "adblock": ("adblock", "adblock/hagezi_tif.mini_adblock.txt"),
    "rpz": ("rpz", "rpz/hagezi_fake_rpz.txt"),
}
SAMPLES_PER_LIST = 20
NAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
EDE_TEXT = re.compile(r"^; EDE: 15 \(Blocked\): \((.*)\)$", re.M)
W = world.PARENT

# The test's own lists (files it changes while dnsvagt runs).
LOCAL_BLOCK = ["wild.%s" % W, "blocked.%s" % W]
TRACKER = "tracker.insecure.%s" % W       # cloaked.insecure is a CNAME to it
CLOAKED = "cloaked.insecure.%s." % W
ALLOW = ["www.wild.%s" % W]
RPZ = """$TTL 300
@ SOA localhost. root.localhost. 1 3600 600 86400 300
drop.rpz.{w} CNAME rpz-drop.
local.rpz.{w} A 192.0.2.99
local.rpz.{w} AAAA 2001:db8::99
nodata.rpz.{w} CNAME *.
pass.wild.{w} CNAME rpz-passthru.
""".format(w=W)

env = None


def feed_candidates(fmt, path):
    """(block names, allow names) of a feed, parsed simply: only plain exact-name rules."""
    block, allow = set(), set()
    with open(path, errors="replace") as feed:
        for line in feed:
            line = line.strip()
            name = None
            if fmt == "hosts":
                fields = line.split()
                if len(fields) >= 2 and fields[0] in ("0.0.0.0", "127.0.0.1"):
                    name = fields[1]
            elif fmt == "domains":
                name = line
            elif fmt == "adblock":
                match = re.match(r"^(@@)?\|\|([^/^$*|]+)\^$", line)
                if match:
                    (allow if match.group(1) else block).add(match.group(2).lower())
            elif fmt == "rpz":
                fields = line.split()
                if len(fields) == 3 and fields[1:] == ["CNAME", "."]:
                    name = fields[0]
            if name is not None:
                name = name.lower().rstrip(".")
                # Not an IPv4 address, which a parser ignores where a name belongs.
                if NAME.match(name) and not name.rsplit(".", 1)[1].isdigit() \
                        and not name.startswith("localhost"):
                    block.add(name)
    return block, allow


def parents(name):
    labels = name.split(".")
    return {".".join(labels[i:]) for i in range(len(labels))}


def sample_feed_names():
    """list name -> names only that list blocks exactly (none under an allow rule)."""
    candidates = {}
    allowed = set()
    for list_name, (fmt, relative) in FEED_LISTS.items():
        block, allow = feed_candidates(fmt, os.path.join(FEEDS, relative))
        candidates[list_name] = block
        allowed |= allow
    rng = random.Random(20251128)
    samples = {}
    for list_name, names in candidates.items():
        others = set().union(*(n for other, n in candidates.items() if other != list_name))
        usable = sorted(n for n in names if n not in others and not (parents(n) & allowed))
        samples[list_name] = rng.sample(usable, min(SAMPLES_PER_LIST, len(usable)))
    return samples


def ede_text(result):
    match = EDE_TEXT.search(result.output)
    return match.group(1) if match else None


def write(path, text):
    # Via a new file and rename: the list updater never sees half a file.
    with open(path + ".new", "w") as out:
        out.write(text)
    os.replace(path + ".new", path)


def config_text(port, conf_dir, blocking, metrics_port):
    config = subject.dnsvagt_settings(env.world, conf_dir, port)
    config["blocking"].update(blocking)
    config["metrics"] = {"listen": "%s:%d" % (world.LOOPBACK, metrics_port)}
    config["logging"] = {"query_log": os.path.join(conf_dir, "queries.jsonl")}
    return subject.config_text(config)


class Instance:
    """One dnsvagt with its own config directory; reconfigure() rewrites it and sends SIGHUP."""

    def __init__(self, name, blocking):
        self.conf_dir = os.path.join(env.directory, name)
        os.makedirs(os.path.join(self.conf_dir, "lists"), exist_ok=True)
        self.conf = os.path.join(self.conf_dir, "dnsvagt.yaml")
        self.query_log = os.path.join(self.conf_dir, "queries.jsonl")
        self.metrics_port = world.free_port()
        self.name = name
        self.port, self.daemon = world.on_free_port(lambda port: self.start(port, blocking))
        env.daemons.append(self.daemon)

    def start(self, port, blocking):
        self.port = port
        self.write_config(blocking)
        return world.start_answering(self.name, [subject.Options.dnsvagt, "-c", self.conf],
                                     os.path.join(self.conf_dir, "dnsvagt.log"), port,
                                     timeout=60)

    def write_config(self, blocking):
        blocking = dict(blocking, cache_dir=os.path.join(self.conf_dir, "lists"))
        with open(self.conf, "w") as out:
            out.write(config_text(self.port, self.conf_dir, blocking, self.metrics_port))

    def reconfigure(self, blocking):
        self.write_config(blocking)
        os.kill(self.daemon.pid, signal.SIGHUP)

    def dig(self, name, qtype="A", **kwargs):
        return dig(self.port, name, qtype, **kwargs)

    def metric(self, name, **labels):
        return world.scraped_metric(self.metrics_port, name, **labels)

    def logged(self, name, timeout=10):
        """The query log lines for `name` (written by a thread: waits until there is one)."""
        return subject.logged_lines(self.query_log, name, timeout)

    def wait_for(self, test, name, qtype, predicate, what, timeout=20):
        """Polls `name` until predicate(result) holds (a reload or a list change is applied)."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.dig(name, qtype)
            if predicate(result):
                return result
            if time.monotonic() > deadline:
                test.fail("%s %s: still not %s after %ds: %s\n%s"
                          % (name, qtype, what, timeout, result.summary(),
                             self.daemon.log_tail()))
            time.sleep(0.3)


def blocked_nx(result):
    return result.status == "NXDOMAIN" and 15 in result.ede


main = None      # feeds + local block, allow and RPZ lists
samples = None


def setUpModule():
    global env, main, samples
    env = subject.Environment.with_world("the reference Unbound has no blocklists")
    samples = sample_feed_names()
    lists_dir = os.path.join(env.directory, "local-lists")
    os.makedirs(lists_dir)
    write(os.path.join(lists_dir, "block.txt"), "\n".join(LOCAL_BLOCK + [TRACKER]) + "\n")
    write(os.path.join(lists_dir, "allow.txt"), "\n".join(ALLOW) + "\n")
    write(os.path.join(lists_dir, "rpz.txt"), RPZ)
    lists = [{"name": name, "file": os.path.join(FEEDS, relative), "format": fmt}
             for name, (fmt, relative) in FEED_LISTS.items()]
    lists.append({"name": "local", "file": os.path.join(lists_dir, "block.txt")})
    lists.append({"name": "local-rpz", "file": os.path.join(lists_dir, "rpz.txt"),
                  "format": "rpz"})
    main = Instance("main", {"lists": lists, "ttl": 600, "allow": [
        {"name": "exceptions", "file": os.path.join(lists_dir, "allow.txt")}]})
    main.lists_dir = lists_dir


class FeedListsTest(unittest.TestCase):
    def tearDown(self):
        env.check_alive(self)

    def test_sampled_entries_of_every_format_are_blocked_naming_the_list(self):
        for list_name, names in samples.items():
            self.assertEqual(len(names), SAMPLES_PER_LIST, list_name)
            for name in names:
                with self.subTest(list=list_name, name=name):
                    result = main.dig(name + ".")
                    self.assertTrue(blocked_nx(result), result.summary())
                    self.assertEqual(ede_text(result),
                                     "blocked by list %s (entry %s)"
                                     % (list_name, "|%s^" % name if list_name == "rpz" else name))
                    self.assertFalse(result.ad)

    def test_nxdomain_carries_soa_with_blocking_ttl(self):
        result = main.dig("x.blocked.%s." % W)
        self.assertTrue(blocked_nx(result), result.summary())
        self.assertRegex(result.output, r"\nblocked\.%s\.\s+600\s+IN\s+SOA\s+localhost\. "
                         r"nobody\.invalid\. 1 3600 600 86400 600\n" % re.escape(W))

    def test_unlisted_names_resolve(self):
        for name, address in (("www.secure", "192.0.2.10"), ("www.insecure", "192.0.2.20")):
            result = main.dig("%s.%s." % (name, W))
            self.assertEqual(result.status, "NOERROR", result.summary())
            self.assertEqual(result.rdata("A"), [address])
            self.assertEqual(result.ede, [])

    def test_allow_list_wins_over_block(self):
        allowed = main.dig("www.wild.%s." % W)
        self.assertEqual(allowed.status, "NOERROR", allowed.summary())
        self.assertEqual(allowed.rdata("A"), ["192.0.2.81"])
        self.assertEqual(allowed.ede, [])
        blocked = main.dig("other.wild.%s." % W)
        self.assertTrue(blocked_nx(blocked), blocked.summary())
        self.assertEqual(ede_text(blocked), "blocked by list local (entry wild.%s)" % W)

    def test_rpz_actions_take_precedence(self):
        blocked_before = main.metric("dnsvagt_blocked_queries_total", list="local-rpz")
        dropped = main.dig("drop.rpz.%s." % W)
        self.assertIsNone(dropped.status, dropped.summary())
        # No reply, but the query counts as blocked and is in the query log (requirement 16).
        logged = main.logged("drop.rpz.%s." % W)
        self.assertTrue(logged, "no query log line for the dropped query")
        self.assertEqual({(line["rcode"], line["list"]) for line in logged},
                         {("DROPPED", "local-rpz")})
        self.assertEqual(main.metric("dnsvagt_blocked_queries_total", list="local-rpz") -
                         blocked_before, len(logged))
        local = main.dig("local.rpz.%s." % W)
        self.assertEqual(local.status, "NOERROR", local.summary())
        self.assertEqual(local.rdata("A"), ["192.0.2.99"])
        self.assertEqual(local.ede, [15])
        self.assertEqual(main.dig("local.rpz.%s." % W, "AAAA").rdata("AAAA"), ["2001:db8::99"])
        nodata = main.dig("nodata.rpz.%s." % W)
        self.assertEqual(nodata.status, "NOERROR", nodata.summary())
        self.assertEqual(nodata.answer, [])
        self.assertEqual(nodata.ede, [15])
        # passthru allows a name the local list blocks (wild.world.test and below).
        passed = main.dig("pass.wild.%s." % W)
        self.assertEqual(passed.status, "NOERROR", passed.summary())
        self.assertEqual(passed.rdata("A"), [world.ADDRESSES["wild"]])


class CnameCloakingTest(unittest.TestCase):
    """The cached answer of cloaked.insecure (CNAME tracker.insecure) follows list changes."""

    def tearDown(self):
        env.check_alive(self)

    def test_cname_target_on_a_list_blocks_the_cached_answer_as_the_list_changes(self):
        block_file = os.path.join(main.lists_dir, "block.txt")
        blocked = main.dig(CLOAKED)
        self.assertTrue(blocked_nx(blocked), blocked.summary())
        self.assertEqual(ede_text(blocked), "blocked by list local (entry %s) via CNAME target "
                                            "%s." % (TRACKER, TRACKER))
        # The target itself is blocked too, of course.
        self.assertTrue(blocked_nx(main.dig(TRACKER + ".")))

        write(block_file, "\n".join(LOCAL_BLOCK) + "\n")
        resolved = main.wait_for(self, CLOAKED, "A", lambda r: r.status == "NOERROR",
                                 "resolved once the target left the list")
        self.assertEqual(resolved.rdata("A"), [world.ADDRESSES["tracker.insecure"]])
        self.assertEqual(resolved.ede, [])
        # From the cache (stored when the blocked query was resolved): the TTL has aged.
        ttls = [int(fields[1]) for fields in resolved.answer]
        self.assertTrue(all(ttl < world.TTL for ttl in ttls), resolved.summary())

        write(block_file, "\n".join(LOCAL_BLOCK + [TRACKER]) + "\n")
        again = main.wait_for(self, CLOAKED, "A", blocked_nx,
                              "blocked once the target was back on the list")
        self.assertIn("via CNAME target %s." % TRACKER, ede_text(again))


# A label of 63 bytes 0xff: 64 bytes on the wire, 252 characters of \\DDD escapes as text, too
# long for an owner name in zone-file text.
FF_LABEL = "\\255" * 63


class HostileNamesTest(unittest.TestCase):
    """Blocked answers for any name a client can send, in any class. What a broken server does
    here: one that builds blocked answers through zone-file text dies on the long names (the
    next query finds it gone); one that skips the lists for other classes forwards the CH query
    of a listed name upstream and returns no EDE."""

    instance = None

    @classmethod
    def setUpClass(cls):
        lists_dir = os.path.join(env.directory, "hostile-lists")
        os.makedirs(lists_dir, exist_ok=True)
        write(os.path.join(lists_dir, "block.txt"), "blocked.%s\n%s\n" % (W, TRACKER))
        cls.instance = Instance("hostile", {
            "action": "null",
            "lists": [{"name": "acts", "file": os.path.join(lists_dir, "block.txt")}]})

    def tearDown(self):
        env.check_alive(self)

    def assert_still_answers(self, instance):
        result = instance.dig("www.secure.%s." % W)
        self.assertEqual(result.rdata("A"), ["192.0.2.10"], result.summary() + "\n" +
                         instance.daemon.log_tail())

    def test_long_escaped_name_below_a_listed_domain_gets_the_null_address(self):
        result = self.instance.dig("%s.blocked.%s." % (FF_LABEL, W))
        self.assertEqual(result.rdata("A"), ["0.0.0.0"], result.summary())
        self.assertEqual(result.ede, [15])
        self.assert_still_answers(self.instance)

    def test_long_escaped_name_of_a_wildcard_cname_to_a_listed_name_is_blocked(self):
        # The default action (main instance): NXDOMAIN whose SOA is owned by the query name.
        result = main.dig("%s.cloaked-wild.insecure.%s." % (FF_LABEL, W))
        self.assertTrue(blocked_nx(result), result.summary())
        self.assertIn("via CNAME target %s." % TRACKER, ede_text(result))
        self.assert_still_answers(main)

    def test_other_classes_of_a_listed_name_are_blocked_too(self):
        result = self.instance.dig("blocked.%s." % W, "TXT", extra=("-c", "CH"))
        self.assertEqual((result.status, result.answer), ("NOERROR", []), result.summary())
        self.assertEqual(ede_text(result), "blocked by list acts (entry blocked.%s)" % W)
        self.assertIn("CH\tSOA\tlocalhost. nobody.invalid.", result.output)


class ActionsTest(unittest.TestCase):
    """Every blocking.action, one SIGHUP reload each, on an instance with one small list."""

    def tearDown(self):
        env.check_alive(self)

    def test_each_blocking_action(self):
        lists_dir = os.path.join(env.directory, "actions-lists")
        os.makedirs(lists_dir, exist_ok=True)
        write(os.path.join(lists_dir, "block.txt"), "blocked.%s\n" % W)
        blocking = {"lists": [{"name": "acts", "file": os.path.join(lists_dir, "block.txt")}],
                    "sinkhole": ["192.0.2.250", "2001:db8::250"]}
        instance = Instance("actions", dict(blocking, action="nodata"))
        name = "blocked.%s." % W
        expected_text = "blocked by list acts (entry blocked.%s)" % W

        def is_nodata(r):
            return r.status == "NOERROR" and r.answer == [] and 15 in r.ede

        result = instance.wait_for(self, name, "A", is_nodata, "NODATA")
        self.assertIn("IN\tSOA\tlocalhost. nobody.invalid.", result.output)
        self.assertEqual(ede_text(result), expected_text)

        instance.reconfigure(dict(blocking, action="null"))
        instance.wait_for(self, name, "A", lambda r: r.rdata("A") == ["0.0.0.0"], "0.0.0.0")
        self.assertEqual(instance.dig(name, "AAAA").rdata("AAAA"), ["::"])
        self.assertTrue(is_nodata(instance.dig(name, "MX")))

        instance.reconfigure(dict(blocking, action="sinkhole"))
        result = instance.wait_for(self, name, "A", lambda r: r.rdata("A") == ["192.0.2.250"],
                                   "the sinkhole address")
        self.assertEqual(result.ede, [15])
        self.assertEqual(instance.dig(name, "AAAA").rdata("AAAA"), ["2001:db8::250"])
        self.assertTrue(is_nodata(instance.dig(name, "TXT")))

        instance.reconfigure(dict(blocking, action="refused"))
        result = instance.wait_for(self, name, "A", lambda r: r.status == "REFUSED", "REFUSED")
        self.assertEqual(ede_text(result), expected_text)

        instance.reconfigure(dict(blocking, action="nxdomain"))
        result = instance.wait_for(self, name, "A", blocked_nx, "NXDOMAIN")
        self.assertEqual(ede_text(result), expected_text)
        # Unlisted names resolve through every reload.
        self.assertEqual(instance.dig("www.secure.%s." % W).rdata("A"), ["192.0.2.10"])


class LookupTest(unittest.TestCase):
    def lookup(self, name):
        return subprocess.run([subject.Options.dnsvagt, "lookup", name, "-c", main.conf],
                              capture_output=True, text=True, timeout=60)

    def test_lookup_reports_blocked_allowed_and_unlisted_names(self):
        name = samples["hosts"][0]
        blocked = self.lookup(name)
        self.assertEqual(blocked.returncode, 0, blocked.stderr)
        self.assertIn('result: blocked by list "hosts", entry "%s", answer nxdomain' % name,
                      blocked.stdout)

        allowed = self.lookup("www.wild.%s" % W)
        self.assertEqual(allowed.returncode, 0, allowed.stderr)
        self.assertIn('block entry "wild.%s"' % W, allowed.stdout)
        self.assertIn('result: not blocked, allow entry "www.wild.%s" of allow list '
                      '"exceptions" wins' % W, allowed.stdout)

        unlisted = self.lookup("www.secure.%s" % W)
        self.assertEqual(unlisted.returncode, 0, unlisted.stderr)
        self.assertIn("result: not blocked, no list matches", unlisted.stdout)

        self.assertEqual(self.lookup("bad..name").returncode, 1)


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
