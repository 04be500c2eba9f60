# A blocklist feed server for the feed tests: serves files over HTTP or HTTPS on 127.0.0.1 with
# ETag / Last-Modified / 304 and gzip, and misbehaves on request (switchable faults per path).
"""Test feed server (Python stdlib only).

    feed_server.py --root DIR [--port N] [--cert PEM --key PEM]

Prints "PORT <n>" on stdout when listening. GET /<path> serves DIR/<path> with a strong ETag
(from the content) and Last-Modified (the file's mtime); If-None-Match or If-Modified-Since
that match give 304. Bodies are gzip'ed when the client accepts gzip.

Control (same server): GET /_control/fault?path=/x.txt&mode=MODE sets the fault of a path
(mode=none clears it); GET /_control/requests returns every request so far as JSON.
Modes: 404, 500, hang (no response for a long while), stall (headers and half the body,
then silence), truncate (Content-Length of the whole, half the body, close), html (200 with
an HTML error page), empty (200, empty body), garbage (200, binary bytes), big&size=N (200,
N bytes of valid list lines with a Content-Length), big_chunked&size=N (the same, chunked),
redirect&to=URL (302 to URL).
"""

import argparse
import email.utils
import gzip
import hashlib
import http.server
import json
import os
import random
import ssl
import sys
import threading
import time
import urllib.parse

STALL_SECONDS = 60  # far longer than any test's transfer timeouts


class State:
    def __init__(self, root):
        self.root = root
        self.lock = threading.Lock()
        self.faults = {}      # path -> (mode, params)
        self.requests = []    # dicts, in arrival order
        self.compressed = {}  # etag -> gzip'ed body: large feeds are compressed once

    def gzipped(self, etag, body):
        with self.lock:
            cached = self.compressed.get(etag)
        if cached is None:
            cached = gzip.compress(body, compresslevel=1)
            with self.lock:
                self.compressed[etag] = cached
        return cached


def list_lines(size):
    """`size` bytes of valid domains-format lines."""
    lines = []
    total = 0
    i = 0
    while total < size:
        line = "big%d.example.com\n" % i
        lines.append(line)
        total += len(line)
        i += 1
    return "".join(lines).encode()[:size]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set by main

    def log_message(self, format, *args):
        sys.stderr.write("feed_server: %s\n" % (format % args))

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/_control/"):
            return self.control(url)
        with self.state.lock:
            fault = self.state.faults.get(url.path)
            record = {"path": url.path,
                      "if_none_match": self.headers.get("If-None-Match"),
                      "if_modified_since": self.headers.get("If-Modified-Since"),
                      "user_agent": self.headers.get("User-Agent"),
                      "accept_encoding": self.headers.get("Accept-Encoding"),
                      "fault": fault[0] if fault else None}
            self.state.requests.append(record)
        if fault:
            record["status"] = self.serve_fault(url.path, *fault)
        else:
            record["status"] = self.serve_file(url.path)

    def control(self, url):
        query = dict(urllib.parse.parse_qsl(url.query))
        with self.state.lock:
            if url.path == "/_control/fault":
                if query.get("mode", "none") == "none":
                    self.state.faults.pop(query["path"], None)
                else:
                    self.state.faults[query["path"]] = (query["mode"], query)
                body = b"ok\n"
            elif url.path == "/_control/requests":
                body = json.dumps(self.state.requests).encode()
            else:
                body = None
        if body is None:
            return self.send_body(404, b"no such control\n")
        self.send_body(200, body)

    def send_body(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return status

    def file_body(self, path):
        full = os.path.realpath(os.path.join(self.state.root, path.lstrip("/")))
        if not full.startswith(os.path.realpath(self.state.root) + os.sep) or \
                not os.path.isfile(full):
            return None, None
        with open(full, "rb") as f:
            return f.read(), os.stat(full).st_mtime

    def serve_file(self, path):
        body, mtime = self.file_body(path)
        if body is None:
            return self.send_body(404, b"not found\n")
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:20]
        last_modified = email.utils.formatdate(int(mtime), usegmt=True)
        validators = [("ETag", etag), ("Last-Modified", last_modified)]
        if_none_match = self.headers.get("If-None-Match")
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_none_match is not None:
            if etag in [tag.strip() for tag in if_none_match.split(",")]:
                return self.send_body(304, b"", validators)
        elif if_modified_since is not None:
            try:
                since = email.utils.parsedate_to_datetime(if_modified_since).timestamp()
                if int(mtime) <= since:
                    return self.send_body(304, b"", validators)
            except (TypeError, ValueError):
                pass
        headers = validators + [("Content-Type", "text/plain")]
        if "gzip" in (self.headers.get("Accept-Encoding") or ""):
            body = self.state.gzipped(etag, body)
            headers.append(("Content-Encoding", "gzip"))
        return self.send_body(200, body, headers)

    def serve_fault(self, path, mode, params):
        if mode in ("404", "500"):
            return self.send_body(int(mode), b"error\n")
        if mode == "hang":
            time.sleep(STALL_SECONDS)
            self.close_connection = True
            return 0
        if mode in ("stall", "truncate"):
            body, _ = self.file_body(path)
            body = body or list_lines(4096)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            if mode == "stall":
                time.sleep(STALL_SECONDS)
            self.close_connection = True
            return 200
        if mode == "html":
            page = (b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n"
                    b"<body><h1>Maintenance</h1><p>Please try again later.</p></body></html>\n")
            return self.send_body(200, page, [("Content-Type", "text/html")])
        if mode == "empty":
            return self.send_body(200, b"")
        if mode == "garbage":
            return self.send_body(200, random.Random(7).randbytes(8192),
                                  [("Content-Type", "application/octet-stream")])
        if mode == "redirect":
            return self.send_body(302, b"moved\n", [("Location", params["to"])])
        if mode == "big":
            return self.send_body(200, list_lines(int(params["size"])))
        if mode == "big_chunked":
            body = list_lines(int(params["size"]))
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for start in range(0, len(body), 16384):
                    chunk = body[start:start + 16384]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should past max_size
            self.close_connection = True
            return 200
        return self.send_body(400, b"unknown fault mode\n")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up mid-fault are expected


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    Handler.state = State(args.root)
    server = Server(("127.0.0.1", args.port), Handler)
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
