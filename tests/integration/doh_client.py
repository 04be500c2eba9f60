# DNS over HTTPS clients for the integration tests and benchmarks (RFC 8484): the base64url
# form of a query, HTTP/1.1 requests written by hand, and HTTP/2 with just the framing and
# HPACK that DoH needs (Debian's python3-h2 is not a test dependency).
"""Hand-written HTTP/1.1 and HTTP/2 DoH clients over a connected TLS socket."""

import base64
import collections
import socket
import ssl
import struct

PATH = "/dns-query"
MESSAGE = "application/dns-message"

Response = collections.namedtuple("Response", "status headers body")


def dns_parameter(packet):
    """The `dns` query parameter of a GET: base64url without padding."""
    return base64.urlsafe_b64encode(packet).rstrip(b"=").decode()


def get_path(packet, path=PATH):
    return "%s?dns=%s" % (path, dns_parameter(packet))


def tls_socket(port, context, server_name, source="127.0.0.1", before=b"", timeout=5.0):
    """A TLS connection to 127.0.0.1:`port` from `source`, which first sends `before` in the
    clear (a PROXY header)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                   source_address=(source, 0))
    try:
        raw.sendall(before)
        return context.wrap_socket(raw, server_hostname=server_name)
    except BaseException:
        raw.close()
        raise


def closed(read):
    """Whether the peer has closed the connection: calls read(size) of its socket (or a
    reader of it) until the end (True), or until it would block or times out (False)."""
    try:
        while read(65536):
            pass
        return True
    except (ssl.SSLWantReadError, BlockingIOError, socket.timeout):
        return False
    except OSError:  # ssl.SSLError and ConnectionError among them
        return True


class Http1:
    """One HTTP/1.1 connection: requests written as given, responses read in order."""

    def __init__(self, sock, host):
        self.sock = sock
        self.host = host
        self.reader = sock.makefile("rb")

    def close(self):
        self.reader.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def request_bytes(method, path, host, headers=(), body=None):
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % host]
        lines += ["%s: %s" % header for header in headers]
        if body is not None:
            lines.append("Content-Length: %d" % len(body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")

    def send(self, method, path, headers=(), body=None):
        self.sock.sendall(self.request_bytes(method, path, self.host, headers, body))

    def get(self, packet, path=PATH):
        self.send("GET", get_path(packet, path), [("Accept", MESSAGE)])
        return self.response()

    def post(self, packet, path=PATH, content_type=MESSAGE):
        self.send("POST", path, [("Content-Type", content_type), ("Accept", MESSAGE)], packet)
        return self.response()

    def response(self):
        """The next response; ConnectionError if the server closes before a whole one."""
        status_line = self.reader.readline(8192)
        if not status_line:
            raise ConnectionError("closed before a response")
        fields = status_line.decode("latin-1").split(None, 2)
        if len(fields) < 2 or not fields[0].startswith("HTTP/1.") or not fields[1].isdigit():
            raise ConnectionError("not an HTTP/1.1 status line: %r" % status_line)
        headers = {}
        while True:
            line = self.reader.readline(65536)
            if not line:
                raise ConnectionError("closed in the response headers")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        status = int(fields[1])
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = self.read_chunked()
        elif "content-length" in headers:
            body = self.read_exact(int(headers["content-length"]))
        elif status in (204, 304) or 100 <= status < 200:  # no content, or interim
            body = b""
        else:  # delimited by the close
            body = self.reader.read()
        return Response(status, headers, body)

    def read_exact(self, count):
        body = self.reader.read(count)
        if len(body) != count:
            raise ConnectionError("closed after %d of %d body bytes" % (len(body), count))
        return body

    def read_chunked(self):
        body = b""
        while True:
            size = int(self.reader.readline(1024).split(b";")[0], 16)
            if size == 0:
                while self.reader.readline(65536) not in (b"\r\n", b"\n", b""):
                    pass
                return body
            body += self.read_exact(size)
            self.reader.readline(16)

    def closed_within(self, bound):
        """True once the server has closed the connection (within `bound` seconds), False if
        it is still open then; bytes that come in the meantime are read and dropped."""
        self.sock.settimeout(bound)
        return closed(self.reader.read1)


# -- HTTP/2 (RFC 9113), one client connection, no server push, no flow control beyond the
# initial windows (a DNS message is far below 65535 bytes)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY = 0x1, 0x1, 0x4, 0x8, 0x20
# HPACK static table (RFC 7541 appendix A): the entries a DoH client sends, and :status.
STATIC_STATUS = {8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500}
METHOD_GET, METHOD_POST, SCHEME_HTTPS = 0x82, 0x83, 0x87
AUTHORITY, PATH_INDEX, CONTENT_LENGTH, CONTENT_TYPE = 1, 4, 28, 31


def frame(kind, flags, stream, payload=b""):
    return struct.pack("!I", len(payload))[1:] + struct.pack("!BBI", kind, flags, stream) \
        + payload


def hpack_integer(value, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    return bytes(out + [value])


def hpack_literal(index, value):
    """A literal header field without indexing, with an indexed name and a plain value."""
    raw = value.encode()
    return hpack_integer(index, 4) + hpack_integer(len(raw), 7) + raw


def hpack_status(block):
    """:status of a response header block when the server sent it as the first field in a
    form that needs no table beyond the static one (nghttp2 does for every status here);
    None otherwise."""
    if not block:
        return None
    first = block[0]
    if first & 0x80:
        return STATIC_STATUS.get(first & 0x7F)
    if first & 0x40:
        name = first & 0x3F
    elif first & 0xF0 == 0:
        name = first & 0x0F
    else:
        return None
    if name not in STATIC_STATUS or len(block) < 2 or block[1] & 0x80:
        return None  # not :status, or a Huffman-coded value
    length = block[1] & 0x7F
    text = block[2:2 + length]
    return int(text) if text.isdigit() else None


class Http2:
    """One HTTP/2 connection: requests on new streams, responses collected per stream."""

    def __init__(self, sock, authority):
        self.sock = sock
        self.authority = authority
        self.next_stream = 1
        self.pending = b""
        sock.sendall(PREFACE + frame(SETTINGS, 0, 0))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, method, path, body=None, content_type=MESSAGE):
        """Sends a request on a new stream; returns its stream id."""
        stream = self.next_stream
        self.next_stream += 2
        block = bytes([METHOD_POST if method == "POST" else METHOD_GET, SCHEME_HTTPS])
        block += hpack_literal(PATH_INDEX, path) + hpack_literal(AUTHORITY, self.authority)
        if body is not None:
            block += hpack_literal(CONTENT_TYPE, content_type)
            block += hpack_literal(CONTENT_LENGTH, str(len(body)))
        flags = END_HEADERS | (END_STREAM if body is None else 0)
        out = frame(HEADERS, flags, stream, block)
        if body is not None:
            chunks = [body[i:i + 16384] for i in range(0, len(body), 16384)] or [b""]
            for i, chunk in enumerate(chunks):
                out += frame(DATA, END_STREAM if i == len(chunks) - 1 else 0, stream, chunk)
        self.sock.sendall(out)
        return stream

    def get(self, packet, path=PATH):
        return self.request("GET", get_path(packet, path))

    def post(self, packet, path=PATH):
        return self.request("POST", path, packet)

    def read_frame(self):
        while True:
            if len(self.pending) >= 9:
                length = int.from_bytes(self.pending[:3], "big")
                if len(self.pending) >= 9 + length:
                    kind, flags, stream = struct.unpack("!BBI", self.pending[3:9])
                    payload = self.pending[9:9 + length]
                    self.pending = self.pending[9 + length:]
                    return kind, flags, stream & 0x7FFFFFFF, payload
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed by the server")
            self.pending += data

    def responses(self, streams):
        """{stream: Response} once every stream in `streams` has ended (headers holds only
        the decoded status; status None: a status this client does not decode). A stream the
        server resets gets status None and body None."""
        results = {stream: [None, b""] for stream in streams}
        open_streams = set(streams)
        while open_streams:
            kind, flags, stream, payload = self.read_frame()
            if kind == SETTINGS and not flags & ACK:
                self.sock.sendall(frame(SETTINGS, ACK, 0))
            elif kind == PING and not flags & ACK:
                self.sock.sendall(frame(PING, ACK, 0, payload))
            elif kind == GOAWAY:
                raise ConnectionError("GOAWAY from the server, error %d"
                                      % struct.unpack("!I", payload[4:8])[0])
            elif stream in open_streams:
                if flags & PADDED and kind in (DATA, HEADERS):
                    payload = payload[1:len(payload) - payload[0]]
                if kind == HEADERS:
                    if flags & PRIORITY:
                        payload = payload[5:]
                    if results[stream][0] is None:
                        results[stream][0] = hpack_status(payload)
                elif kind == DATA:
                    results[stream][1] += payload
                elif kind == RST_STREAM:
                    results[stream] = [None, None]
                    open_streams.discard(stream)
                if flags & END_STREAM and kind in (DATA, HEADERS):
                    open_streams.discard(stream)
        return {stream: Response(status, {":status": status}, body)
                for stream, (status, body) in results.items()}

    def exchange(self, packet, method="GET"):
        stream = self.get(packet) if method == "GET" else self.post(packet)
        return self.responses([stream])[stream]
