#!/usr/bin/python3
# Protocol integration test: dnsvagt's handling of DNS messages on the wire (TCP pipelining,
# truncation, EDNS, FORMERR/NOTIMP/REFUSED, QR=1, malformed packets) with raw packets; TCP idle
# timeout and connection cap, and queries over IPv6, on a second instance with tight limits.
"""Usage: test_protocol.py --dnsvagt PATH | --reference  [--keep] [-k PATTERN]"""

import os
import random
import socket
import struct
import sys
import time
import unittest

import subject
import wire
import world
from wire import Reply, TYPE_A, TYPE_TXT

W = "world.test"
MAX_UDP = 1232  # the UDP payload size dnsvagt advertises and never exceeds


class Env:
    env = None
    port = None             # the server under test, default allow list
    restricted_port = None  # the same server with server.allow excluding 127.0.0.1


def setUpModule():
    Env.env = subject.Environment()
    try:
        Env.env.start_world()
        Env.port = Env.env.start_subject("subject")
        Env.restricted_port = Env.env.start_subject("restricted", allow=["127.0.0.2/32"])
    except BaseException:
        Env.env.stop()
        raise


class Ids:
    """Distinct query IDs, so a reply can never be matched to the wrong query by luck."""
    next_id = 0x1200

    @classmethod
    def take(cls):
        cls.next_id = (cls.next_id + 7) & 0xFFFF
        return cls.next_id


class ReferenceDeviations:
    """Checks the reference Unbound is known to fail, seen in a --reference run."""
    seen = set()


def tearDownModule():
    Env.env.stop()
    if ReferenceDeviations.seen:
        sys.stderr.write("known deviations of the reference Unbound (not failures):\n%s\n"
                         % "\n".join("  - " + d for d in sorted(ReferenceDeviations.seen)))


