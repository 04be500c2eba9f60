#!/usr/bin/env python3
# DNS over HTTPS for clients (RFC 8484): server.tls.doh_listen with a certificate of a test CA
# made at test time; dig +https, curl over HTTP/2 and HTTP/1.1, and hand-written HTTP/1.1 and
# HTTP/2 (doh_client.py) as clients; every HTTP error status, junk at the DoH port, limits,
# mTLS, the PROXY header, metrics, query log and config errors.
"""dnsvagt's DoH listener on loopback, with certificates from a test CA."""

import json
import os
import re
import select
import socket
import ssl
import struct
import subprocess
import sys
import time
import unittest

import dig
import doh_client
import pki
import subject
import test_dot
import test_proxy
import wire
import world

W = world.PARENT
TLS_NAME = "doh.test"
NAME = "www.secure.%s." % W
BLOCKED = "tracker.insecure.%s." % W   # exists (A 192.0.2.21), on the test's block list
BLOCK_TTL = 120                        # blocking.ttl: the SOA TTL of a blocked NXDOMAIN
BOUND = 15.0   # how long a test waits for what it expects (a bound, not a timing)
PROXY = "127.0.0.2"    # in server.proxy_protocol_from: a PROXY header before the handshake
OUTSIDE = "127.0.0.3"  # outside the strict instance's server.allow
STRICT_PATH = "/resolve"
PER_CLIENT = 3         # the strict instance's max_tcp_connections_per_client
LARGE = 70000          # a POST body over the 65535 bytes of a DNS message
REFUSED = (ssl.SSLError, ConnectionError, socket.timeout)  # a connection closed at accept

env = None
pki_files = {}
plain = None   # defaults: doh_path /dns-query, no client certificates, a block list
strict = None  # client_ca, server.allow 127.0.0.1 only, doh_path /resolve, low limits


class Instance:
    """A dnsvagt with DoH: its DNS, DoH and metrics ports, query log and DoH path."""

    def __init__(self, name, path=doh_client.PATH, client_ca=None, server=None):
        self.name = name
        self.path = path
        self.doh_port = world.free_port()

        def change(settings, conf_dir):
            tls = {"doh_listen": ["%s:%d" % (world.LOOPBACK, self.doh_port)],
                   "certificate": pki_files["server"][1], "key": pki_files["server"][0]}
            if path != doh_client.PATH:
                tls["doh_path"] = path
            if client_ca:
                tls["client_ca"] = client_ca
            settings["server"]["tls"] = tls
            settings["server"]["proxy_protocol_from"] = [PROXY + "/32"]
            settings["server"].update(server or {})
            block_list = os.path.join(conf_dir, "block.txt")
            with open(block_list, "w") as out:
                out.write(BLOCKED.rstrip(".") + "\n")
            settings["blocking"].update(ttl=BLOCK_TTL, lists=[
                {"name": "local", "file": block_list, "format": "domains"}])
            self.query_log = os.path.join(conf_dir, "queries.jsonl")
            settings["logging"] = {"query_log": self.query_log}

        self.port, self.metrics_port, self.daemon = env.start_dnsvagt(name, change,
                                                                      metrics=True)
        self.wait_for_block_list()

    def wait_for_block_list(self):
        deadline = time.monotonic() + BOUND
        while True:
            reply = wire.udp_exchange(self.port, wire.query(0x0b0b, BLOCKED))
            if reply is not None and wire.Reply(reply).rcode == "NXDOMAIN":
                return
            if time.monotonic() > deadline:
                raise RuntimeError("%s: the block list is not active" % self.name)
            time.sleep(0.2)

    def metric(self, name, **labels):
        return world.scraped_metric(self.metrics_port, name, **labels)

    def grown(self, name, before, by, **labels):
        """How much a metric grew from `before`, once that is `by` (or after BOUND)."""
        return settled(lambda: self.metric(name, **labels) - before, by)

    def errors(self):
        """dnsvagt_doh_errors_total by status."""
        return {status: self.metric("dnsvagt_doh_errors_total", status=status)
                for status in ("400", "404", "405", "413", "415")}

    def errors_grown(self, before, by):
        """How dnsvagt_doh_errors_total grew from `before` (errors()), once that is `by`."""
        return settled(lambda: {status: value - before[status]
                                for status, value in self.errors().items()}, by)

    def logged(self, name):
        return subject.logged_lines(self.query_log, name, BOUND)


