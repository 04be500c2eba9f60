#!/usr/bin/env python3
# DNS over TLS for clients (RFC 7858, issue 11): server.tls with a certificate of a test CA
# made at test time; kdig and Python's ssl as clients; bad input at the TLS port; mTLS; the
# config errors of a bad certificate or key.
"""dnsvagt's DoT listener on loopback, with certificates from a test CA."""

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import unittest

import pki
import subject
import test_proxy
import wire
import world

W = world.PARENT
TLS_NAME = "dot.test"
# The guest client certificate's subject as the server reads it (RFC 4514).
GUEST_SUBJECT = "CN=guest.test,OU=guests,O=dnsvagt test"
NAME = "www.secure.%s." % W
BOUND = 15.0   # how long a test waits for what it expects (a bound, not a timing)
PROXY = "127.0.0.2"  # in server.proxy_protocol_from: a PROXY header before the handshake

env = None
pki_files = {}
plain = None   # the DoT instance without client certificates: (dns port, dot port, metrics
               # port, query log, Daemon)
mutual = None  # the one that asks for a client certificate of the test CA


def start_dot_instance(name, client_ca=None, clients=None):
    dot_port = world.free_port()
    query_log = []

    def change(settings, conf_dir):
        tls = {"listen": ["%s:%d" % (world.LOOPBACK, dot_port)],
               "certificate": pki_files["server"][1], "key": pki_files["server"][0]}
        if client_ca:
            tls["client_ca"] = client_ca
        settings["server"]["tls"] = tls
        settings["server"]["proxy_protocol_from"] = [PROXY + "/32"]
        if clients:
            settings["clients"] = clients
        query_log.append(os.path.join(conf_dir, "queries.jsonl"))
        settings["logging"] = {"query_log": query_log[-1]}

    port, metrics_port, daemon = env.start_dnsvagt(name, change, metrics=True)
    return port, dot_port, metrics_port, query_log[-1], daemon


def logged_clients(instance, name, field="client"):
    """The clients (or another `field`) the query log of `instance` names for `name` (waits
    for one)."""
    deadline = time.monotonic() + BOUND
    while True:
        found = []
        if os.path.exists(instance[3]):
            with open(instance[3]) as log:
                found = [entry[field] for entry in map(json.loads, filter(str.strip, log))
                         if entry["name"] == name]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def start_servers():
    """The test PKI and the two DoT instances."""
    global plain, mutual
    pki_files.update(pki.make_test_pki(os.path.join(env.directory, "pki"), TLS_NAME))
    plain = start_dot_instance("dot")
    mutual = start_dot_instance("dot-mtls", client_ca=pki_files["ca"], clients=[
        {"name": "cert-guests", "certificate_subjects": ["OU=guests,O=dnsvagt test"]}])


def setUpModule():
    global env
    env = subject.Environment.with_world("server.tls is dnsvagt's config key")
    start_servers()


def client_context(alpn=("dot",), client_certificate=None, ca="ca"):
    context = ssl.create_default_context(cafile=pki_files[ca])
    if alpn:
        context.set_alpn_protocols(list(alpn))
    if client_certificate:
        context.load_cert_chain(client_certificate[1], client_certificate[0])
    return context


def tls_connect(port, context, session=None, source="127.0.0.1", before=b""):
    """A TLS connection from `source`, which first sends `before` in the clear."""
    raw = socket.create_connection((world.LOOPBACK, port), timeout=3,
                                   source_address=(source, 0))
    try:
        raw.sendall(before)
        return context.wrap_socket(raw, server_hostname=TLS_NAME, session=session)
    except BaseException:
        raw.close()
        raise


def exchange(sock, name=NAME, qid=0x2a2a):
    sock.sendall(wire.frame(wire.query(qid, name)))
    return wire.Reply(wire.tcp_read_message(sock))