class ProtocolTest(unittest.TestCase):

    def assert_unless_reference(self, condition, message, deviation):
        """Asserts `condition` of dnsvagt; of the reference Unbound, which is known to fail
        it (`deviation` says how), only notes it."""
        if subject.Options.dnsvagt is None:
            if not condition:
                ReferenceDeviations.seen.add(deviation)
            return
        self.assertTrue(condition, message)

    def udp(self, packet, port=None, strict=True):
        reply = wire.udp_exchange(port or Env.port, packet)
        self.assertIsNotNone(reply, "no UDP reply to %s" % packet.hex())
        return Reply(reply, strict)

    def tcp(self, packet, port=None, strict=True):
        return Reply(wire.tcp_exchange(port or Env.port, packet), strict)

    def assert_answers_normally(self):
        """The server is alive and answers a normal query over UDP and TCP."""
        Env.env.check_alive(self)
        for exchange in (self.udp, self.tcp):
            qid = Ids.take()
            reply = exchange(wire.query(qid, "www.secure." + W, edns={"do": True}))
            self.assertEqual((reply.id, reply.qr, reply.rcode, reply.ad),
                             (qid, True, "NOERROR", True), exchange.__name__)

    def assert_error(self, packet, rcode, transport="udp"):
        """`packet` gets exactly `rcode` (any of a tuple), with its ID, and no amplification."""
        reply = (self.udp if transport == "udp" else self.tcp)(packet, strict=False)
        (qid,) = struct.unpack("!H", packet[:2])
        rcodes = rcode if isinstance(rcode, tuple) else (rcode,)
        self.assert_unless_reference(
            reply.malformed is None, "error reply is malformed: %s" % reply.malformed,
            "its FORMERR reply to a cut question keeps QDCOUNT 1 but has no question")
        self.assertEqual(reply.id, qid)
        self.assertTrue(reply.qr)
        self.assertIn(reply.rcode, rcodes, "query %s" % packet.hex())
        self.assertEqual(reply.ancount, 0)
        self.assertLessEqual(len(reply.data), len(packet),
                             "error reply larger than the query (amplification)")
        return reply

    # -- normal operation

    def test_udp_query(self):
        self.assert_answers_normally()

    def test_tcp_pipelined(self):
        names = [("www.secure." + W, "NOERROR"), ("nosuch.secure." + W, "NXDOMAIN"),
                 ("www.bogus." + W, "SERVFAIL"), ("www.insecure." + W, "NOERROR"),
                 ("foo.wild." + W, "NOERROR"), ("www.nsec3." + W, "NOERROR"),
                 ("nosuch.nsec3." + W, "NXDOMAIN"), ("www.secure." + W, "NOERROR")]
        expected = {}
        stream = b""
        for name, rcode in names:
            qid = Ids.take()
            packet = wire.query(qid, name, edns={"do": True})
            expected[qid] = (rcode, packet[12:12 + len(wire.encode_name(name)) + 4])
            stream += wire.frame(packet)
        with wire.tcp_connect(Env.port, timeout=4.0) as sock:
            sock.sendall(stream)  # every query before any reply: pipelined
            replies = [Reply(wire.tcp_read_message(sock)) for _ in names]
        self.assertEqual(sorted(r.id for r in replies), sorted(expected))
        for reply in replies:
            rcode, question = expected[reply.id]
            self.assertEqual(reply.rcode, rcode, "reply %d" % reply.id)
            self.assertEqual(reply.data[12:12 + len(question)], question, "question echoed")

    def test_tcp_connection_reused_sequentially(self):
        with wire.tcp_connect(Env.port) as sock:
            for name in ("www.secure." + W, "www.insecure." + W, "txt.secure." + W):
                qid = Ids.take()
                sock.sendall(wire.frame(wire.query(qid, name)))
                reply = Reply(wire.tcp_read_message(sock))
                self.assertEqual((reply.id, reply.rcode), (qid, "NOERROR"))

    # -- truncation and EDNS sizes

    def test_large_answer_truncated_over_udp(self):
        for edns in ({"udp_size": 1232}, {"udp_size": 1232, "do": True}, {"udp_size": 512},
                     {"udp_size": 4096}, None):
            with self.subTest(edns=edns):
                reply = self.udp(wire.query(Ids.take(), "big.secure." + W, TYPE_TXT, edns=edns))
                limit = min(edns["udp_size"], MAX_UDP) if edns else 512
                self.assertEqual(reply.rcode, "NOERROR")
                self.assertTrue(reply.tc, "TC not set")
                self.assertLessEqual(len(reply.data), limit)

    def test_large_answer_complete_over_tcp(self):
        reply = self.tcp(wire.query(Ids.take(), "big.secure." + W, TYPE_TXT,
                                    edns={"do": True}))
        self.assertEqual(reply.rcode, "NOERROR")
        self.assertFalse(reply.tc)
        self.assertTrue(reply.ad)
        self.assertEqual(reply.answer_types.count(TYPE_TXT), 10)
        self.assertGreater(len(reply.data), MAX_UDP)

    def test_client_udp_size_honoured(self):
        # medium.secure: about 800 bytes with its RRSIG: fits 1232, not 512.
        fits = self.udp(wire.query(Ids.take(), "medium.secure." + W, TYPE_TXT,
                                   edns={"udp_size": 1232, "do": True}))
        self.assertFalse(fits.tc)
        self.assertEqual(fits.answer_types.count(TYPE_TXT), 3)
        self.assertGreater(len(fits.data), 512)
        for size in (512, 100):  # sizes below 512 count as 512 (RFC 6891 6.2.5)
            with self.subTest(udp_size=size):
                small = self.udp(wire.query(Ids.take(), "medium.secure." + W, TYPE_TXT,
                                            edns={"udp_size": size, "do": True}))
                self.assertTrue(small.tc)
                self.assertLessEqual(len(small.data), 512)

    def test_advertised_udp_size(self):
        reply = self.udp(wire.query(Ids.take(), "www.secure." + W, edns={"udp_size": 4096}))
        self.assertIsNotNone(reply.opt, "no OPT in the reply to an EDNS query")
        self.assertEqual(reply.opt[0], MAX_UDP)
        self.assertEqual(reply.opt[2], 0, "EDNS version")

    def test_no_opt_without_edns(self):
        reply = self.udp(wire.query(Ids.take(), "www.secure." + W))
        self.assertEqual(reply.rcode, "NOERROR")
        self.assertIsNone(reply.opt)

    def test_do_bit_echoed(self):
        reply = self.udp(wire.query(Ids.take(), "www.secure." + W, edns={"do": True}))
        self.assertTrue(reply.opt[3])

    def test_edns_version_1_badvers(self):
        for transport in ("udp", "tcp"):
            with self.subTest(transport=transport):
                reply = self.assert_error(
                    wire.query(Ids.take(), "www.secure." + W, edns={"version": 1}),
                    "BADVERS", transport)
                self.assertIsNotNone(reply.opt)
                self.assertEqual(reply.opt[2], 0, "BADVERS must carry our version, 0")

    # -- errors

    def test_formerr(self):
        name = "www.secure." + W
        qid = Ids.take
        cases = {
            "qdcount 0": wire.header(qid(), qd=0),
            "qdcount 0 with EDNS": wire.header(qid(), qd=0, ar=1) + wire.opt_record(),
            "qdcount 2": wire.header(qid(), qd=2) + wire.question(name)
            + wire.question("www.insecure." + W),
            "question without type and class": wire.header(qid()) + wire.encode_name(name),
            "question cut in its class": wire.header(qid()) + wire.question(name)[:-1],
            "two OPT records": wire.header(qid(), ar=2) + wire.question(name)
            + wire.opt_record() + wire.opt_record(),
        }
        for what, packet in cases.items():
            for transport in ("udp", "tcp"):
                with self.subTest(what, transport=transport):
                    self.assert_error(packet, "FORMERR", transport)
        self.assert_answers_normally()

    def test_notimp(self):
        name = "www.secure." + W
        for opcode, rcodes in ((1, ("NOTIMP",)), (2, ("NOTIMP",)), (5, ("NOTIMP",)),
                               (4, ("NOTIMP", "REFUSED"))):  # NOTIFY: either is fine
            for transport in ("udp", "tcp"):
                with self.subTest(opcode=opcode, transport=transport):
                    reply = self.assert_error(wire.query(Ids.take(), name, opcode=opcode),
                                              rcodes, transport)
                    self.assertEqual(reply.opcode, opcode)

    def test_qr_set_gets_no_reply(self):
        packet = wire.query(Ids.take(), "www.secure." + W, flags=0x8100)
        self.assertIsNone(wire.udp_exchange(Env.port, packet, timeout=1.0))
        replies = wire.tcp_batch(Env.port, [wire.frame(packet)], wait=1.0)
        self.assertEqual(replies, [[]])
        self.assert_answers_normally()

    def test_refused_outside_allow(self):
        for edns in (None, {"do": True}):
            packet = wire.query(Ids.take(), "www.secure." + W, edns=edns)
            for transport in ("udp", "tcp"):
                with self.subTest(edns=edns, transport=transport):
                    if transport == "tcp" and subject.Options.dnsvagt is not None:
                        # dnsvagt closes a connection from outside server.allow at accept, so
                        # that it holds no TCP slot; Unbound (access-control refuse) answers.
                        replies = wire.tcp_batch(Env.restricted_port, [wire.frame(packet)],
                                                 wait=1.0)
                        self.assertEqual(replies, [[]])
                        continue
                    reply = (self.udp if transport == "udp" else self.tcp)(
                        packet, port=Env.restricted_port)
                    self.assertEqual((reply.id, reply.rcode), (struct.unpack("!H", packet[:2])[0],
                                                               "REFUSED"))
                    self.assertEqual(reply.ancount + reply.nscount, 0)
                    self.assert_unless_reference(
                        len(reply.data) <= len(packet),
                        "REFUSED reply (%d bytes) larger than the query (%d)"
                        % (len(reply.data), len(packet)),
                        "its REFUSED reply to an EDNS query carries EDE 18 and so is larger "
                        "than the query")

    def test_outside_allow_malformed_queries_get_refused_too(self):
        # The ACL comes first: FORMERR, NOTIMP or BADVERS would tell an outsider how its
        # packets are judged.
        packets = {"NOTIMP": wire.query(Ids.take(), "www.secure." + W, opcode=2),
                   "BADVERS": wire.query(Ids.take(), "www.secure." + W, edns={"version": 1}),
                   "FORMERR": wire.header(Ids.take(), qd=2) + wire.question("a." + W)}
        for judged, packet in packets.items():
            with self.subTest(judged=judged):
                reply = self.udp(packet, port=Env.restricted_port, strict=False)
                self.assert_unless_reference(
                    reply.rcode == "REFUSED", "%s query from outside the ACL got %s"
                    % (judged, reply.rcode), "it judges a query before its access control")

    def test_allowed_source_answered(self):
        # The positive control of test_refused_outside_allow: 127.0.0.2 is in server.allow.
        qid = Ids.take()
        with wire.udp_socket(source="127.0.0.2") as sock:
            sock.settimeout(2.0)
            sock.sendto(wire.query(qid, "www.secure." + W), ("127.0.0.1", Env.restricted_port))
            reply = Reply(sock.recv(65535))
        self.assertEqual((reply.id, reply.rcode), (qid, "NOERROR"))

    # -- malformed packets

    def assert_no_amplification(self, packets, replies, transport):
        for packet, got in zip(packets, replies):
            self.assertLessEqual(len(got), 1, "%s: several replies to %s"
                                 % (transport, packet.hex()))
            for reply in got:
                self.assert_unless_reference(
                    len(reply) <= len(packet),
                    "%s: reply of %d bytes to a malformed query of %d: %s"
                    % (transport, len(reply), len(packet), packet.hex()),
                    "it sends a reply larger than the malformed query with ID %s"
                    % packet[:2].hex())
                if len(reply) >= 4:
                    self.assertEqual(reply[:2], packet[:2], "reply ID differs")
                    self.assertTrue(reply[2] & 0x80, "reply without QR")

    def test_malformed_battery_udp(self):
        packets = malformed_packets()
        replies = wire.udp_batch(Env.port, packets)
        self.assert_no_amplification(packets, replies, "udp")
        self.assert_answers_normally()

    def test_malformed_battery_tcp(self):
        packets = malformed_packets()
        replies = wire.tcp_batch(Env.port, [wire.frame(p) for p in packets])
        self.assert_no_amplification(packets, replies, "tcp")
        self.assert_answers_normally()

    def test_broken_tcp_framing(self):
        payloads = [b"\0\0",                                  # zero-length message
                    b"\0\x01\0",                              # one byte
                    b"\x01\x2c" + b"\0" * 10,                 # says 300, sends 10
                    b"\0",                                    # half a length
                    b"\xff\xff" + bytes(range(256)) * 4]      # says 65535, sends 1 KB
        replies = wire.tcp_batch(Env.port, payloads, wait=1.0)
        for payload, got in zip(payloads, replies):
            for reply in got:
                self.assertLessEqual(len(reply), max(len(payload) - 2, 0),
                                     "reply to broken framing %s" % payload[:16].hex())
        self.assert_answers_normally()


