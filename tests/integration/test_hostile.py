#!/usr/bin/env python3
# Fault tests: what hostile or broken clients do to a running dnsvagt over TCP (issue 9), on an
# instance with small limits. Every test ends by checking that the server still answers others.
"""Hostile TCP clients: outside the ACL, hogging slots, slowloris, pipelining without reading,
junk. Each bounded in time; loopback only."""

import select
import socket
import sys
import time
import unittest

import subject
import wire
import world

W = world.PARENT
INSIDE = "127.0.0.1"       # in server.allow
INSIDE_TOO = "127.0.0.3"   # in server.allow, another client
OUTSIDE = "127.0.0.2"      # not in server.allow
MAX_TCP = 6
PER_CLIENT = 3
QUERY_TIMEOUT = 2          # seconds
WRITE_TIMEOUT = 2
IDLE_TIMEOUT = 4
BOUND = 15.0               # how long a test waits for what it expects (a bound, not a timing)

env = None
server = None


class Server:
    """The dnsvagt under test with the limits above and metrics on a port of its own."""

    def __init__(self):
        self.port, self.metrics_port, self.daemon = env.start_dnsvagt(
            "hostile", self.configure, metrics=True, threads=2)

    @staticmethod
    def configure(settings, conf_dir):
        settings["server"].update(allow=[INSIDE + "/32", INSIDE_TOO + "/32"],
                                  max_tcp_connections=MAX_TCP,
                                  max_tcp_connections_per_client=PER_CLIENT,
                                  tcp_query_timeout="%ds" % QUERY_TIMEOUT,
                                  tcp_write_timeout="%ds" % WRITE_TIMEOUT,
                                  tcp_idle_timeout="%ds" % IDLE_TIMEOUT)

    def metric(self, name, **labels):
        return world.scraped_metric(self.metrics_port, name, **labels)

    def rss_kib(self):
        with open("/proc/%d/status" % self.daemon.process.pid) as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")


def setUpModule():
    global env, server
    env = subject.Environment.with_world("the limits are dnsvagt's config keys")
    server = Server()


def closed_within(sock, bound=BOUND):
    """True if the server closes `sock` (EOF or reset) within `bound` seconds; replies that
    arrive meanwhile are read and dropped."""
    deadline = time.monotonic() + bound
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


