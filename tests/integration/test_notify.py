#!/usr/bin/python3
# dnsvagt's systemd protocol (issue 5: Type=notify with READY, RELOADING on SIGHUP, STOPPING,
# watchdog keep-alives), checked without systemd: the test is the notify socket. systemd reads
# the same datagrams from $NOTIFY_SOCKET, so what arrives here is what systemd would see.
"""Usage: test_notify.py --dnsvagt PATH   (the --reference mode has nothing to test here)"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import subject
import world

WATCHDOG_USEC = 400000   # asks for a keep-alive at least every 0.4 s
WAIT = 15.0              # generous bound for each expected message; never a timing assertion


class NotifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if subject.Options.dnsvagt is None:
            raise unittest.SkipTest("the notify protocol is tested on dnsvagt only")
        cls.directory = tempfile.mkdtemp(prefix="dnsvagt-notify-")
        cls.socket_path = os.path.join(cls.directory, "notify.sock")
        cls.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        cls.notify.bind(cls.socket_path)
        cls.notify.settimeout(0.5)
        cls.port = port = world.free_port()
        config = {
            "server": {"listen": ["%s:%d" % (world.LOOPBACK, port)], "threads": 2,
                       "user": world.current_user()},
            # Never asked: the test only needs a server that starts.
            "upstream": {"mode": "forward", "servers": ["%s@9" % world.LOOPBACK]},
            "dnssec": {"root_trust_anchor_file": ""},
            "metrics": {"listen": ""},
            "blocking": {"cache_dir": os.path.join(cls.directory, "lists")},
        }
        cls.config = os.path.join(cls.directory, "dnsvagt.yaml")
        with open(cls.config, "w") as out:
            out.write("".join("%s: %s\n" % (k, json.dumps(v)) for k, v in config.items()))
        env = dict(os.environ, NOTIFY_SOCKET=cls.socket_path, WATCHDOG_USEC=str(WATCHDOG_USEC))
        cls.log = open(os.path.join(cls.directory, "dnsvagt.log"), "wb")
        cls.process = subprocess.Popen([subject.Options.dnsvagt, "-c", cls.config], env=env,
                                       stdout=cls.log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        cls.messages = []

    @classmethod
    def tearDownClass(cls):
        if cls.process.poll() is None:
            world.kill_pid(cls.process.pid)
        cls.notify.close()
        cls.log.close()
        if not subject.Options.keep:
            subprocess.run(["rm", "-rf", cls.directory])

    def wait_for(self, field):
        """Reads notify datagrams until one holds `field` (e.g. "READY=1"); returns it."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                datagram = self.notify.recv(4096).decode()
            except socket.timeout:
                self.assertIsNone(self.process.poll(), "dnsvagt exited before %s" % field)
                continue
            lines = datagram.split("\n")
            self.messages.append(lines)
            if field in lines:
                return lines
        self.fail("no %s within %.0f s; got %s" % (field, WAIT, self.messages))

    def test_1_ready_once_serving(self):
        self.wait_for("READY=1")
        # READY means serving: the listener answers now. An opcode STATUS request is answered
        # NOTIMP by the server itself, whatever the (here unreachable) upstream does.
        query = b"\x12\x34\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5)
            client.sendto(query, (world.LOOPBACK, self.port))
            reply = client.recv(4096)
        self.assertEqual(reply[:2], b"\x12\x34")
        self.assertEqual(reply[3] & 0x0F, 4, "want NOTIMP")

    def test_2_watchdog_keepalives(self):
        # Two keep-alives in a row: the timer repeats, it did not fire just once.
        self.wait_for("WATCHDOG=1")
        self.wait_for("WATCHDOG=1")

    def test_3_reload_announced(self):
        self.process.send_signal(signal.SIGHUP)
        reloading = self.wait_for("RELOADING=1")
        self.assertTrue(any(line.startswith("MONOTONIC_USEC=") for line in reloading),
                        "RELOADING=1 without MONOTONIC_USEC: %s" % reloading)
        self.wait_for("READY=1")

    def test_4_stopping_announced(self):
        self.process.send_signal(signal.SIGTERM)
        self.wait_for("STOPPING=1")
        self.assertEqual(self.process.wait(timeout=WAIT), 0)


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
