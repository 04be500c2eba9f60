# Raw DNS packets for the protocol tests: queries built with struct (including deliberately
# broken ones), a minimal reply parser, and UDP/TCP exchange with timeouts.
"""Builds DNS messages byte by byte and reads back the parts the tests assert on."""

import select
import socket
import struct
import time

TYPE_A, TYPE_TXT, TYPE_OPT = 1, 16, 41
CLASS_IN = 1
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
          16: "BADVERS"}


def encode_name(name):
    """Uncompressed wire form of a dotted name (no length checks: tests build bad ones too)."""
    out = b""
    for label in name.strip(".").split("."):
        if label:
            raw = label.encode()
            out += bytes([len(raw)]) + raw
    return out + b"\0"


def header(qid, flags=0x0100, qd=1, an=0, ns=0, ar=0, opcode=0):
    """12-byte header; flags default RD, opcode goes into bits 11-14."""
    return struct.pack("!HHHHHH", qid, flags | (opcode << 11), qd, an, ns, ar)


def question(name, qtype=TYPE_A, qclass=CLASS_IN):
    return encode_name(name) + struct.pack("!HH", qtype, qclass)


def opt_record(udp_size=1232, version=0, do=False, ext_rcode=0, options=b""):
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
    return b"\0" + struct.pack("!HHIH", TYPE_OPT, udp_size, ttl, len(options)) + options


def query(qid, name, qtype=TYPE_A, edns=None, flags=0x0100, opcode=0):
    """A normal query; edns: None (no OPT) or a dict of opt_record() arguments."""
    ar = 0 if edns is None else 1
    packet = header(qid, flags, ar=ar, opcode=opcode) + question(name, qtype)
    if edns is not None:
        packet += opt_record(**edns)
    return packet


class ParseError(Exception):
    pass


def skip_name(data, offset):
    """Offset after the name at `offset` (compression pointers end a name)."""
    while True:
        if offset >= len(data):
            raise ParseError("name runs past the end")
        length = data[offset]
        if length & 0xC0 == 0xC0:
            return offset + 2
        if length & 0xC0:
            raise ParseError("bad label type")
        offset += 1 + length
        if length == 0:
            return offset


class Reply:
    """Header fields, counts and the OPT record of a reply; records beyond that unparsed.

    strict: a body that does not match the header counts raises ParseError; otherwise the
    header is still read and `malformed` says what is wrong with the rest.
    """

    def __init__(self, data, strict=True):
        if len(data) < 12:
            raise ParseError("reply shorter than a header")
        self.data = data
        (self.id, self.flags, self.qdcount, self.ancount, self.nscount,
         self.arcount) = struct.unpack("!HHHHHH", data[:12])
        self.qr = bool(self.flags & 0x8000)
        self.opcode = (self.flags >> 11) & 0xF
        self.tc = bool(self.flags & 0x0200)
        self.ad = bool(self.flags & 0x0020)
        self.header_rcode = self.flags & 0xF
        self.opt = None  # (udp_size, ext_rcode, version, do, options bytes)
        self.answer_types = []
        self.malformed = None
        try:
            self.parse_body()
        except ParseError as error:
            if strict:
                raise
            self.malformed = str(error)

    def parse_body(self):
        data = self.data
        offset = 12
        for _ in range(self.qdcount):
            offset = skip_name(data, offset) + 4
        for section in range(3):
            count = (self.ancount, self.nscount, self.arcount)[section]
            for _ in range(count):
                offset = skip_name(data, offset)
                if offset + 10 > len(data):
                    raise ParseError("record header runs past the end")
                rtype, rclass, ttl, rdlength = struct.unpack("!HHIH", data[offset:offset + 10])
                rdata = data[offset + 10:offset + 10 + rdlength]
                if len(rdata) != rdlength:
                    raise ParseError("rdata runs past the end")
                offset += 10 + rdlength
                if section == 0:
                    self.answer_types.append(rtype)
                if section == 2 and rtype == TYPE_OPT:
                    self.opt = (rclass, ttl >> 24, (ttl >> 16) & 0xFF, bool(ttl & 0x8000),
                                rdata)
        if offset != len(data):
            raise ParseError("%d bytes after the last record" % (len(data) - offset))

    @property
    def rcode(self):
        """The full rcode (header bits plus the OPT extension) as text when known."""
        value = self.header_rcode | ((self.opt[1] << 4) if self.opt else 0)
        return RCODES.get(value, str(value))

    def ede_codes(self):
        codes = []
        options = self.opt[4] if self.opt else b""
        while len(options) >= 4:
            code, length = struct.unpack("!HH", options[:4])
            if code == 15 and length >= 2:
                codes.append(struct.unpack("!H", options[4:6])[0])
            options = options[4 + length:]
        return codes