# -- TCP limits and IPv6 (issue 2) ---------------------------------------------------------

IDLE_TIMEOUT = 2       # seconds: server.tcp_idle_timeout of the limits instance
MAX_TCP = 3            # server.max_tcp_connections of the limits instance
CLOSE_BOUND = 10.0     # how long a test waits for a close it expects (a bound, not a timing)


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def start_limits_instance(env, ipv6):
    """Starts a second server with the TCP limits above, also on [::1] when `ipv6`; returns
    its port. The reference Unbound gets its equivalents (tcp-idle-timeout, incoming-num-tcp
    with one thread)."""
    name = "limits"
    conf_dir = os.path.join(env.directory, name)
    os.makedirs(os.path.join(conf_dir, "lists"), exist_ok=True)

    def start(port):
        if subject.Options.dnsvagt is None:
            text = world.unbound_config(conf_dir, "unbound", port, env.world.nsd_port,
                                        env.world.trust_anchor,
                                        ("127.0.0.0/8 allow", "::1/128 allow"))
            if ipv6:
                text = text.replace("  do-ip6: no\n", "  do-ip6: yes\n  interface: ::1\n")
            text = text.replace("remote-control:\n", "  tcp-idle-timeout: %d\n"
                                "  incoming-num-tcp: %d\nremote-control:\n"
                                % (IDLE_TIMEOUT * 1000, MAX_TCP))
            conf = os.path.join(conf_dir, "unbound.conf")
            command = ["unbound", "-d", "-c", conf]
        else:
            config = subject.dnsvagt_settings(env.world, conf_dir, port)
            if ipv6:
                config["server"]["listen"].append("[::1]:%d" % port)
            config["server"].update(tcp_idle_timeout="%ds" % IDLE_TIMEOUT,
                                    max_tcp_connections=MAX_TCP)
            text = subject.config_text(config)
            conf = os.path.join(conf_dir, "dnsvagt.yaml")
            command = [subject.Options.dnsvagt, "-c", conf]
        with open(conf, "w") as out:
            out.write(text)
        return world.start_answering(name, command, os.path.join(conf_dir, "server.log"), port)

    port, daemon = world.on_free_port(start)
    env.daemons.append(daemon)
    return port


