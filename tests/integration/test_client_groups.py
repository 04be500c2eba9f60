#!/usr/bin/env python3
# Client groups (issue 11): `clients` groups by network choose the block lists, allow lists and
# action per client. Queries from different loopback sources get their group's verdict, also
# for one cached answer and for one resolution several groups wait on; the query log, `dnsvagt
# lookup --client` and /compliance.json name the group.
"""Client groups on loopback: 127.0.0.20 is a guest, 127.0.0.30 a server, others default."""

import json
import os
import subprocess
import sys
import unittest
import urllib.request
import uuid

import subject
import wire
import world

W = world.PARENT
GUEST = "127.0.0.20"     # group guests: both lists, action refused
SERVER = "127.0.0.30"    # group servers: no block list
DEFAULT = "127.0.0.1"    # in no group: every list, blocking.action nxdomain
COMMON = "www.insecure." + W     # in list "common"
EXTRA = "www.secure." + W        # in list "extra"
CLOAKED = "cloaked.insecure." + W  # a CNAME to tracker.insecure, which is in "extra"
BOUND = 15.0             # how long a test waits for the query log (a bound, not a timing)

env = None
server = None


def list_file(directory, name, names):
    """A `domains` list `name` of `names`, written to a file in `directory`."""
    path = os.path.join(directory, name + ".txt")
    with open(path, "w") as out:
        out.write("".join(n + "\n" for n in names))
    return {"name": name, "file": path, "format": "domains"}


class Server:
    def __init__(self):
        self.conf = None
        self.query_log = None
        # One worker: the back-to-back queries of the three groups meet in one in-flight table.
        self.port, self.metrics_port, _ = env.start_dnsvagt(
            "groups", self.configure, metrics=True, threads=1)

    def configure(self, settings, conf_dir):
        settings["blocking"].update(
            action="nxdomain",
            lists=[list_file(conf_dir, "common", [COMMON]),
                   list_file(conf_dir, "extra", [EXTRA, "tracker.insecure." + W])])
        settings["clients"] = [
            {"name": "guests", "networks": [GUEST + "/32"], "lists": ["common", "extra"],
             "action": "refused"},
            {"name": "servers", "networks": [SERVER + "/32", "fd00:30::/64"],
             "lists": []},
        ]
        self.query_log = os.path.join(conf_dir, "queries.jsonl")
        settings["logging"] = {"query_log": self.query_log}
        self.conf = os.path.join(conf_dir, "dnsvagt.yaml")  # for `dnsvagt lookup -c`

    def logged(self, name):
        """(client, group, list) of the query log's lines for `name`, once there are any."""
        return sorted((line["client"], line["group"], line["list"])
                      for line in subject.logged_lines(self.query_log, name + ".", BOUND))


def setUpModule():
    global env, server
    env = subject.Environment.with_world("clients is dnsvagt's config key")
    server = Server()


def rcode(name, source):
    reply = wire.udp_exchange(server.port, wire.query(0x4242, name), source=source)
    return None if reply is None else wire.Reply(reply).rcode


class ClientGroupsTest(unittest.TestCase):
    def tearDown(self):
        env.check_alive(self)

    def test_each_group_gets_its_lists_and_action(self):
        self.assertEqual(rcode(EXTRA, SERVER), "NOERROR")
        self.assertEqual(rcode(EXTRA, GUEST), "REFUSED")
        self.assertEqual(rcode(EXTRA, DEFAULT), "NXDOMAIN")
        self.assertEqual(rcode(COMMON, GUEST), "REFUSED")
        self.assertEqual(rcode(COMMON, SERVER), "NOERROR")
        self.assertEqual(rcode(COMMON, DEFAULT), "NXDOMAIN")
        self.assertEqual(server.logged(EXTRA), [(DEFAULT, None, "extra"),
                                                (GUEST, "guests", "extra"),
                                                (SERVER, "servers", None)])

    def test_a_cached_answer_carries_no_groups_verdict(self):
        # The server's lookup caches the answer whose CNAME chain only guests and defaults block.
        for source, expected in ((SERVER, "NOERROR"), (GUEST, "REFUSED"), (DEFAULT, "NXDOMAIN"),
                                 (SERVER, "NOERROR")):
            self.assertEqual(rcode(CLOAKED, source), expected, source)

    def test_waiters_of_one_resolution_each_get_their_groups_verdict(self):
        name = "%s.cloaked-wild.insecure.%s" % (uuid.uuid4().hex[:12], W)
        sockets = [(source, wire.udp_socket(source)) for source in (GUEST, SERVER, DEFAULT)]
        try:
            for _, sock in sockets:  # back to back: they wait on one upstream resolution
                sock.sendto(wire.query(0x4343, name), ("127.0.0.1", server.port))
            got = {}
            for source, sock in sockets:
                sock.settimeout(3.0)
                got[source] = wire.Reply(sock.recv(65535)).rcode
        finally:
            for _, sock in sockets:
                sock.close()
        self.assertEqual(got, {GUEST: "REFUSED", SERVER: "NOERROR", DEFAULT: "NXDOMAIN"})

    def lookup(self, *args):
        return subprocess.run([subject.Options.dnsvagt, "lookup", *args, "-c", server.conf],
                              capture_output=True, text=True, timeout=30)

    def test_lookup_with_a_client_shows_its_group_and_verdict(self):
        guest = self.lookup(EXTRA, "--client", GUEST)
        self.assertEqual(guest.returncode, 0, guest.stderr)
        self.assertIn('client %s: group "guests": block lists "common", "extra"; allow lists '
                      'none; answer refused\n' % GUEST, guest.stdout)
        self.assertIn('result: blocked by list "extra", entry "%s", answer refused' % EXTRA,
                      guest.stdout)
        mapped = self.lookup(EXTRA, "--client", "::ffff:" + SERVER)
        self.assertIn('group "servers": block lists none', mapped.stdout)
        self.assertIn("result: not blocked, no list that applies to this client matches",
                      mapped.stdout)
        bad = self.lookup(EXTRA, "--client", "guests")
        self.assertEqual(bad.returncode, 1)
        self.assertIn("--client", bad.stderr)

    def test_compliance_json_lists_the_groups(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/compliance.json" % server.metrics_port,
                                    timeout=5) as reply:
            page = json.loads(reply.read().decode())
        groups = page["requirement_22_blocking"]["client_groups"]
        self.assertEqual(groups, [
            {"name": "guests", "networks": [GUEST + "/32"], "certificate_subjects": [],
             "lists": ["common", "extra"], "allow": [], "action": "refused"},
            {"name": "servers", "networks": [SERVER + "/32", "fd00:30::/64"],
             "certificate_subjects": [], "lists": [], "allow": [], "action": "nxdomain"},
        ])


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
