#!/usr/bin/python3
# Serve-stale (RFC 8767, issue 2): dnsvagt instances with cache.serve_stale on and off, on the
# test world's short-TTL record, with the NSD replaced by a REFUSED-only responder to make the
# upstream fail. (Prefetch is not tested here: a refresh near expiry is answered from
# libunbound's own cache, which ages with the front cache, so it does not refresh; see the
# closing note of the session that found it.)
"""An expired answer stands in when the upstream fails.

serve-stale: short.insecure (TTL world.SHORT_TTL) is cached, the NSD is replaced by a REFUSED-only
responder, the TTL runs out; with cache.serve_stale the name is still answered, every TTL 30 and EDE 3, while a name
never cached gets SERVFAIL; without it the cached name gets SERVFAIL too.

Run: test_stale.py --dnsvagt PATH
"""

import json
import os
import socket
import struct
import sys
import threading
import time
import unittest

import subject
import world
from dig import dig

W = world.PARENT
SHORT = "short.insecure.%s." % W
NEVER_CACHED = "www.insecure.%s." % W
STALE_TTL = 30
STALE_ANSWER = 3  # EDE INFO-CODE, RFC 8914
# dig waits this long for a stale answer (dnsvagt's client timer is 1.8 s) and for a SERVFAIL.
STALE_WAIT = "+time=5"
SERVFAIL_WAIT = "+time=10"
REFUSED = 5

env = None


class Instance:
    """One dnsvagt on the world with its own cache settings; one worker thread, so every
    query (a prefetch too) goes through the same libunbound context and its cache."""

    def __init__(self, name, cache):
        self.name = name
        self.conf_dir = os.path.join(env.directory, name)
        os.makedirs(os.path.join(self.conf_dir, "lists"), exist_ok=True)
        self.conf = os.path.join(self.conf_dir, "dnsvagt.yaml")
        self.port, self.daemon = world.on_free_port(lambda port: self.start(port, cache))
        env.daemons.append(self.daemon)

    def start(self, port, cache):
        with open(self.conf, "w") as out:
            out.write(subject.dnsvagt_config(env.world, self.conf_dir, port,
                                             threads=1))
            out.write("cache: %s\n" % json.dumps(cache))
        daemon = world.Daemon(self.name, [subject.Options.dnsvagt, "-c", self.conf],
                              os.path.join(self.conf_dir, "dnsvagt.log"))
        try:
            world.wait_until_answers(daemon, port, W + ".")
        except BaseException:
            daemon.stop()
            raise
        return daemon

    def dig(self, name, extra=()):
        return dig(self.port, name, "A", extra=extra)


class RefusingUpstream:
    """Answers every UDP query on the NSD's port with REFUSED: an upstream that fails at once
    (a stopped NSD makes libunbound wait out timeouts of unpredictable length instead)."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((world.LOOPBACK, port))
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self.serve)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                query, client = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            if len(query) < 12:
                continue
            qid, flags = struct.unpack("!HH", query[:4])
            flags = (flags & 0x7900) | 0x8000 | REFUSED  # QR, opcode and RD kept
            # Header and question only (the OPT record, if any, is left out).
            end = 12
            while end < len(query) and query[end] != 0:
                end += 1 + query[end]
            question = query[12:end + 5]
            self.sock.sendto(struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + question, client)

    def stop(self):
        self.running = False
        self.thread.join()
        self.sock.close()


def ttls(result):
    return [int(fields[1]) for fields in result.answer]


def in_parallel(*calls):
    """Runs the calls on threads (their dig waits overlap); returns their results in order,
    or raises the first call's exception (a failed assertion, say)."""
    results = [None] * len(calls)
    errors = [None] * len(calls)

    def run(i):
        try:
            results[i] = calls[i]()
        except BaseException as error:  # re-raised on the test's thread
            errors[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return results


def setUpModule():
    global env
    if subject.Options.dnsvagt is None:
        raise unittest.SkipTest("dnsvagt only: the test sets dnsvagt's cache options")
    env = subject.Environment()
    try:
        env.start_world()
    except BaseException:
        env.stop()
        raise


def tearDownModule():
    if env is not None:
        env.stop()


class ServeStaleTest(unittest.TestCase):
    def tearDown(self):
        env.check_alive(self)

    def test_expired_answer_stands_in_while_upstream_is_down(self):
        on = Instance("stale-on", {"serve_stale": True})
        off = Instance("stale-off", {"serve_stale": False})
        cached_at = time.monotonic()
        for instance in (on, off):
            result = instance.dig(SHORT)
            self.assertEqual(result.status, "NOERROR", result.summary())
            self.assertEqual(result.rdata("A"), [world.ADDRESSES["short.insecure"]])
            self.assertTrue(all(ttl <= world.SHORT_TTL for ttl in ttls(result)), result.summary())
        nsd_port = env.world.nsd_port
        env.world.nsd.stop()
        upstream = RefusingUpstream(nsd_port)
        try:
            # The cache ages in whole seconds: SHORT_TTL seconds after storing it has expired.
            time.sleep(max(0.0, cached_at + world.SHORT_TTL + 0.5 - time.monotonic()))

            def ask_on():
                return on.dig(SHORT, (STALE_WAIT,)), on.dig(NEVER_CACHED, (SERVFAIL_WAIT,))

            (stale, uncached), expired_off = in_parallel(
                ask_on, lambda: off.dig(SHORT, (SERVFAIL_WAIT,)))
        finally:
            upstream.stop()
            env.world.nsd = env.world.start_nsd(nsd_port)

        self.assertEqual(stale.status, "NOERROR", stale.summary())
        self.assertEqual(stale.rdata("A"), [world.ADDRESSES["short.insecure"]])
        self.assertEqual(ttls(stale), [STALE_TTL] * len(stale.answer), stale.summary())
        self.assertEqual(stale.ede, [STALE_ANSWER], stale.summary())
        self.assertRegex(stale.output, r"(?m)^; EDE: 3 \(Stale Answer\)")

        self.assertEqual(uncached.status, "SERVFAIL", uncached.summary())
        self.assertEqual(uncached.answer, [])

        self.assertEqual(expired_off.status, "SERVFAIL", expired_off.output)
        self.assertEqual(expired_off.answer, [])
        self.assertNotIn(STALE_ANSWER, expired_off.ede)


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