def udp_socket(source="127.0.0.1"):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((source, 0))
    return sock


def udp_exchange(port, packet, timeout=2.0, source="127.0.0.1"):
    """Sends one datagram; returns the reply bytes, or None if none came within `timeout`."""
    with udp_socket(source) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, ("127.0.0.1", port))
        try:
            return sock.recv(65535)
        except socket.timeout:
            return None


def serve_udp(sock, respond, running):
    """Serves the datagrams that reach `sock` (bound, with a timeout) for one of the tests' own
    upstreams: replies with respond(query) unless that is None, while running() is true and
    the socket is open. A reply that cannot be sent is dropped, like one lost on the way."""
    while running():
        try:
            query, client = sock.recvfrom(65535)
        except socket.timeout:
            continue
        except OSError:
            return
        reply = respond(query)
        if reply is not None:
            try:
                sock.sendto(reply, client)
            except OSError:
                pass


def udp_batch(port, packets, wait=1.5):
    """Sends every packet from its own socket at once; returns the replies (list of bytes per
    packet, normally 0 or 1) collected until `wait` seconds after the last send."""
    sockets = []
    try:
        for packet in packets:
            sock = udp_socket()
            sock.setblocking(False)
            sock.sendto(packet, ("127.0.0.1", port))
            sockets.append(sock)
        replies = {sock: [] for sock in sockets}
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select(sockets, [], [], left)
            for sock in ready:
                replies[sock].append(sock.recv(65535))
        return [replies[sock] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def tcp_connect(port, timeout=2.0, source="127.0.0.1"):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    sock.settimeout(timeout)
    return sock


def frame(packet):
    return struct.pack("!H", len(packet)) + packet


def recv_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed after %d of %d bytes" % (len(data), count))
        data += chunk
    return data


def tcp_read_message(sock):
    (length,) = struct.unpack("!H", recv_exact(sock, 2))
    return recv_exact(sock, length)


def tcp_exchange(port, packet, timeout=2.0):
    with tcp_connect(port, timeout) as sock:
        sock.sendall(frame(packet))
        return tcp_read_message(sock)


def tcp_batch(port, payloads, wait=1.5):
    """Opens one connection per payload (raw bytes, framing included), sends it, and collects
    whole length-prefixed replies until `wait` seconds after the last send or until the server
    closes. Returns per payload a list of replies."""
    connections = []
    try:
        for payload in payloads:
            sock = tcp_connect(port)
            try:
                sock.sendall(payload)
            except OSError:
                pass  # the server may close early on garbage
            sock.setblocking(False)
            connections.append([sock, b"", [], True])
        deadline = time.monotonic() + wait
        while True:
            open_socks = [c[0] for c in connections if c[3]]
            left = deadline - time.monotonic()
            if not open_socks or left <= 0:
                break
            ready, _, _ = select.select(open_socks, [], [], left)
            for conn in connections:
                if conn[0] not in ready:
                    continue
                try:
                    chunk = conn[0].recv(65535)
                except OSError:
                    chunk = b""
                if not chunk:
                    conn[3] = False
                    continue
                conn[1] += chunk
                while len(conn[1]) >= 2:
                    (length,) = struct.unpack("!H", conn[1][:2])
                    if len(conn[1]) < 2 + length:
                        break
                    conn[2].append(conn[1][2:2 + length])
                    conn[1] = conn[1][2 + length:]
        return [conn[2] for conn in connections]
    finally:
        for conn in connections:
            conn[0].close()
