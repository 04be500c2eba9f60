#!/usr/bin/python3
# Faults around dnsvagt (hardening issue): an upstream that goes silent and comes back, an
# upstream that answers garbage, and a full disk under the list cache and the query log.
"""dnsvagt keeps answering through upstream outages, broken upstreams and a full disk.

Upstream faults come from FaultyUpstream, a small UDP and TCP forwarder in front of the world's
NSD that the test switches between relaying and a fault; dnsvagt forwards one zone below
world.test to it and the rest of world.test straight to the NSD.  The full disk is a 256 KiB
tmpfs (this needs root; the test is skipped with a message otherwise) holding both
blocking.cache_dir and the query log, filled up by a file the test writes.

Measured figures (time to SERVFAIL, time to recover) are printed at the end of the run.

Run: test_faults.py --dnsvagt PATH [--keep] [-k PATTERN]
"""

import errno
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

import subject
import wire
import world
from dig import dig
from test_metrics import http_get, samples

W = world.PARENT
INSECURE = "insecure.%s" % W
SHORT = "short.%s." % INSECURE
OTHER = "www.secure.%s." % W            # resolved straight from the NSD, never via the fault
STALE_TTL = 30
STALE_ANSWER = 3                        # EDE INFO-CODE, RFC 8914
BLOCKED = 15
# The bounds.
SERVFAIL_WITHIN = 2.0                   # seconds for a SERVFAIL while the upstream is silent
RECOVER_WITHIN = 30.0                   # seconds until names resolve again once it is back
# dig waits this long for a reply that a broken upstream delays (never asserted as a duration).
PATIENT = "+time=20"
# How long a raw query waits for the SERVFAIL a broken upstream leads to (libunbound retries a
# server whose replies it discards as if it were silent; measured 17-27 s for wrong IDs).
GARBAGE_PATIENCE = 60.0

env = None
measured = {}  # figure -> text, printed at the end of the run


def fresh(label, zone="cloaked-wild.%s" % INSECURE):
    """A name no one has asked for yet; under cloaked-wild the world answers any such name
    (a wildcard CNAME to tracker.insecure)."""
    fresh.count += 1
    return "%s-%d.%s." % (label, fresh.count, zone)


fresh.count = 0


def timed_dig(port, name, extra=(PATIENT,)):
    """(DigResult, seconds from start to reply)."""
    started = time.monotonic()
    result = dig(port, name, "A", extra=extra)
    return result, time.monotonic() - started


def ttls(result):
    return [int(fields[1]) for fields in result.answer]


def wait_for(condition, timeout, interval=0.25):
    """Polls condition() until it returns a true value or `timeout` seconds pass; returns
    (value, seconds waited)."""
    started = time.monotonic()
    while True:
        value = condition()
        waited = time.monotonic() - started
        if value or waited >= timeout:
            return value, waited
        time.sleep(interval)