class HostileTcpTest(unittest.TestCase):
    def tearDown(self):
        env.check_alive(self)
        self.assert_answers(INSIDE_TOO)

    def ask(self, sock, name="www.secure." + W, qtype=wire.TYPE_A, timeout=3.0):
        """One query on `sock`; its reply, or None if the connection closed or was silent."""
        packet_id = int(time.monotonic() * 1000) & 0xFFFF
        sock.settimeout(timeout)
        try:
            sock.sendall(wire.frame(wire.query(packet_id, name, qtype)))
            return wire.Reply(wire.tcp_read_message(sock))
        except (OSError, ConnectionError):
            return None

    def assert_answers(self, source):
        """A new connection from `source` gets its answer (retried within BOUND: the server
        learns of closed connections asynchronously)."""
        deadline = time.monotonic() + BOUND
        while True:
            with wire.tcp_connect(server.port, source=source) as sock:
                reply = self.ask(sock)
                if reply is not None:
                    self.assertEqual(reply.rcode, "NOERROR")
                    return
            if time.monotonic() > deadline:
                self.fail("no answer over TCP to %s within %.0f s\n%s"
                          % (source, BOUND, server.daemon.log_tail()))
            time.sleep(0.2)

    def test_connections_from_outside_the_acl_are_closed_and_take_no_slot(self):
        before = server.metric("dnsvagt_tcp_connections_dropped_total", reason="acl")
        outsiders = [wire.tcp_connect(server.port, source=OUTSIDE) for _ in range(2 * MAX_TCP)]
        try:
            # Twice the slots are connected from outside: if they held any, none would be left.
            with wire.tcp_connect(server.port, source=INSIDE) as sock:
                self.assertIsNotNone(self.ask(sock), "no TCP slot left for an allowed client "
                                                     "while outsiders are connected")
            for sock in outsiders:
                self.assertTrue(closed_within(sock), "a connection from outside stays open")
            with wire.tcp_connect(server.port, source=OUTSIDE) as sock:
                self.assertIsNone(self.ask(sock), "a query from outside the ACL was answered")
        finally:
            for sock in outsiders:
                sock.close()
        self.assertGreaterEqual(
            server.metric("dnsvagt_tcp_connections_dropped_total", reason="acl") - before,
            2 * MAX_TCP)

    def test_one_client_cannot_take_every_slot(self):
        own = []
        try:
            for _ in range(PER_CLIENT):
                sock = wire.tcp_connect(server.port, source=INSIDE)
                own.append(sock)
                self.assertIsNotNone(self.ask(sock))
            extra = wire.tcp_connect(server.port, source=INSIDE)
            own.append(extra)
            self.assertIsNone(self.ask(extra), "connection %d of one client was answered"
                              % (PER_CLIENT + 1))
            self.assert_answers(INSIDE_TOO)
        finally:
            for sock in own:
                sock.close()
        self.assertGreaterEqual(
            server.metric("dnsvagt_tcp_connections_dropped_total", reason="per_client_limit"), 1)

    def test_slowloris_inside_the_acl_is_closed_by_the_query_deadline(self):
        # One byte every 0.2 s: the idle timeout never fires, the whole query takes ~10 s.
        payload = wire.frame(wire.query(0x5151, "slow.secure." + W))
        closed = False
        with wire.tcp_connect(server.port, source=INSIDE) as sock:
            sent = 0
            deadline = time.monotonic() + BOUND
            try:
                while not closed and sent < len(payload) and time.monotonic() < deadline:
                    sock.sendall(payload[sent:sent + 1])
                    sent += 1
                    ready, _, _ = select.select([sock], [], [], 0.2)
                    closed = bool(ready) and not sock.recv(4096)
            except (ConnectionResetError, BrokenPipeError):
                closed = True
            self.assertTrue(closed, "a query trickled in over %.0f s was waited for (%d of %d "
                                    "bytes sent)" % (0.2 * sent, sent, len(payload)))
        self.assertGreaterEqual(
            server.metric("dnsvagt_tcp_connections_dropped_total", reason="query_timeout"), 1)

    def test_pipelining_without_reading_holds_bounded_memory(self):
        big = "big.secure." + W
        with wire.tcp_connect(server.port, source=INSIDE) as sock:
            self.assertIsNotNone(self.ask(sock, big, wire.TYPE_TXT))  # cached from now on
        rss_before = server.rss_kib()
        queries = b"".join(wire.frame(wire.query(i & 0xFFFF, big, wire.TYPE_TXT))
                           for i in range(30000))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # and never read
        sock.bind((INSIDE, 0))
        sock.connect((world.LOOPBACK, server.port))
        sock.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 10
        try:
            while sent < len(queries) and time.monotonic() < deadline:
                _, ready, _ = select.select([], [sock], [], 0.2)
                if ready:
                    try:
                        sent += sock.send(queries[sent:sent + 65536])
                    except (BlockingIOError, ConnectionResetError, BrokenPipeError):
                        break
            time.sleep(0.5)  # what was read is answered by now
            grown_mib = (server.rss_kib() - rss_before) / 1024.0
            # Unbounded, each ~50-byte query queued a ~2.5 KB answer: 30000 of them ~70 MiB.
            self.assertLess(grown_mib, 24, "the server grew %.1f MiB for a client that "
                                           "uploaded %d KiB and read nothing"
                            % (grown_mib, sent // 1024))
            dropped = lambda: server.metric("dnsvagt_tcp_connections_dropped_total",
                                            reason="write_timeout")
            end = time.monotonic() + BOUND
            while dropped() < 1 and time.monotonic() < end:
                time.sleep(0.3)
            self.assertGreaterEqual(dropped(), 1, "the non-reading client was never closed")
        finally:
            sock.close()

    def test_64_kib_of_junk_is_closed_and_harms_no_one(self):
        junk = bytes((i * 7919 + 13) & 0xFF for i in range(65536))
        with wire.tcp_connect(server.port, source=INSIDE) as sock:
            try:
                sock.sendall(junk)
            except (ConnectionResetError, BrokenPipeError):
                pass
            self.assertTrue(closed_within(sock), "the junk connection stays open")


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