def kdig(port, *args):
    result = subprocess.run(["kdig", "-p", str(port), "@" + world.LOOPBACK,
                             "+tls-ca=" + pki_files["ca"], "+tls-hostname=" + TLS_NAME,
                             "+time=3", "+retry=0", *args],
                            capture_output=True, text=True, timeout=20)
    return result.stdout + result.stderr


def closed_within(sock, bound=BOUND):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, ssl.SSLError):
            return True
        except socket.timeout:
            return False
    return False


class DotTest(unittest.TestCase):
    def tearDown(self):
        env.check_alive(self)

    def test_kdig_gets_a_validated_answer_counted_as_dot(self):
        before = world.scraped_metric(plain[2], "dnsvagt_queries_total", transport="dot")
        output = kdig(plain[1], NAME, "A")
        self.assertIn("status: NOERROR", output)
        self.assertRegex(output, r"Flags: [^;]*\bad\b", "no AD over DoT:\n" + output)
        self.assertIn("TLS", output)
        self.assertGreaterEqual(
            world.scraped_metric(plain[2], "dnsvagt_queries_total", transport="dot") - before, 1)

    def test_pipelined_queries_on_one_connection_with_alpn_dot(self):
        with tls_connect(plain[1], client_context()) as sock:
            self.assertEqual(sock.selected_alpn_protocol(), "dot")
            self.assertIn(sock.version(), ("TLSv1.2", "TLSv1.3"))
            names = ["p%d.secure.%s." % (i, W) for i in range(3)]
            sock.sendall(b"".join(wire.frame(wire.query(0x700 + i, name))
                                  for i, name in enumerate(names)))
            replies = [wire.Reply(wire.tcp_read_message(sock)) for _ in names]
        self.assertEqual(sorted(r.id for r in replies), [0x700, 0x701, 0x702])
        self.assertEqual({r.rcode for r in replies}, {"NXDOMAIN"})

    def test_a_session_resumes(self):
        context = client_context()
        with tls_connect(plain[1], context) as sock:
            exchange(sock)  # TLS 1.3 tickets come after the handshake
            session = sock.session
        with tls_connect(plain[1], context, session=session) as sock:
            self.assertEqual(exchange(sock).rcode, "NOERROR")
            self.assertTrue(sock.session_reused, "the session was not resumed")

    def test_a_client_that_offers_only_another_protocol_is_refused(self):
        with self.assertRaises(ssl.SSLError) as refused:
            with tls_connect(plain[1], client_context(alpn=("h2", "http/1.1"))) as sock:
                exchange(sock)
        self.assertIn("NO APPLICATION PROTOCOL", str(refused.exception).upper())
        self.assertIn("NOERROR", kdig(plain[1], NAME))

    def test_a_client_that_trusts_another_ca_does_not_connect(self):
        with self.assertRaises(ssl.SSLCertVerificationError):
            tls_connect(plain[1], client_context(ca="other_ca")).close()

    def test_junk_and_plain_dns_at_the_tls_port_are_closed_and_counted(self):
        before = world.scraped_metric(plain[2], "dnsvagt_tcp_connections_dropped_total",
                                      reason="tls_handshake")
        for what, payload in (
                ("64 KiB of junk", bytes((i * 7919 + 13) & 0xFF for i in range(65536))),
                ("plain DNS over TCP", wire.frame(wire.query(0x1234, NAME)))):
            with socket.create_connection((world.LOOPBACK, plain[1]), timeout=3) as sock:
                try:
                    sock.sendall(payload)
                except (ConnectionResetError, BrokenPipeError):
                    pass
                self.assertTrue(closed_within(sock), what + ": the connection stays open")
        self.assertIn("status: NOERROR", kdig(plain[1], NAME))
        self.assertGreaterEqual(world.scraped_metric(plain[2],
                                                     "dnsvagt_tcp_connections_dropped_total",
                                                     reason="tls_handshake") - before, 2)

    def test_mutual_tls_needs_a_client_certificate_of_the_client_ca(self):
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            with tls_connect(mutual[1], client_context()) as sock:
                exchange(sock)  # TLS 1.3: the server's refusal arrives at the first read
        with tls_connect(mutual[1], client_context(client_certificate=pki_files["client"])) \
                as sock:
            self.assertEqual(exchange(sock).rcode, "NOERROR")

    def test_a_client_certificate_subject_chooses_the_client_group(self):
        # The guest certificate's subject is below the group's DN; the other one's is not,
        # and both come from 127.0.0.1, which no group's networks hold.
        for certificate, group in (("guest", "cert-guests"), ("client", None)):
            with self.subTest(certificate=certificate):
                name = "group-%s.secure.%s." % (certificate, W)
                with tls_connect(mutual[1],
                                 client_context(client_certificate=pki_files[certificate])) \
                        as sock:
                    self.assertEqual(exchange(sock, name).rcode, "NXDOMAIN")
                self.assertEqual(logged_clients(mutual, name, "group"), [group])

    def test_lookup_with_a_subject_shows_the_group_the_server_gives_it(self):
        def lookup(*client):
            return subprocess.run(
                [subject.Options.dnsvagt, "lookup", "www.example", "-c",
                 os.path.join(env.directory, "dot-mtls", "dnsvagt.yaml"), *client],
                capture_output=True, text=True, timeout=30)
        guest = lookup("--client", "127.0.0.1", "--subject", GUEST_SUBJECT)
        self.assertEqual(guest.returncode, 0, guest.stderr)
        self.assertIn('client 127.0.0.1 with certificate "%s": group "cert-guests": '
                      % GUEST_SUBJECT, guest.stdout)
        other = lookup("--subject", "CN=client.test")
        self.assertIn('client with certificate "CN=client.test": in no client group',
                      other.stdout)
        empty = lookup("--subject", "")
        self.assertEqual(empty.returncode, 1)
        self.assertIn("--subject needs a DN", empty.stderr)


