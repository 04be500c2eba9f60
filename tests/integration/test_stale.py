#!/usr/bin/python3
# Serve-stale (RFC 8767) and prefetch (issue 2): dnsvagt instances with cache.serve_stale and
# cache.prefetch on and off, on the test world's short-TTL records, with the NSD replaced by a
# REFUSED-only responder to make the upstream fail.
"""An expired answer stands in when the upstream fails; a popular name is refreshed early.

serve-stale: short.insecure (TTL world.SHORT_TTL) is cached, the NSD is replaced by a REFUSED-only
responder, the TTL runs out; with cache.serve_stale the name is still answered, every TTL 30 and EDE 3, while a name
never cached gets SERVFAIL; without it the cached name gets SERVFAIL too.

prefetch: popular.insecure (TTL world.POPULAR_TTL) is asked often; the query that finds it in
the last 10% of its TTL starts a refresh, so a reply sent before the entry could have expired
carries the full TTL again.  Without cache.prefetch the TTL keeps running down.

Run: test_stale.py --dnsvagt PATH
"""

import socket
import struct
import sys
import threading
import time
import unittest

import subject
import wire
import world
from dig import dig

W = world.PARENT
SHORT = "short.insecure.%s." % W
POPULAR = "popular.insecure.%s." % W
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
        def change(settings, conf_dir):
            settings["cache"] = cache

        self.port, _, _ = env.start_dnsvagt(name, change, threads=1)

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
        self.thread = threading.Thread(target=wire.serve_udp,
                                       args=(self.sock, self.refused, lambda: self.running))
        self.thread.start()

    @staticmethod
    def refused(query):
        """REFUSED to `query`: its header and question (the OPT record, if any, left out)."""
        if len(query) < 12:
            return None
        qid, flags = struct.unpack("!HH", query[:4])
        flags = (flags & 0x7900) | 0x8000 | REFUSED  # QR, opcode and RD kept
        end = 12
        while end < len(query) and query[end] != 0:
            end += 1 + query[end]
        question = query[12:end + 5]
        return struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + question

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
    env = subject.Environment.with_world("the test sets dnsvagt's cache options")


class PrefetchTest(unittest.TestCase):
    def tearDown(self):
        env.check_alive(self)

    def watch_expiry(self, instance):
        """Asks POPULAR until a reply shows it in the last 10% of its TTL (the query that
        starts a prefetch), then goes on asking while the entry certainly has not expired.

        Returns (TTL of that trigger reply, TTLs of the replies after it).  The entry expires
        once its age in whole seconds reaches the TTL; the trigger saw at least one second
        left, so replies received within a second of sending the trigger came before expiry.
        """
        first = instance.dig(POPULAR)
        self.assertEqual(ttls(first), [world.POPULAR_TTL], first.summary())
        for _ in range(2):  # popular: hit twice before it nears expiry
            self.assertEqual(instance.dig(POPULAR).rdata("A"),
                             [world.ADDRESSES["popular.insecure"]])
        time.sleep(world.POPULAR_TTL * 0.8 - 1)
        window = world.POPULAR_TTL // 10
        deadline = time.monotonic() + world.POPULAR_TTL
        while time.monotonic() < deadline:
            sent = time.monotonic()
            trigger = instance.dig(POPULAR)
            self.assertEqual(len(ttls(trigger)), 1, trigger.summary())
            if ttls(trigger)[0] <= window:
                break
            time.sleep(0.2)
        else:
            self.fail("%s never reached the last %ds of its TTL" % (POPULAR, window))
        self.assertGreaterEqual(ttls(trigger)[0], 1, "trigger came too late: " + trigger.summary())
        after = []
        while True:
            time.sleep(0.15)
            result = instance.dig(POPULAR)
            if time.monotonic() >= sent + 1.0:
                break
            self.assertEqual(result.status, "NOERROR", result.summary())
            self.assertEqual(result.ede, [], result.summary())
            after.extend(ttls(result))
        self.assertTrue(after, "no reply came back within a second: machine too slow")
        return ttls(trigger)[0], after

    def test_popular_name_is_refreshed_before_it_expires(self):
        on = Instance("prefetch-on", {"prefetch": True})
        off = Instance("prefetch-off", {"prefetch": False})
        (on_trigger, on_after), (off_trigger, off_after) = in_parallel(
            lambda: self.watch_expiry(on), lambda: self.watch_expiry(off))
        # Refreshed: back to (nearly) the full TTL while the old entry was still fresh.
        self.assertTrue(any(ttl >= world.POPULAR_TTL - 1 for ttl in on_after),
                        "prefetch on: TTL %d, then %s" % (on_trigger, on_after))
        # Not refreshed: the TTL only runs down.
        self.assertTrue(all(ttl <= off_trigger for ttl in off_after),
                        "prefetch off: TTL %d, then %s" % (off_trigger, off_after))


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
            # Both caches age in whole seconds, and libunbound's copy is still valid (TTL 0)
            # during the second it expires in: wait until that second has passed too, so the
            # upstream side really has nothing fresh and only the stale answer is left.
            time.sleep(max(0.0, cached_at + world.SHORT_TTL + 1.5 - time.monotonic()))

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