def wait_for_close(sock, timeout=CLOSE_BOUND):
    """What the server does with an idle connection within `timeout`: "closed" (EOF or reset),
    "open" (nothing happened) or "data" (it sent something unasked)."""
    sock.settimeout(timeout)
    try:
        return "data" if sock.recv(4096) else "closed"
    except (ConnectionResetError, ConnectionAbortedError):
        return "closed"
    except socket.timeout:
        return "open"


class TcpLimitsTest(unittest.TestCase):
    """server.tcp_idle_timeout and server.max_tcp_connections on an instance of their own.

    What a broken server does here: one without an idle timeout leaves idle connections open
    (wait_for_close says "open" after 10 s, five times the timeout); one that closes by age
    rather than idleness closes the busy connection; one without a cap answers the fourth
    connection; one that leaks cap slots on close never accepts a connection again."""

    port = None
    assert_unless_reference = ProtocolTest.assert_unless_reference

    @classmethod
    def setUpClass(cls):
        cls.port = start_limits_instance(Env.env, has_ipv6_loopback())

    def tearDown(self):
        Env.env.check_alive(self)

    def connect(self):
        return wire.tcp_connect(self.port)

    def ask(self, sock, timeout=2.0):
        """Sends one query on `sock`; returns its reply (checked), or None if the server
        closed the connection or did not answer within `timeout`."""
        qid = Ids.take()
        sock.settimeout(timeout)
        try:
            sock.sendall(wire.frame(wire.query(qid, "www.secure." + W)))
            reply = Reply(wire.tcp_read_message(sock))
        except (OSError, ConnectionError):  # closed, reset or timed out
            return None
        self.assertEqual((reply.id, reply.rcode), (qid, "NOERROR"))
        return reply

    def answering_connection(self, bound=CLOSE_BOUND):
        """A new connection that has answered a query. Retried within `bound`: the server
        learns of connections closed by an earlier step (or test) asynchronously."""
        deadline = time.monotonic() + bound
        while True:
            sock = self.connect()
            if self.ask(sock) is not None:
                return sock
            sock.close()
            if time.monotonic() > deadline:
                self.fail("no new TCP connection was answered within %.0f s" % bound)
            time.sleep(0.1)

    def test_idle_connection_without_query_is_closed(self):
        with self.connect() as sock:
            self.assertEqual(wait_for_close(sock), "closed")

    def test_idle_connection_after_an_answer_is_closed(self):
        # Runs right after test_connection_cap: its connections may still hold their slots.
        with self.answering_connection() as sock:
            self.assertEqual(wait_for_close(sock), "closed")

    def test_busy_connection_stays_open_past_the_idle_timeout(self):
        # A query every quarter timeout for three timeouts: never idle for a whole one.
        with self.connect() as sock:
            for i in range(12):
                self.assertIsNotNone(self.ask(sock), "query %d on the busy connection" % i)
                time.sleep(IDLE_TIMEOUT / 4)
            # The same connection still closes once it does go idle.
            self.assertEqual(wait_for_close(sock), "closed")

    def test_connection_cap(self):
        young = [self.answering_connection() for _ in range(MAX_TCP)]
        extra = None
        try:
            for sock in young:  # young and just used: none is near its idle timeout
                self.assertIsNotNone(self.ask(sock))
            try:
                extra = self.connect()
            except OSError:
                pass  # refused outright: also no answer
            # Unbound makes room instead: with few free slots its idle timeout drops to 0, so
            # it closes the young connections after their answers and serves the new one.
            evicts = ("with every TCP slot taken it closes connections right after an answer "
                      "(tcp-idle-timeout drops to 0 below 20% free slots) and serves one more")
            if extra is not None:
                self.assert_unless_reference(
                    self.ask(extra, timeout=1.0) is None,
                    "connection %d of a cap of %d was answered" % (MAX_TCP + 1, MAX_TCP),
                    evicts)
            for i, sock in enumerate(young):
                self.assert_unless_reference(
                    self.ask(sock) is not None,
                    "connection %d under the cap no longer answers" % (i + 1), evicts)
            young.pop(0).close()
            self.answering_connection().close()
        finally:
            for sock in young + ([extra] if extra else []):
                sock.close()

    def test_ipv6_udp_and_tcp(self):
        if not has_ipv6_loopback():
            self.skipTest("no ::1 on this machine")
        packet_id = Ids.take()
        packet = wire.query(packet_id, "www.secure." + W, edns={"do": True})
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.settimeout(2.0)
            sock.sendto(packet, ("::1", self.port))
            udp = Reply(sock.recv(65535))
        with socket.create_connection(("::1", self.port), timeout=2.0) as sock:
            sock.settimeout(2.0)
            sock.sendall(wire.frame(packet))
            tcp = Reply(wire.tcp_read_message(sock))
        for transport, reply in (("udp", udp), ("tcp", tcp)):
            with self.subTest(transport=transport):
                self.assertEqual((reply.id, reply.qr, reply.rcode, reply.ad),
                                 (packet_id, True, "NOERROR", True))
                self.assertIn(TYPE_A, reply.answer_types)


