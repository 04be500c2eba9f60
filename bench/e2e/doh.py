#!/usr/bin/python3
# DNS over HTTPS for clients (RFC 8484): dnsvagt's listener (server.tls.doh_listen) against
# the Unbound daemon's (https-port, HTTP/2 only), both validating forwarders to the signed
# world's NSD with a certificate of a test CA, in one run.
"""dnsvagt vs Unbound over DNS over HTTPS: queries, handshakes, idle connections.

    doh.py [--dnsvagt PATH] [--duration 8] [--rounds 3] [--handshakes 1000] [--idle 10000]
           [--method GET|POST] [--out FILE]

HTTP/2 for both (Unbound 1.17 speaks no HTTP/1.1): dnsperf -m doh with -O doh-uri and -O
doh-method; the Python clients offer ALPN "h2" and send the connection preface, SETTINGS and
one query (--method) on a new connection, in the handshakes phase and before an idle
connection is left idle (a browser's connection has asked once).
"""

import sys

import tls_bench
import doh_client  # noqa: E402 (tls_bench puts tests/integration on the path)
import wire  # noqa: E402


class DohTransport(tls_bench.Transport):
    name = "doh"
    title = "DNS over HTTPS"
    alpn = ("h2",)

    def add_arguments(self, parser):
        parser.add_argument("--method", choices=("GET", "POST"), default="GET",
                            help="HTTP method of dnsperf and the Python clients")

    def dnsvagt_listener(self, address):
        return {"doh_listen": [address], "doh_path": doh_client.PATH}

    def unbound_lines(self, port):
        return ["https-port: %d" % port, 'http-endpoint: "%s"' % doh_client.PATH]

    def dnsperf_options(self, args, port):
        return ["-O", "doh-uri=https://%s:%d%s" % (tls_bench.TLS_NAME, port, doh_client.PATH),
                "-O", "doh-method=" + args.method]

    def load_text(self, args):
        return super().load_text(args) + " -O doh-method=" + args.method

    def exchange(self, sock, args):
        self.open_idle(sock, args)

    def open_idle(self, sock, args):
        reply = doh_client.Http2(sock, tls_bench.TLS_NAME).exchange(
            wire.query(0, tls_bench.PROBE), args.method)
        if reply.status != 200 or wire.Reply(reply.body).rcode != "NOERROR":
            raise RuntimeError("DoH query not answered: %r" % (reply,))


if __name__ == "__main__":
    sys.exit(tls_bench.main(sys.argv, __doc__, DohTransport()))