def start_servers():
    global plain, strict
    pki_files.update(pki.make_test_pki(os.path.join(env.directory, "pki"), TLS_NAME))
    plain = Instance("doh")
    strict = Instance("doh-strict", path=STRICT_PATH, client_ca=pki_files["ca"], server={
        "allow": ["127.0.0.1/32"], "max_tcp_connections_per_client": PER_CLIENT,
        "tcp_idle_timeout": "4s"})


def setUpModule():
    global env
    env = subject.Environment.with_world("server.tls.doh_listen is dnsvagt's config key")
    start_servers()


# -- clients

def context(alpn=("h2", "http/1.1"), client_certificate=False, ca="ca", tls12=False):
    result = ssl.create_default_context(cafile=pki_files[ca])
    if tls12:
        result.maximum_version = ssl.TLSVersion.TLSv1_2
    if alpn:
        result.set_alpn_protocols(list(alpn))
    if client_certificate:
        result.load_cert_chain(pki_files["client"][1], pki_files["client"][0])
    return result


def http1(instance, alpn=("http/1.1",), client_certificate=False, source="127.0.0.1",
          before=b"", tls12=False):
    sock = doh_client.tls_socket(instance.doh_port,
                                 context(alpn, client_certificate, tls12=tls12), TLS_NAME,
                                 source=source, before=before)
    return doh_client.Http1(sock, TLS_NAME)


def http2(instance, client_certificate=False):
    sock = doh_client.tls_socket(instance.doh_port, context(("h2",), client_certificate),
                                 TLS_NAME)
    if sock.selected_alpn_protocol() != "h2":
        sock.close()
        raise AssertionError("ALPN h2 not chosen")
    return doh_client.Http2(sock, TLS_NAME)


def dig_https(instance, name, get=False, extra=()):
    """dig over DoH (POST, or GET with get=True), verifying the certificate."""
    options = ["+https=" + instance.path, "+tls-ca=" + pki_files["ca"],
               "+tls-hostname=" + TLS_NAME, *extra]
    if get:
        options.append("+https-get")
    return dig.dig(instance.doh_port, name, extra=options)


class Transfer:
    """One transfer of a curl run: HTTP status (0: none), HTTP version, connections curl
    opened for it, curl's exit code, response headers (lower-case names), body."""

    def __init__(self, info, headers, body):
        self.status = info["http_code"]
        self.version = info["http_version"]
        self.connects = info["num_connects"]
        self.exitcode = info["exitcode"]
        self.error = info.get("errormsg")
        self.headers = {name.lower(): values[0] for name, values in headers.items()}
        self.body = body

    def reply(self):
        return wire.Reply(self.body)

    def __repr__(self):
        return "<%s HTTP/%s exit %s %s %r>" % (self.status, self.version, self.exitcode,
                                               self.error or "", self.headers)


def curl(instance, requests, http="--http2", parallel=False, client_certificate=False):
    """One curl run of `requests` (dicts: path, and method, body, content_type) to the
    DoH port; they share connections where curl can (also across --next). Returns a Transfer
    per request, in order."""
    directory = os.path.join(env.directory, "curl")
    os.makedirs(directory, exist_ok=True)
    common = ["-sS", http, "--cacert", pki_files["ca"], "--max-time", "10",
              "--resolve", "%s:%d:%s" % (TLS_NAME, instance.doh_port, world.LOOPBACK),
              "-w", "%{json}\x1f%{header_json}\x1e"]
    if client_certificate:
        common += ["--cert", pki_files["client"][1], "--key", pki_files["client"][0]]
    command = ["curl"] + (["--parallel", "--parallel-max", str(len(requests))]
                          if parallel else [])
    outputs = []
    for i, request in enumerate(requests):
        output = os.path.join(directory, "body-%d" % i)
        if os.path.exists(output):
            os.remove(output)
        outputs.append(output)
        if i:
            command.append("--next")
        command += common + ["-o", output]
        if "method" in request:
            command += ["-X", request["method"]]
        if request.get("body") is not None:
            data = os.path.join(directory, "data-%d" % i)
            with open(data, "wb") as out:
                out.write(request["body"])
            command += ["--data-binary", "@" + data, "-H",
                        "content-type: " + request.get("content_type", doh_client.MESSAGE)]
        command.append("https://%s:%d%s" % (TLS_NAME, instance.doh_port, request["path"]))
    result = subprocess.run(command, capture_output=True, timeout=60)
    by_file = {}
    for record in result.stdout.split(b"\x1e"):
        if record.strip():
            info, headers = (json.loads(part) for part in record.split(b"\x1f"))
            by_file[info["filename_effective"]] = (info, headers)
    transfers = []
    for output in outputs:
        if output not in by_file:
            raise AssertionError("curl reported nothing for %s: %s" % (output, result.stderr))
        body = b""
        if os.path.exists(output):
            with open(output, "rb") as data:
                body = data.read()
        transfers.append(Transfer(*by_file[output], body))
    return transfers


