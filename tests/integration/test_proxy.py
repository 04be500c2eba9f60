#!/usr/bin/env python3
# PROXY protocol v2 (issue 11): a load balancer in server.proxy_protocol_from puts a header
# before each datagram and at the start of each connection; the client it names is the client
# for the ACL, the rate limit and the query log. Headers from anyone else, and a trusted source
# without one, are refused and counted.
"""PROXY protocol v2 over UDP and TCP from a trusted and an untrusted loopback source."""

import ipaddress
import os
import socket
import struct
import sys
import time
import unittest

import subject
import wire
import world

W = world.PARENT
PROXY = "127.0.0.2"       # in server.proxy_protocol_from (and in allow, for its LOCAL checks)
CLIENT = "127.0.0.1"      # in allow, not a proxy
OUTSIDER = "198.51.100.7"  # a proxied client outside allow
QPS = 5                    # server.rate_limit, per proxied client
BOUND = 15.0               # how long a test waits for what it expects (a bound, not a timing)
SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"

env = None
server = None


def proxy_header(source, stream, local=False, version=2):
    """A v2 header naming `source` ("192.0.2.10" or "2001:db8::5") as the client."""
    if local:
        return SIGNATURE + bytes([version << 4, 0x00]) + struct.pack("!H", 0)
    address = ipaddress.ip_address(source)
    family = 0x10 if address.version == 4 else 0x20
    destination = ipaddress.ip_address("127.0.0.1" if address.version == 4 else "::1")
    block = address.packed + destination.packed + struct.pack("!HH", 40000, 53)
    return (SIGNATURE + bytes([version << 4 | 0x1, family | (0x1 if stream else 0x2)])
            + struct.pack("!H", len(block)) + block)


class Server:
    """The dnsvagt under test: PROXY headers from PROXY only, a query log and a rate limit."""

    def __init__(self):
        self.query_log = None
        self.port, self.metrics_port, _ = env.start_dnsvagt(
            "proxy", self.configure, metrics=True, threads=2)

    def configure(self, settings, conf_dir):
        # The readiness probe comes from 127.0.0.1, which is no proxy.
        settings["server"].update(
            allow=[CLIENT + "/32", PROXY + "/32", "192.0.2.0/24", "2001:db8::/32"],
            proxy_protocol_from=[PROXY + "/32"], rate_limit={"qps": QPS, "burst": QPS})
        self.query_log = os.path.join(conf_dir, "queries.jsonl")
        settings["logging"] = {"query_log": self.query_log}

    def refused(self, transport, reason):
        return world.scraped_metric(self.metrics_port, "dnsvagt_proxy_headers_refused_total",
                                    transport=transport, reason=reason)

    def logged_clients(self, name):
        """The clients the query log names for `name` (a thread writes it: waits for one)."""
        return [line["client"] for line in subject.logged_lines(self.query_log, name + ".", BOUND)]


def setUpModule():
    global env, server
    env = subject.Environment.with_world("server.proxy_protocol_from is dnsvagt's config key")
    server = Server()


def query(name, qid=0x4242):
    return wire.query(qid, name)


def udp(payload, source, timeout=2.0):
    reply = wire.udp_exchange(server.port, payload, timeout=timeout, source=source)
    return None if reply is None else wire.Reply(reply)


def tcp_replies(source, pieces, count, timeout=3.0):
    """Sends `pieces` on one connection from `source` (a pause between them), then reads
    `count` replies; returns them, fewer if the server closed the connection."""
    replies = []
    with wire.tcp_connect(server.port, timeout=timeout, source=source) as sock:
        try:
            for i, piece in enumerate(pieces):
                if i:
                    time.sleep(0.2)
                sock.sendall(piece)
            while len(replies) < count:
                replies.append(wire.Reply(wire.tcp_read_message(sock)))
        except (OSError, ConnectionError):
            pass
    return replies