class DotReloadTest(unittest.TestCase):
    """A SIGHUP after the certificate was renewed: the connections open at the time are
    served on, new ones get the new certificate, and sessions resume across it."""

    def tearDown(self):
        env.check_alive(self)

    def test_a_reload_keeps_connections_and_sessions_and_serves_the_new_certificate(self):
        daemon = plain[4]
        context = client_context()
        with tls_connect(plain[1], context) as kept, \
                socket.create_connection((world.LOOPBACK, plain[0]), timeout=3) as plain_tcp:
            self.assertEqual(exchange(kept, qid=1).rcode, "NOERROR")
            session = kept.session  # TLS 1.3 tickets come after the handshake
            old_certificate = kept.getpeercert(binary_form=True)
            plain_tcp.sendall(wire.frame(wire.query(2, NAME)))
            self.assertEqual(wire.Reply(wire.tcp_read_message(plain_tcp)).rcode, "NOERROR")

            renewed = pki.make_certificate(os.path.join(env.directory, "pki"),
                                           pki_files["ca_pair"], TLS_NAME, base="renewed")
            for new, current in zip(renewed, pki_files["server"]):
                os.replace(new, current)
            reloads = subject.reloads(daemon)
            os.kill(daemon.pid, signal.SIGHUP)
            self.assertEqual(subject.wait_for_reloads(daemon, reloads + 1, BOUND), reloads + 1,
                             daemon.log_tail())

            for qid in (3, 4):
                self.assertEqual(exchange(kept, qid=qid).rcode, "NOERROR")
                plain_tcp.sendall(wire.frame(wire.query(qid, NAME)))
                self.assertEqual(wire.Reply(wire.tcp_read_message(plain_tcp)).rcode,
                                 "NOERROR")
        with tls_connect(plain[1], context) as fresh:
            self.assertEqual(exchange(fresh).rcode, "NOERROR")
            self.assertNotEqual(fresh.getpeercert(binary_form=True), old_certificate,
                                "a new connection got the old certificate")
        with tls_connect(plain[1], context, session=session) as resumed:
            self.assertEqual(exchange(resumed).rcode, "NOERROR")
            self.assertTrue(resumed.session_reused, "a session from before did not resume")