def get(packet, path=doh_client.PATH):
    return {"path": doh_client.get_path(packet, path)}


def post(packet, path=doh_client.PATH, content_type=doh_client.MESSAGE):
    return {"path": path, "body": packet, "content_type": content_type}


def records(data):
    """(section, type, TTL) of every record of a DNS message, the OPT pseudo-record aside."""
    reply = wire.Reply(data)
    offset = 12
    for _ in range(reply.qdcount):
        offset = wire.skip_name(data, offset) + 4
    found = []
    for section, count in enumerate((reply.ancount, reply.nscount, reply.arcount)):
        for _ in range(count):
            offset = wire.skip_name(data, offset)
            rtype, _, ttl, length = struct.unpack("!HHIH", data[offset:offset + 10])
            if rtype != wire.TYPE_OPT:
                found.append((section, rtype, ttl))
            offset += 10 + length
    return found


def question_name(data):
    """The question name of a DNS message, as dotted text with the trailing dot."""
    labels, offset = [], 12
    while data[offset]:
        labels.append(data[offset + 1:offset + 1 + data[offset]].decode())
        offset += 1 + data[offset]
    return ".".join(labels) + "."


def assert_answers(test, instance, client_certificate=False):
    """`instance` still answers a normal DoH query."""
    transfer = curl(instance, [get(wire.query(0, NAME), instance.path)],
                    client_certificate=client_certificate)[0]
    test.assertEqual(transfer.status, 200, transfer)
    test.assertEqual(transfer.reply().rcode, "NOERROR")


def settled(read, expected):
    """read() once it returns `expected`, or its last value after BOUND seconds (counters
    may be bumped just after the reply went out)."""
    deadline = time.monotonic() + BOUND
    while True:
        value = read()
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def eventually(attempt, errors=(AssertionError,)):
    """attempt()'s result once it raises none of `errors` (tried for BOUND seconds)."""
    deadline = time.monotonic() + BOUND
    while True:
        try:
            return attempt()
        except errors:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def max_age(headers):
    match = re.fullmatch(r"(?:.*,\s*)?max-age=(\d+)(?:\s*,.*)?", headers.get("cache-control", ""))
    return int(match.group(1)) if match else None


