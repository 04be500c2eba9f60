#!/usr/bin/python3
# DNS over TLS for clients (issue 11): dnsvagt's listener against the Unbound daemon's, both
# validating forwarders to the signed world's NSD with a certificate of a test CA, in one run.
"""dnsvagt vs Unbound over DNS over TLS: queries, handshakes, idle connections.

    dot.py [--dnsvagt PATH] [--duration 8] [--rounds 3] [--handshakes 1000] [--idle 10000]
           [--out FILE]

DoT clients offer ALPN "dot"; a handshakes-phase connection sends one query (2-byte length
framing), an idle one sends nothing after its handshake.
"""

import sys

import tls_bench
import wire  # noqa: E402 (tls_bench puts tests/integration on the path)


class DotTransport(tls_bench.Transport):
    name = "dot"
    title = "DNS over TLS"
    alpn = ("dot",)

    def dnsvagt_listener(self, address):
        return {"listen": [address]}

    def unbound_lines(self, port):
        return ["tls-port: %d" % port]

    def exchange(self, sock, args):
        sock.sendall(wire.frame(wire.query(0x4444, tls_bench.PROBE)))
        wire.tcp_read_message(sock)


if __name__ == "__main__":
    sys.exit(tls_bench.main(sys.argv, __doc__, DotTransport()))