class DotProxyTest(unittest.TestCase):
    """PROXY protocol v2 before the TLS handshake, from server.proxy_protocol_from."""

    def tearDown(self):
        env.check_alive(self)

    def test_a_header_before_the_handshake_names_the_client(self):
        name = "dot-proxied.secure.%s." % W
        header = test_proxy.proxy_header("10.1.2.3", stream=True)
        with tls_connect(plain[1], client_context(), source=PROXY, before=header) as sock:
            self.assertEqual(exchange(sock, name).rcode, "NXDOMAIN")
        self.assertEqual(logged_clients(plain, name), ["10.1.2.3"])

    def test_a_header_and_the_client_hello_in_one_segment(self):
        name = "dot-one-segment.secure.%s." % W
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = client_context().wrap_bio(incoming, outgoing, server_hostname=TLS_NAME)
        with socket.create_connection((world.LOOPBACK, plain[1]), timeout=3,
                                      source_address=(PROXY, 0)) as sock:
            pending = test_proxy.proxy_header("10.4.5.6", stream=True)
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    sock.sendall(pending + outgoing.read())
                    pending = b""
                    data = sock.recv(65536)
                    self.assertTrue(data, "closed during the handshake")
                    incoming.write(data)
            tls.write(wire.frame(wire.query(0x5555, name)))
            sock.sendall(outgoing.read())
            reply = b""
            while len(reply) < 2 or len(reply) < 2 + int.from_bytes(reply[:2], "big"):
                try:
                    reply += tls.read(65536)
                except ssl.SSLWantReadError:
                    data = sock.recv(65536)
                    self.assertTrue(data, "closed before the reply")
                    incoming.write(data)
        self.assertEqual(wire.Reply(reply[2:]).rcode, "NXDOMAIN")
        self.assertEqual(logged_clients(plain, name), ["10.4.5.6"])

    def test_a_proxy_without_a_header_is_refused_and_counted(self):
        before = world.scraped_metric(plain[2], "dnsvagt_proxy_headers_refused_total",
                                      transport="dot", reason="missing")
        with self.assertRaises((ssl.SSLError, ConnectionError, socket.timeout)):
            with tls_connect(plain[1], client_context(), source=PROXY) as sock:
                exchange(sock)
        self.assertEqual(world.scraped_metric(plain[2], "dnsvagt_proxy_headers_refused_total",
                                              transport="dot", reason="missing") - before, 1)


class DotConfigErrorTest(unittest.TestCase):
    """A bad certificate or key is a check-config error naming file, line and key."""

    def check_config(self, tls):
        returncode, output = subject.check_tls_config(env.directory, tls)
        self.assertEqual(returncode, 1, output)
        return output

    def test_errors(self):
        key, cert = pki_files["server"]
        client_key = pki_files["client"][0]
        listen = '["127.0.0.1:8853"]'
        self.assertIn("CONF:5: server.tls.key: \"%s\" is not the key of the certificate in "
                      "\"%s\"" % (client_key, cert),
                      self.check_config({"listen": listen, "certificate": cert,
                                         "key": client_key}))
        self.assertIn("CONF:4: server.tls.certificate: \"%s\" holds no PEM certificate" % key,
                      self.check_config({"listen": listen, "certificate": key, "key": key}))
        self.assertIn("CONF:5: server.tls.key: \"%s\" holds no unencrypted PEM private key"
                      % cert,
                      self.check_config({"listen": listen, "certificate": cert, "key": cert}))
        self.assertIn("CONF:2: server.tls: DNS over TLS (listen) needs a certificate and a key",
                      self.check_config({"listen": listen, "certificate": cert}))
        self.assertIn("CONF:4: server.tls.certificate: cannot read \"/nonexistent.pem\"",
                      self.check_config({"listen": listen, "certificate": "/nonexistent.pem",
                                         "key": key}))


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