class DohTest(unittest.TestCase):
    def tearDown(self):
        env.check_alive(self)

    def test_dig_post_and_get_get_a_validated_answer_counted_as_doh(self):
        for get_method in (False, True):
            with self.subTest(get=get_method):
                before = plain.metric("dnsvagt_queries_total", transport="doh")
                result = dig_https(plain, NAME, get=get_method)
                self.assertEqual(result.status, "NOERROR", result.output)
                self.assertTrue(result.ad, "no AD over DoH: " + result.summary())
                self.assertEqual(result.rdata("A"), [world.ADDRESSES["www.secure"]])
                self.assertEqual(plain.grown("dnsvagt_queries_total", before, 1,
                                             transport="doh"), 1)

    def test_a_blocked_name_gets_the_blocking_answer_as_over_udp(self):
        over_udp = dig.dig(plain.port, BLOCKED)
        self.assertEqual(over_udp.status, "NXDOMAIN", over_udp.summary())
        for get_method in (False, True):
            with self.subTest(get=get_method):
                result = dig_https(plain, BLOCKED, get=get_method)
                self.assertEqual((result.status, result.ede), (over_udp.status, over_udp.ede),
                                 result.output)
                self.assertIn(15, result.ede)
        transfer = curl(plain, [get(wire.query(0, BLOCKED))])[0]
        self.assertEqual(transfer.status, 200, transfer)
        self.assertEqual(transfer.reply().rcode, "NXDOMAIN")
        self.assertEqual(max_age(transfer.headers),
                         min(ttl for _, _, ttl in records(transfer.body)), transfer)

    def test_curl_get_and_post_over_http2_and_http11(self):
        for http, version in (("--http2", "2"), ("--http1.1", "1.1")):
            for method in ("GET", "POST"):
                with self.subTest(http=http, method=method):
                    name = "www.secure.%s." % W
                    packet = wire.query(0 if method == "GET" else 0x3131, name)
                    request = get(packet) if method == "GET" else post(packet)
                    transfer = curl(plain, [request], http=http)[0]
                    self.assertEqual((transfer.status, transfer.version), (200, version),
                                     transfer)
                    self.assertEqual(transfer.headers.get("content-type"),
                                     doh_client.MESSAGE)
                    reply = transfer.reply()
                    self.assertEqual((reply.id, reply.rcode, reply.ancount),
                                     (wire.Reply(packet).id, "NOERROR", 1))
                    self.assertEqual(question_name(transfer.body), name)
                    ttls = [ttl for _, _, ttl in records(transfer.body)]
                    age = max_age(transfer.headers)
                    self.assertIsNotNone(age, "no cache-control max-age: %r" % transfer)
                    self.assertLessEqual(age, min(ttls))
                    self.assertLessEqual(min(ttls), world.TTL)

    def test_a_dns_error_is_http_200_without_cache_control_when_it_has_no_records(self):
        packet = wire.query(0x4e4e, NAME, opcode=2)  # STATUS: NOTIMP, no records
        for http in ("--http2", "--http1.1"):
            with self.subTest(http=http):
                transfer = curl(plain, [post(packet)], http=http)[0]
                self.assertEqual(transfer.status, 200, transfer)
                self.assertEqual(transfer.reply().rcode, "NOTIMP")
                self.assertEqual(records(transfer.body), [])
                self.assertNotIn("cache-control", transfer.headers)

    def test_alpn_h2_and_http11_offered_and_http11_without_alpn_tls12_too(self):
        for offered, chosen, tls12 in ((("h2", "http/1.1"), "h2", False),
                                       (("http/1.1",), "http/1.1", False),
                                       (None, None, False), (("http/1.1",), "http/1.1", True)):
            with self.subTest(offered=offered, tls12=tls12):
                with http1(plain, alpn=offered, tls12=tls12) as connection:
                    self.assertEqual(connection.sock.selected_alpn_protocol(), chosen)
                    self.assertEqual(connection.sock.version(),
                                     "TLSv1.2" if tls12 else "TLSv1.3")
                    if chosen != "h2":
                        response = connection.get(wire.query(0, NAME))
                        self.assertEqual(response.status, 200)
                        self.assertEqual(wire.Reply(response.body).rcode, "NOERROR")

    def test_a_client_that_trusts_another_ca_does_not_connect(self):
        with self.assertRaises(ssl.SSLCertVerificationError):
            doh_client.tls_socket(plain.doh_port, context(ca="other_ca"), TLS_NAME).close()

    def test_http2_streams_at_once_on_one_connection(self):
        names = ["s%d.secure.%s." % (i, W) for i in range(8)] + [NAME]
        with http2(plain) as connection:
            streams = {connection.get(wire.query(0, name)): name for name in names[:-1]}
            streams[connection.post(wire.query(0x5151, NAME))] = NAME
            responses = connection.responses(list(streams))
        for stream, name in streams.items():
            response = responses[stream]
            self.assertEqual(response.status, 200, name)
            self.assertEqual(question_name(response.body), name)
            self.assertEqual(wire.Reply(response.body).rcode,
                             "NOERROR" if name == NAME else "NXDOMAIN")
        # curl multiplexes parallel transfers on one connection.
        transfers = curl(plain, [get(wire.query(0, name)) for name in names], parallel=True)
        self.assertEqual([t.status for t in transfers], [200] * len(names), transfers)
        self.assertEqual([question_name(t.body) for t in transfers], names)
        self.assertEqual(sum(t.connects for t in transfers), 1, transfers)

    def test_http2_error_statuses_leave_the_connection_usable_and_are_counted(self):
        packet = wire.query(0, NAME)
        requests = [
            dict(get(packet), method="PUT"), dict(get(packet), method="DELETE"),
            get(packet, path="/other"), post(packet, path="/other/dns-query"),
            post(b"hello, world", content_type="text/plain"),
            post(bytes(LARGE)),
            {"path": doh_client.PATH}, {"path": doh_client.PATH + "?ct=x"},
            {"path": doh_client.PATH + "?dns=!!!"},
            {"path": doh_client.PATH + "?dns=" + doh_client.dns_parameter(b"\0\1\2\3")},
            get(packet)]
        expected = [405, 405, 404, 404, 415, 413, 400, 400, 400, 400, 200]
        before = plain.errors()
        transfers = curl(plain, requests)
        self.assertEqual([t.status for t in transfers], expected, transfers)
        self.assertEqual(sum(t.connects for t in transfers), 1,
                         "an error status closed the HTTP/2 connection: %r" % transfers)
        self.assertEqual(transfers[0].headers.get("allow", "").replace(" ", ""), "GET,POST")
        self.assertEqual(transfers[-1].reply().rcode, "NOERROR")
        expected = {"400": 4, "404": 2, "405": 2, "413": 1, "415": 1}
        self.assertEqual(plain.errors_grown(before, expected), expected)
        assert_answers(self, plain)

    def test_http11_error_statuses_keep_the_connection(self):
        packet = wire.query(0, NAME)
        before = plain.errors()
        with http1(plain) as connection:
            steps = [
                (("DELETE", doh_client.PATH, (), None), 405),
                (("PUT", doh_client.PATH, [("Content-Type", doh_client.MESSAGE)], packet), 405),
                (("GET", "/other?dns=" + doh_client.dns_parameter(packet), (), None), 404),
                (("POST", doh_client.PATH, [("Content-Type", "text/plain")], b"hello"), 415),
                (("GET", doh_client.PATH, (), None), 400),
                (("GET", doh_client.PATH + "?dns=!!!", (), None), 400),
                (("GET", doh_client.PATH + "?dns=AAECAw", (), None), 400),
                (("GET", doh_client.get_path(packet), (), None), 200)]
            for request, status in steps:
                connection.send(*request)
                response = connection.response()
                self.assertEqual(response.status, status, request)
                if status == 405:
                    self.assertEqual(response.headers.get("allow", "").replace(" ", ""),
                                     "GET,POST")
            self.assertEqual(wire.Reply(response.body).rcode, "NOERROR")
        expected = {"400": 3, "404": 1, "405": 2, "413": 0, "415": 1}
        self.assertEqual(plain.errors_grown(before, expected), expected)

    def test_http11_body_over_65535_bytes_is_413_and_closes(self):
        before = plain.metric("dnsvagt_doh_errors_total", status="413")
        with http1(plain) as connection:
            # A first exchange: TLS 1.3 session tickets are read, nothing is left to read.
            self.assertEqual(connection.get(wire.query(0, NAME)).status, 200)
            body = bytes(LARGE)
            request = connection.request_bytes("POST", doh_client.PATH, TLS_NAME,
                                               [("Content-Type", doh_client.MESSAGE)], body)
            connection.sock.sendall(request[:len(request) - len(body)])
            # The status may come before the body is sent (Content-Length is enough);
            # otherwise the body goes too.
            if not select.select([connection.sock], [], [], 2.0)[0]:
                try:
                    connection.sock.sendall(body)
                except (ConnectionError, ssl.SSLError):
                    pass
            self.assertEqual(connection.response().status, 413)
            self.assertTrue(connection.closed_within(BOUND), "open after 413")
        self.assertEqual(plain.grown("dnsvagt_doh_errors_total", before, 1, status="413"), 1)
        assert_answers(self, plain)

    def test_an_unparseable_http11_request_is_400_and_closes(self):
        for what, request in (
                ("no request line", b"HELLO\r\n\r\n"),
                ("a header without a colon",
                 b"GET /dns-query?dns=AAA HTTP/1.1\r\nHost: doh.test\r\nno colon\r\n\r\n"),
                ("binary", bytes(range(256)) + b"\r\n\r\n")):
            with self.subTest(what=what):
                before = plain.metric("dnsvagt_doh_errors_total", status="400")
                with http1(plain) as connection:
                    connection.sock.sendall(request)
                    self.assertEqual(connection.response().status, 400)
                    self.assertTrue(connection.closed_within(BOUND), what + ": still open")
                self.assertEqual(plain.grown("dnsvagt_doh_errors_total", before, 1,
                                             status="400"), 1)
        assert_answers(self, plain)

    def test_http11_keep_alive_and_pipelining_answer_in_order(self):
        names = ["k%d.secure.%s." % (i, W) for i in range(2)] + [NAME]
        with http1(plain) as connection:
            # One after the other...
            first = connection.get(wire.query(0, names[0]))
            second = connection.post(wire.query(0x6262, names[1]))
            self.assertEqual([first.status, second.status], [200, 200])
            self.assertEqual([question_name(first.body), question_name(second.body)],
                             names[:2])
            self.assertEqual(wire.Reply(second.body).id, 0x6262)
            # ...and written at once: the answers come in the order asked.
            connection.sock.sendall(b"".join(
                connection.request_bytes("GET", doh_client.get_path(wire.query(0, name)),
                                         TLS_NAME) for name in reversed(names)))
            responses = [connection.response() for _ in names]
        self.assertEqual([r.status for r in responses], [200] * len(names))
        self.assertEqual([question_name(r.body) for r in responses], list(reversed(names)))

    def test_http11_absolute_form_and_expect_100_continue(self):
        packet = wire.query(0x4141, NAME)
        with http1(plain) as connection:
            # The absolute-form a client sends to a proxy (RFC 9112 3.2.2): the same request.
            connection.send("GET", "https://%s:%d%s" % (TLS_NAME, plain.doh_port,
                                                        doh_client.get_path(packet)))
            response = connection.response()
            self.assertEqual(response.status, 200, response)
            self.assertEqual(wire.Reply(response.body).id, 0x4141)
            # Told to send the body at once; not after the client's own wait (curl: 1 s).
            request = connection.request_bytes(
                "POST", doh_client.PATH, TLS_NAME,
                [("Content-Type", doh_client.MESSAGE), ("Expect", "100-continue")], packet)
            connection.sock.sendall(request[:len(request) - len(packet)])
            self.assertEqual(connection.response().status, 100)
            connection.sock.sendall(packet)
            response = connection.response()
            self.assertEqual(response.status, 200, response)
            self.assertEqual(wire.Reply(response.body).rcode, "NOERROR")

    def test_junk_and_plain_dns_at_the_doh_port_are_closed(self):
        before = plain.metric("dnsvagt_tcp_connections_dropped_total", reason="tls_handshake")
        for what, payload in (
                ("64 KiB of junk", bytes((i * 7919 + 13) & 0xFF for i in range(65536))),
                ("plain DNS over TCP", wire.frame(wire.query(0x1234, NAME))),
                ("HTTP without TLS", b"GET /dns-query?dns=AAA HTTP/1.1\r\nHost: x\r\n\r\n")):
            with socket.create_connection((world.LOOPBACK, plain.doh_port), timeout=3) as sock:
                try:
                    sock.sendall(payload)
                except (ConnectionResetError, BrokenPipeError):
                    pass
                self.assertTrue(test_dot.closed_within(sock), what + ": the connection stays "
                                "open")
        assert_answers(self, plain)
        self.assertGreaterEqual(plain.grown("dnsvagt_tcp_connections_dropped_total", before,
                                            3, reason="tls_handshake"), 3)

    def test_query_log_names_transport_doh_and_the_client(self):
        for version, name in (("--http2", "logged-h2.secure.%s." % W),
                              ("--http1.1", "logged-h1.secure.%s." % W)):
            with self.subTest(http=version):
                self.assertEqual(curl(plain, [get(wire.query(0, name))], http=version)[0]
                                 .status, 200)
                lines = plain.logged(name)
                self.assertEqual([(line.get("transport"), line["client"]) for line in lines],
                                 [("doh", "127.0.0.1")], lines)

    def test_a_proxy_header_before_the_handshake_names_the_client(self):
        name = "doh-proxied.secure.%s." % W
        header = test_proxy.proxy_header("10.1.2.3", stream=True)
        with http1(plain, source=PROXY, before=header) as connection:
            response = connection.get(wire.query(0, name))
        self.assertEqual(response.status, 200)
        self.assertEqual([(line.get("transport"), line["client"])
                          for line in plain.logged(name)], [("doh", "10.1.2.3")])