def malformed_packets():
    """Broken queries: each must get no reply or an error reply no larger than itself."""
    rng = random.Random(6761)
    name = "www.secure." + W
    h = wire.header
    tail = struct.pack("!HH", TYPE_A, 1)
    packets = [
        b"",
        b"\x12",
        h(0x1301)[:11],                                       # header cut short
        h(0x1302),                                            # qdcount 1, no question
        h(0x1303) + b"\xc0\x0c" + tail,                      # pointer to itself
        h(0x1304) + b"\xc0\x0e\xc0\x0c" + tail,              # two pointers in a loop
        h(0x1305) + b"\x03www\xc0\x0c" + tail,               # label then pointer back
        h(0x1306) + b"\xc0\xff" + tail,                      # pointer past the end
        h(0x1307) + b"\x03www\xc0\x40" + tail,               # pointer forward, past the end
        h(0x1308) + b"\x40" + b"a" * 64 + b"\0" + tail,      # label of 64 (extended type)
        h(0x1309) + b"\x80" + b"a" * 10 + b"\0" + tail,      # reserved label type 10
        h(0x130a) + b"\x3fabc",                               # label longer than the packet
        h(0x130b) + (b"\x3f" + b"a" * 63) * 5 + b"\0" + tail,  # name of 321 bytes
        h(0x130c) + (b"\x3f" + b"b" * 63) * 4 + b"\0" + tail,  # name of 257 bytes
        h(0x130d) + b"\x03www\x06secure",                    # name without its root label
        h(0x130e, ar=1) + wire.question(name) + b"\0" + struct.pack("!HHIH", 41, 1232, 0, 100),
        h(0x130f, ar=1) + wire.question(name) + b"\x01x\0" + struct.pack("!HHIH", 41, 1232, 0, 0),
        h(0x1310, ar=5) + wire.question(name),                # arcount 5, no records
        h(0x1311, an=1) + wire.question(name) + b"\xff" * 7,  # answer record cut short
        h(0x1312, ar=1) + wire.question(name) + wire.opt_record(
            options=struct.pack("!HH", 10, 200) + b"\0" * 8),  # option longer than the OPT
        h(0x1313, qd=0xFFFF) + wire.question(name),           # qdcount 65535
    ]
    random_packets = []
    for i in range(20):  # random bytes
        random_packets.append(bytes(rng.randrange(256) for _ in range(rng.randrange(12, 200))))
    for i in range(20):  # a plausible query header, then random bytes
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 120)))
        random_packets.append(h(0x1400 + i, ar=rng.randrange(3)) + body)
    # Random bytes that happen to form a well-formed message are not malformed: leave them out.
    return packets + [p for p in random_packets if not well_formed(p)]


def well_formed(packet):
    try:
        Reply(packet)
        return True
    except wire.ParseError:
        return False


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