class ProxyProtocolTest(unittest.TestCase):
    def tearDown(self):
        env.check_alive(self)
        reply = udp(query("www.secure." + W), CLIENT)
        self.assertIsNotNone(reply, "a plain client gets no answer after the test")
        self.assertEqual(reply.rcode, "NOERROR")

    def test_a_proxied_udp_query_is_answered_and_logged_as_its_client(self):
        for client, name in (("192.0.2.10", "udp4.secure." + W),
                             ("2001:db8::5", "udp6.secure." + W)):
            reply = udp(proxy_header(client, stream=False) + query(name), PROXY)
            self.assertIsNotNone(reply, "no answer to a proxied query from %s" % client)
            self.assertEqual(reply.rcode, "NXDOMAIN")
            self.assertEqual(server.logged_clients(name), [client])

    def test_a_proxied_tcp_connection_reads_its_header_in_pieces_then_pipelined_queries(self):
        header = proxy_header("192.0.2.30", stream=True)
        names = ["tcp-a.secure." + W, "tcp-b.secure." + W]
        framed = b"".join(wire.frame(query(name, 0x100 + i)) for i, name in enumerate(names))
        replies = tcp_replies(PROXY, [header[:7], header[7:20], header[20:] + framed], 2)
        self.assertEqual([r.rcode for r in replies], ["NXDOMAIN", "NXDOMAIN"])
        for name in names:
            self.assertEqual(server.logged_clients(name), ["192.0.2.30"])

    def test_the_acl_judges_the_proxied_client(self):
        reply = udp(proxy_header(OUTSIDER, stream=False) + query("acl.secure." + W), PROXY)
        self.assertIsNotNone(reply)
        self.assertEqual(reply.rcode, "REFUSED")
        before = world.scraped_metric(server.metrics_port,
                                      "dnsvagt_tcp_connections_dropped_total", reason="acl")
        replies = tcp_replies(PROXY, [proxy_header(OUTSIDER, stream=True)
                                      + wire.frame(query("acl-tcp.secure." + W))], 1)
        self.assertEqual(replies, [], "a proxied client outside the ACL was answered over TCP")
        self.assertEqual(world.scraped_metric(server.metrics_port,
                                              "dnsvagt_tcp_connections_dropped_total",
                                              reason="acl") - before, 1)

    def test_the_rate_limit_keys_on_the_proxied_client(self):
        limited = "192.0.2.40"
        sent = 4 * QPS
        with wire.udp_socket(PROXY) as sock:
            for i in range(sent):  # at once: the bucket refills by little meanwhile
                sock.sendto(proxy_header(limited, stream=False) + query("rl.secure." + W, i),
                            ("127.0.0.1", server.port))
            answered = 0
            sock.settimeout(1.0)
            try:
                while True:
                    sock.recv(65535)
                    answered += 1
            except socket.timeout:
                pass
        self.assertGreaterEqual(answered, 1)
        self.assertLess(answered, 2 * QPS, "%d of %d queries from one proxied client were "
                                           "answered at %d qps" % (answered, sent, QPS))
        # Another client behind the same proxy has a budget of its own.
        reply = udp(proxy_header("192.0.2.41", stream=False) + query("www.secure." + W), PROXY)
        self.assertIsNotNone(reply, "the proxy's other client was limited with the first")
        self.assertEqual(reply.rcode, "NOERROR")

    def test_a_local_header_keeps_the_proxy_as_the_client(self):
        name = "local.secure." + W
        reply = udp(proxy_header(None, stream=False, local=True) + query(name), PROXY)
        self.assertIsNotNone(reply, "no answer to a LOCAL header (dnsdist's health check)")
        self.assertEqual(server.logged_clients(name), [PROXY])

    def test_a_header_from_a_source_that_is_no_proxy_is_refused_and_counted(self):
        before = {t: server.refused(t, "untrusted") for t in ("udp", "tcp")}
        self.assertIsNone(udp(proxy_header("192.0.2.50", stream=False)
                              + query("spoof.secure." + W), CLIENT, timeout=1.0))
        replies = tcp_replies(CLIENT, [proxy_header("192.0.2.50", stream=True)
                                       + wire.frame(query("spoof-tcp.secure." + W))], 1)
        self.assertEqual(replies, [])
        for transport in ("udp", "tcp"):
            self.assertEqual(server.refused(transport, "untrusted") - before[transport], 1,
                             transport)
        self.assertEqual(server.logged_clients("spoof.secure." + W), [])

    def test_a_proxy_without_a_header_or_with_a_bad_one_is_refused_and_counted(self):
        for reason, start in (("missing", b""),
                              ("invalid", proxy_header("192.0.2.60", stream=False, version=1))):
            before = {t: server.refused(t, reason) for t in ("udp", "tcp")}
            self.assertIsNone(udp(start + query("bare.secure." + W), PROXY, timeout=1.0), reason)
            self.assertEqual(tcp_replies(PROXY, [start + wire.frame(query("bare.secure." + W))],
                                         1), [], reason)
            for transport in ("udp", "tcp"):
                self.assertEqual(server.refused(transport, reason) - before[transport], 1,
                                 "%s over %s" % (reason, transport))


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