class DohStrictTest(unittest.TestCase):
    """doh_path, mTLS, the ACL at accept, the per-client limit and the idle timeout."""

    def tearDown(self):
        env.check_alive(self)

    def test_only_the_configured_path_answers(self):
        packet = wire.query(0, NAME)
        transfers = curl(strict, [get(packet, STRICT_PATH), get(packet),
                                  post(packet, STRICT_PATH)], client_certificate=True)
        self.assertEqual([t.status for t in transfers], [200, 404, 200], transfers)

    def test_mutual_tls_needs_a_client_certificate_of_the_client_ca(self):
        transfer = curl(strict, [get(wire.query(0, NAME), STRICT_PATH)])[0]
        self.assertNotEqual(transfer.status, 200, transfer)
        self.assertNotEqual(transfer.exitcode, 0, transfer)
        assert_answers(self, strict, client_certificate=True)

    def test_a_client_outside_the_acl_is_closed_at_accept(self):
        before = strict.metric("dnsvagt_tcp_connections_dropped_total", reason="acl")
        with self.assertRaises(REFUSED):
            with http1(strict, client_certificate=True, source=OUTSIDE) as connection:
                connection.get(wire.query(0, NAME), STRICT_PATH)
        self.assertEqual(strict.grown("dnsvagt_tcp_connections_dropped_total", before, 1,
                                      reason="acl"), 1)

    def test_the_per_client_connection_limit_holds(self):
        def answered_connection():
            connection = http1(strict, client_certificate=True)
            try:
                self.assertEqual(connection.get(wire.query(0, NAME), STRICT_PATH).status, 200)
            except BaseException:
                connection.close()
                raise
            return connection

        held = []
        try:
            # Connections of earlier tests, closed by their clients, may hold a slot a moment.
            for _ in range(PER_CLIENT):
                held.append(eventually(answered_connection, REFUSED))
            before = strict.metric("dnsvagt_tcp_connections_dropped_total",
                                   reason="per_client_limit")
            with self.assertRaises(REFUSED):
                answered_connection().close()
        finally:
            for connection in held:
                connection.close()
        self.assertEqual(strict.grown("dnsvagt_tcp_connections_dropped_total", before, 1,
                                      reason="per_client_limit"), 1)
        # The closed ones give their slots back.
        eventually(lambda: assert_answers(self, strict, client_certificate=True))

    def test_an_idle_connection_is_closed(self):
        before = strict.metric("dnsvagt_tcp_connections_dropped_total", reason="idle_timeout")
        with http1(strict, client_certificate=True) as connection:
            self.assertEqual(connection.get(wire.query(0, NAME), STRICT_PATH).status, 200)
            self.assertTrue(connection.closed_within(BOUND), "the idle connection stays open")
        self.assertEqual(strict.grown("dnsvagt_tcp_connections_dropped_total", before, 1,
                                      reason="idle_timeout"), 1)