class FaultyUpstream:
    """A forwarder on a free loopback port, UDP and TCP, in front of the world's NSD. `mode`
    says what it does with each query (switchable at any time):

    relay           asks the NSD and passes the reply on (a healthy upstream)
    silent          drops the query (an upstream that is down or unreachable)
    garbage         answers the query's ID followed by random bytes
    truncated       passes on the first half of the NSD's reply, TC not set
    wrong_id        passes on the NSD's reply under another message ID
    wrong_question  answers with the NSD's reply to another question (www.secure), same ID
    """

    MODES = ("relay", "silent", "garbage", "truncated", "wrong_id", "wrong_question")

    def __init__(self, nsd_port, mode="relay"):
        self.nsd_port = nsd_port
        self.mode = mode
        self.queries = 0
        self.random = random.Random(20261204)
        self.running = True
        self.port, self.udp, self.tcp = self.bind()
        self.threads = [threading.Thread(target=self.serve_udp, daemon=True),
                        threading.Thread(target=self.serve_tcp, daemon=True)]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def bind():
        for _ in range(20):
            port = world.free_port()
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                udp.bind((world.LOOPBACK, port))
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind((world.LOOPBACK, port))
            except OSError:
                udp.close()
                tcp.close()
                continue
            udp.settimeout(0.2)
            tcp.listen(16)
            tcp.settimeout(0.2)
            return port, udp, tcp
        raise RuntimeError("no free port for the faulty upstream")

    @property
    def address(self):
        return "%s@%d" % (world.LOOPBACK, self.port)

    def ask_nsd(self, query, tcp):
        try:
            if tcp:
                return wire.tcp_exchange(self.nsd_port, query, timeout=2.0)
            return wire.udp_exchange(self.nsd_port, query, timeout=1.0)
        except (OSError, ConnectionError):
            return None

    def respond(self, query, tcp):
        """The reply to send for `query` in the current mode, or None for none."""
        mode = self.mode
        self.queries += 1
        if mode == "silent" or len(query) < 12:
            return None
        if mode == "garbage":
            return query[:2] + self.random.randbytes(self.random.randint(10, 300))
        if mode == "wrong_question":
            try:
                end = wire.skip_name(query, 12) + 4
            except wire.ParseError:
                return None
            query = query[:12] + wire.question(OTHER) + query[end:]
        reply = self.ask_nsd(query, tcp)
        if reply is None:
            return None
        if mode == "truncated":
            return reply[:max(12, len(reply) // 2)]
        if mode == "wrong_id":
            (qid,) = struct.unpack("!H", reply[:2])
            return struct.pack("!H", qid ^ 0x5A5A) + reply[2:]
        return reply

    def serve_udp(self):
        wire.serve_udp(self.udp, lambda query: self.respond(query, tcp=False),
                       lambda: self.running)

    def serve_tcp(self):
        while self.running:
            try:
                connection, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self.serve_connection, args=(connection,),
                                      daemon=True)
            thread.start()

    def serve_connection(self, connection):
        buffer = b""
        deadline = time.monotonic() + 30
        with connection:
            connection.settimeout(0.2)
            while self.running and time.monotonic() < deadline:
                try:
                    chunk = connection.recv(65535)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                while len(buffer) >= 2:
                    (length,) = struct.unpack("!H", buffer[:2])
                    if len(buffer) < 2 + length:
                        break
                    reply = self.respond(buffer[2:2 + length], tcp=True)
                    buffer = buffer[2 + length:]
                    if reply is not None:
                        try:
                            connection.sendall(wire.frame(reply))
                        except OSError:
                            return

    def stop(self):
        self.running = False
        for thread in self.threads:
            thread.join(timeout=5)
        self.udp.close()
        self.tcp.close()


def start_dnsvagt(name, change, metrics=False):
    """Starts a dnsvagt (one worker thread) on the world with subject.dnsvagt_settings()
    changed by change(settings, conf_dir); returns (port, metrics port or None, Daemon)."""
    return env.start_dnsvagt(name, change, metrics)


def retire(daemon):
    """Stops a test's own dnsvagt once the test is done with it (env.check_alive would
    otherwise count it as dead in the tests after)."""
    daemon.stop()
    if daemon in env.daemons:
        env.daemons.remove(daemon)


def forward_zone(settings, name, upstream):
    settings["upstream"]["zones"].append({"name": name, "servers": [upstream.address]})


def setUpModule():
    global env
    env = subject.Environment.with_world("faults of dnsvagt's upstream, disk and query log")


def tearDownModule():
    if measured:
        sys.stderr.write("measured:\n" + "".join("  %s: %s\n" % item
                                                for item in sorted(measured.items())))


class ReloadStormTest(unittest.TestCase):
    """SIGHUPs faster than reloads finish, as a config-management run that touches the file
    several times in a row sends them.

    A server that takes signals on one thread but lets its other threads (metrics listener,
    query log) receive them dies of the SIGHUP that arrives while it is busy reloading."""

    def test_back_to_back_sighups_leave_it_serving(self):
        def change(settings, conf_dir):
            settings["logging"] = {"query_log": os.path.join(conf_dir, "queries.jsonl")}

        port, _, daemon = start_dnsvagt("reload-storm", change, metrics=True)
        try:
            for _ in range(20):
                os.kill(daemon.pid, signal.SIGHUP)
                time.sleep(0.005)
            # Every SIGHUP is a reload; the last ones may still be running.
            done = subject.wait_for_reloads(daemon, 2, 30)
            self.assertTrue(daemon.running(), daemon.log_tail())
            self.assertGreaterEqual(done, 2, daemon.log_tail())
            self.assertEqual(world.dig_status(port, "www.%s." % world.PARENT, "A"), "NOERROR")
        finally:
            retire(daemon)


class UpstreamOutageTest(unittest.TestCase):
    """The only upstream of insecure.world.test goes silent, then comes back.

    A broken server hangs the client past any resolver's patience instead of answering
    SERVFAIL, forgets an answer it could serve stale, or keeps the upstream marked down after
    it returned so that only a restart brings names back."""

    def setUp(self):
        self.upstream = FaultyUpstream(env.world.nsd_port)

        def change(settings, _):
            forward_zone(settings, INSECURE, self.upstream)
            settings["cache"] = {"serve_stale": True}

        try:
            self.port, _, self.daemon = start_dnsvagt("outage", change)
        except BaseException:
            self.upstream.stop()
            raise

    def tearDown(self):
        self.upstream.stop()
        env.check_alive(self)
        retire(self.daemon)

    def test_silent_upstream_servfail_stale_and_recovery(self):
        cached = dig(self.port, SHORT)
        cached_at = time.monotonic()
        self.assertEqual(cached.rdata("A"), [world.ADDRESSES["short.insecure"]], cached.summary())
        before = dig(self.port, fresh("before"))
        self.assertEqual(before.status, "NOERROR", before.summary())

        self.upstream.mode = "silent"
        # Wait out the second SHORT expires in (see test_stale.py): only a stale copy is left.
        time.sleep(max(0.0, cached_at + world.SHORT_TTL + 1.5 - time.monotonic()))
        results = {}

        def ask(key, name, extra=(PATIENT,)):
            results[key] = timed_dig(self.port, name, extra)

        threads = [threading.Thread(target=ask, args=("stale", SHORT)),
                   threading.Thread(target=ask, args=("uncached", fresh("outage"))),
                   threading.Thread(target=ask, args=("other", OTHER))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        stale, stale_seconds = results["stale"]
        uncached, servfail_seconds = results["uncached"]
        other, _ = results["other"]
        measured["outage: stale answer after"] = "%.2f s" % stale_seconds
        measured["outage: SERVFAIL for an uncached name after"] = "%.2f s (%s)" % (
            servfail_seconds, uncached.status)
        with self.subTest("cached and expired name answered stale"):
            self.assertEqual(stale.status, "NOERROR", stale.summary())
            self.assertEqual(stale.rdata("A"), [world.ADDRESSES["short.insecure"]])
            self.assertEqual(ttls(stale), [STALE_TTL], stale.summary())
            self.assertEqual(stale.ede, [STALE_ANSWER], stale.summary())
        with self.subTest("uncached name gets SERVFAIL"):
            self.assertEqual(uncached.status, "SERVFAIL", uncached.summary())
        with self.subTest("SERVFAIL within %.0f s" % SERVFAIL_WITHIN):
            self.assertLessEqual(servfail_seconds, SERVFAIL_WITHIN,
                                 "SERVFAIL came after %.2f s" % servfail_seconds)
        with self.subTest("names of other upstreams still resolve"):
            self.assertEqual(other.rdata("A"), [world.ADDRESSES["www.secure"]], other.summary())
        env.check_alive(self)

        self.upstream.mode = "relay"

        def resolves():
            result = dig(self.port, fresh("back"), extra=("+time=3",))
            return result.status == "NOERROR" and result.rdata("A") == [
                world.ADDRESSES["tracker.insecure"]]

        def fresh_again():
            result = dig(self.port, SHORT, extra=("+time=3",))
            return (result.status == "NOERROR" and result.ede == [] and
                    all(ttl <= world.SHORT_TTL for ttl in ttls(result)))

        returned = time.monotonic()
        recovered, seconds = wait_for(resolves, RECOVER_WITHIN, interval=0.5)
        measured["outage: new names resolve again after the upstream returned"] = (
            "%.1f s" % seconds if recovered else "not within %.0f s" % RECOVER_WITHIN)
        refreshed, _ = wait_for(fresh_again, max(0.0, returned + RECOVER_WITHIN -
                                                 time.monotonic()), interval=0.5)
        seconds = time.monotonic() - returned
        measured["outage: the stale name answered fresh again after the upstream returned"] = (
            "%.1f s" % seconds if refreshed else "not within %.0f s" % RECOVER_WITHIN)
        with self.subTest("new names resolve again"):
            self.assertTrue(recovered, "no new name resolved within %.0f s of the upstream's "
                            "return" % RECOVER_WITHIN)
        with self.subTest("the stale name is answered fresh again"):
            self.assertTrue(refreshed, "%s still not fresh %.0f s after the upstream's return"
                            % (SHORT, RECOVER_WITHIN))


class GarbageUpstreamTest(unittest.TestCase):
    """Each of four upstreams answers in a broken way: random bytes under the query's ID, half
    a reply, a reply under another ID, a reply to another question.

    A broken server takes such a packet for an answer (wrong or partial data, or the answer to
    another name cached under this one), crashes on it, or stops answering names that do not
    depend on the broken upstream."""

    FAULTS = ("garbage", "truncated", "wrong_id", "wrong_question")

    def setUp(self):
        self.upstreams = {mode: FaultyUpstream(env.world.nsd_port) for mode in self.FAULTS}

        def change(settings, _):
            for mode, upstream in self.upstreams.items():
                forward_zone(settings, self.zone(mode), upstream)

        try:
            self.port, _, self.daemon = start_dnsvagt("garbage", change)
        except BaseException:
            for upstream in self.upstreams.values():
                upstream.stop()
            raise

    def tearDown(self):
        for upstream in self.upstreams.values():
            upstream.stop()
        env.check_alive(self)
        retire(self.daemon)

    @staticmethod
    def zone(mode):
        return "%s.cloaked-wild.%s" % (mode.replace("_", "-"), INSECURE)

    def test_broken_replies_become_servfail_and_others_resolve(self):
        # Relaying, every zone resolves (the faults below are the upstreams', not the setup's).
        for mode, upstream in self.upstreams.items():
            result = dig(self.port, fresh("ok", self.zone(mode)))
            self.assertEqual(result.rdata("A"), [world.ADDRESSES["tracker.insecure"]],
                             "%s relaying: %s" % (mode, result.summary()))
            upstream.mode = mode
        results = {}

        def ask(mode, tcp):
            packet = wire.query(len(results) + 1, fresh("bad", self.zone(mode)), edns={})
            exchange = wire.tcp_exchange if tcp else wire.udp_exchange
            started = time.monotonic()
            try:
                reply = exchange(self.port, packet, timeout=GARBAGE_PATIENCE)
            except (OSError, ConnectionError) as error:
                reply = error
            results[(mode, tcp)] = (reply, time.monotonic() - started)

        threads = [threading.Thread(target=ask, args=(mode, tcp))
                   for mode in self.FAULTS for tcp in (False, True)]
        for thread in threads:
            thread.start()
        # As long as those wait: names that do not go to a broken upstream are answered as ever.
        wrong = []
        asked = 0
        deadline = time.monotonic() + GARBAGE_PATIENCE + 5
        while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
            for name, address in ((OTHER, world.ADDRESSES["www.secure"]),
                                  (fresh("fine"), world.ADDRESSES["tracker.insecure"])):
                result = dig(self.port, name)
                asked += 1
                if result.rdata("A") != [address]:
                    wrong.append("%s: %s" % (name, result.summary()))
            time.sleep(0.5)
        for thread in threads:
            thread.join()
        with self.subTest("names of healthy upstreams answered meanwhile"):
            self.assertEqual(wrong, [], "%d of %d wrong" % (len(wrong), asked))
        for (mode, tcp), (reply, seconds) in sorted(results.items()):
            if isinstance(reply, bytes):
                parsed = wire.Reply(reply, strict=False)
                outcome = (parsed.rcode, parsed.ancount)
            else:
                outcome = (None, repr(reply))
            measured["garbage: %s over %s" % (mode, "tcp" if tcp else "udp")] = (
                "%s after %.2f s" % (outcome[0], seconds))
            with self.subTest(mode=mode, tcp=tcp):
                self.assertEqual(outcome, ("SERVFAIL", 0),
                                 "(rcode, answers) after %.2f s" % seconds)
        for mode, upstream in self.upstreams.items():
            self.assertGreater(upstream.queries, 1, "%s: the fault was never asked" % mode)
        env.check_alive(self)
        # The wrong question's answer was not cached for the name asked either.
        probe = dig(self.port, fresh("after"))
        self.assertEqual(probe.rdata("A"), [world.ADDRESSES["tracker.insecure"]], probe.summary())


class FullDiskTest(unittest.TestCase):
    """blocking.cache_dir and the query log share a 256 KiB tmpfs that the test fills up.

    A broken server stops answering or crashes when a write fails, replaces the good list
    with a half-written one or drops it, loses query log lines without a trace (no log line,
    no count in dnsvagt_query_log_dropped_total), writes torn lines, or stays broken after
    the space is freed until someone restarts it."""

    FIRST = "www.nsec3.%s" % W    # on the list from the start
    SECOND = "www.wild.%s" % W    # added while the disk is full
    LIST = "local"
    MOUNT_SIZE = "256k"

    def setUp(self):
        self.mount = os.path.join(env.directory, "full")
        os.makedirs(self.mount, exist_ok=True)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + self.MOUNT_SIZE,
                                  "tmpfs", self.mount], capture_output=True, text=True,
                                 timeout=10)
        if mounted.returncode != 0:
            self.skipTest("cannot mount a tmpfs (needs root): " + mounted.stderr.strip())
        self.daemon = None
        self.filler = os.path.join(self.mount, "filler")
        self.source = os.path.join(env.directory, "block.txt")
        self.query_log = os.path.join(self.mount, "query.log")
        with open(self.source, "w") as out:
            out.write(self.FIRST + "\n")

        def change(settings, _):
            settings["blocking"] = {"cache_dir": os.path.join(self.mount, "lists"),
                                    "lists": [{"name": self.LIST, "file": self.source}]}
            settings["logging"] = {"query_log": self.query_log}

        os.makedirs(os.path.join(self.mount, "lists"))
        try:
            self.port, self.metrics_port, self.daemon = start_dnsvagt("disk", change,
                                                                      metrics=True)
        except BaseException:
            self.unmount()
            raise

    def tearDown(self):
        try:
            env.check_alive(self)
        finally:
            if self.daemon is not None:
                retire(self.daemon)  # it holds the query log open on the mount
            self.unmount()

    def unmount(self):
        if subprocess.run(["umount", self.mount], capture_output=True, timeout=10).returncode:
            subprocess.run(["umount", "-l", self.mount], capture_output=True, timeout=10)

    def fill(self):
        """Writes the filler file until the tmpfs is full (ENOSPC)."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            chunk = b"x" * 4096
            for _ in range(1024):  # far more than the mount holds
                try:
                    os.write(fd, chunk)
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    return
            self.fail("the tmpfs never filled up")
        finally:
            os.close(fd)

    def metric(self, key):
        return samples(http_get(self.metrics_port, "/metrics")).get(key, 0)

    def failures(self):
        return self.metric('dnsvagt_list_update_failures_total{list="%s",reason="io"}'
                           % self.LIST)

    def dropped(self):
        return self.metric("dnsvagt_query_log_dropped_total")

    def blocked(self, name):
        result = dig(self.port, name + ".")
        return result.status == "NXDOMAIN" and BLOCKED in result.ede

    def answer_all(self, count, label):
        """Sends `count` queries for new names one after another; returns the statuses that
        were not NOERROR."""
        bad = []
        for i in range(count):
            packet = wire.query(i, fresh(label))
            reply = wire.udp_exchange(self.port, packet, timeout=3.0)
            status = wire.Reply(reply, strict=False).rcode if reply else None
            if status != "NOERROR":
                bad.append(status)
        return bad

    def log_text(self):
        with open(self.daemon.log_path, errors="replace") as log:
            return log.read()

    def query_log_lines(self):
        with open(self.query_log, "rb") as log:
            return log.read().split(b"\n")[:-1]

    def test_full_disk_is_logged_counted_and_survived(self):
        loaded, _ = wait_for(lambda: self.blocked(self.FIRST), 15)
        self.assertTrue(loaded, "the list never blocked %s:\n%s"
                        % (self.FIRST, self.daemon.log_tail()))
        self.assertEqual(self.answer_all(5, "warm"), [])
        logged, _ = wait_for(lambda: len(self.query_log_lines()) >= 5, 5)
        self.assertTrue(logged, "no query log lines before the disk filled up")
        failures, dropped = self.failures(), self.dropped()

        self.fill()
        with open(self.source, "a") as out:  # a new version of the list: the copy cannot land
            out.write(self.SECOND + "\n")
        # Enough queries to use up what room the query log file's last page had left.
        with self.subTest("queries answered with the disk full"):
            self.assertEqual(self.answer_all(60, "full"), [])
        counted, waited = wait_for(lambda: self.failures() > failures, 15, interval=0.5)
        measured["disk full: list update failure counted after"] = (
            "%.1f s" % waited if counted else "never (15 s)")
        with self.subTest("list update failure counted (reason io)"):
            self.assertTrue(counted, "dnsvagt_list_update_failures_total{reason=io} stayed %s"
                            % failures)
        with self.subTest("list update failure logged"):
            self.assertRegex(self.log_text(), r"list %s .*update failed \(io\)" % self.LIST)
        with self.subTest("last good list still in force"):
            self.assertTrue(self.blocked(self.FIRST), "%s no longer blocked" % self.FIRST)
            self.assertFalse(self.blocked(self.SECOND), "%s blocked by a list that was never "
                             "stored" % self.SECOND)
        with self.subTest("query log write failure logged"):
            self.assertIn("query log: cannot write", self.log_text())
        with self.subTest("query log loss counted in dnsvagt_query_log_dropped_total"):
            self.assertGreater(self.dropped(), dropped,
                               "query log lines lost on ENOSPC but not counted")
        env.check_alive(self)

        os.remove(self.filler)
        marker = fresh("freed")
        marker_bytes = marker.encode()

        def marker_logged():
            self.assertEqual(dig(self.port, marker).status, "NOERROR")
            return any(marker_bytes in line for line in self.query_log_lines())

        back, waited = wait_for(marker_logged, 10, interval=0.5)
        measured["disk freed: query log lines again after"] = (
            "%.1f s" % waited if back else "never (10 s)")
        with self.subTest("query log written again after space was freed"):
            self.assertTrue(back, "%s never appeared in the query log" % marker)
        with self.subTest("query log has no torn lines"):
            torn = []
            for line in self.query_log_lines():
                try:
                    json.loads(line)
                except ValueError:
                    torn.append(line)
            self.assertEqual(torn, [], "lines of the query log that are not JSON")

        # The operator freed space; the list file did not change again.
        updated, waited = wait_for(lambda: self.blocked(self.SECOND), 15, interval=0.5)
        measured["disk freed: list updated after"] = (
            "%.1f s" % waited if updated else "never (15 s, list file unchanged)")
        if not updated:
            os.utime(self.source)  # only a change of the file makes it try again?
            touched, waited = wait_for(lambda: self.blocked(self.SECOND), 12, interval=0.5)
            measured["disk freed: list updated after touching the file"] = (
                "%.1f s" % waited if touched else "never (12 s)")
        with self.subTest("list update succeeds after space was freed"):
            self.assertTrue(updated, "%s not blocked within 15 s of freeing space (the list file "
                            "is unchanged since its failed update)" % self.SECOND)
        self.assertTrue(self.blocked(self.FIRST))
        self.assertEqual(self.answer_all(3, "end"), [])


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