class DohConfigTest(unittest.TestCase):
    """check-config: the DoH keys in the effective config; errors name file, line and key."""

    def check_config(self, tls, returncode=1):
        result, output = subject.check_tls_config(env.directory, tls)
        self.assertEqual(result, returncode, output)
        return output

    def test_effective_config(self):
        key, cert = pki_files["server"]
        output = self.check_config({"doh_listen": '["127.0.0.1:8443"]', "certificate": cert,
                                    "key": key}, returncode=0)
        self.assertRegex(output, r'\n    doh_listen: \["127\.0\.0\.1:8443"\]\n')
        self.assertRegex(output, r'\n    doh_path: "?/dns-query"?\n')
        self.assertRegex(output, r'\n    listen: \[\]\n')

    def test_errors(self):
        key, cert = pki_files["server"]
        # As for DoT ("CONF:2: server.tls: DNS over TLS (listen) needs a certificate and a
        # key"): at the tls section, or at the doh_listen key.
        for tls in ({"doh_listen": '["127.0.0.1:8443"]'},
                    {"doh_listen": '["127.0.0.1:8443"]', "certificate": cert}):
            with self.subTest(tls=sorted(tls)):
                self.assertRegex(self.check_config(tls),
                                 r"CONF:(2: server\.tls|3: server\.tls\.doh_listen): "
                                 r"[^\n]*(doh_listen|HTTPS)[^\n]*certificate")
        self.assertIn("CONF:3: server.tls.doh_listen[0]: expected ADDRESS",
                      self.check_config({"doh_listen": '["bogus"]', "certificate": cert,
                                         "key": key}))
        self.assertIn("CONF:5: server.tls.key: \"%s\" holds no unencrypted PEM private key"
                      % cert,
                      self.check_config({"doh_listen": '["127.0.0.1:8443"]',
                                         "certificate": cert, "key": cert}))


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
