#!/usr/bin/python3
# libunbound's built-in local zones (RFC 6761 test., RFC 6303 10.in-addr.arpa., ...) against
# the names an operator configured: a zone forwarded, a trust anchor or a negative trust anchor
# in one of them must be resolved through its servers, and the other private zones stay local
# unless server.private_zones is forward.
"""dnsvagt instances on the test world, whose world.test. lies under test. and whose NSD also
serves 10.in-addr.arpa.; each test starts one with its own upstream and dnssec settings.

- signed zone under test.: a trust anchor for world.test. (a config line, or a file) with
  only a global forward, or upstream.zones in recursive mode: data and AD.
- 10.in-addr.arpa.: forwarded by upstream.zones as itself or inside in-addr.arpa.: the PTR.
- a global forward with server.private_zones at its default: 10.in-addr.arpa. is answered
  locally (NXDOMAIN), never by the NSD; with private_zones: forward it is the NSD's PTR, and
  localhost. and 127.in-addr.arpa. are still answered locally.

Run: test_local_zones.py --dnsvagt PATH
"""

import os
import sys
import unittest

import subject
import world
from dig import dig
from world import ADDRESSES

W = world.PARENT
SECURE_NAME = "www.secure.%s." % W
PTR_NAME, PTR_TARGET = world.REVERSE_PTR

env = None


def start(name, change):
    """Starts dnsvagt with the subject's settings as change(settings) leaves them; returns its
    port. Readiness is asked of localhost., which every instance answers itself."""
    directory = os.path.join(env.directory, name)
    os.makedirs(os.path.join(directory, "lists"), exist_ok=True)

    def start_on(port):
        settings = subject.dnsvagt_settings(env.world, directory, port)
        change(settings, directory)
        conf = os.path.join(directory, "dnsvagt.yaml")
        with open(conf, "w") as out:
            out.write(subject.config_text(settings))
        return world.start_answering(name, [subject.Options.dnsvagt, "-c", conf],
                                     os.path.join(directory, "dnsvagt.log"), port,
                                     probe="localhost.")

    port, daemon = world.on_free_port(start_on)
    env.daemons.append(daemon)
    return port


def nsd():
    return "%s@%d" % (world.LOOPBACK, env.world.nsd_port)


def global_forward(settings, directory):
    """Every name to the NSD through upstream.servers alone: no upstream.zones."""
    settings["upstream"] = {"mode": "forward", "servers": [nsd()]}


def recursive_with_zones(*zones):
    """Recursive mode (nothing reachable beyond the zones) with `zones` forwarded to the NSD."""
    def change(settings, directory):
        settings["upstream"] = {"mode": "recursive",
                                "zones": [{"name": zone, "servers": [nsd()]} for zone in zones]}
    return change


def setUpModule():
    global env
    env = subject.Environment.with_world(
        "the reference Unbound's local zones are set by hand in world.unbound_config")


class LocalZonesTest(unittest.TestCase):
    def tearDown(self):
        env.check_alive(self)

    def assert_secure(self, port):
        result = dig(port, SECURE_NAME)
        self.assertEqual(result.status, "NOERROR", result.output)
        self.assertEqual(result.rdata("A"), [ADDRESSES["www.secure"]], result.output)
        self.assertTrue(result.ad, result.output)

    def assert_ptr(self, port):
        result = dig(port, PTR_NAME, "PTR")
        self.assertEqual(result.status, "NOERROR", result.output)
        self.assertEqual(result.rdata("PTR"), [PTR_TARGET], result.output)

    def assert_local_nxdomain(self, port):
        """NXDOMAIN from libunbound's own zone (its SOA is localhost.'s), where the NSD has a
        PTR: the query never reached the upstream."""
        result = dig(port, PTR_NAME, "PTR", extra=("+noall", "+comments", "+authority"))
        self.assertEqual(result.status, "NXDOMAIN", result.output)
        self.assertIn("localhost. nobody.invalid.", result.output)

    # -- a signed zone under test.

    def test_trust_anchor_line_takes_zone_out_of_test(self):
        self.assert_secure(start("anchor_line", global_forward))

    def test_trust_anchor_file_takes_zone_out_of_test(self):
        def change(settings, directory):
            global_forward(settings, directory)
            path = os.path.join(directory, "world.key")
            with open(path, "w") as out:
                out.write("; the world's anchor\n$TTL 3600\n%s\n" % env.world.trust_anchor)
            settings["dnssec"] = {"root_trust_anchor_file": "", "trust_anchor_files": [path]}
        self.assert_secure(start("anchor_file", change))

    def test_forwarded_zone_under_test_validates(self):
        self.assert_secure(start("zone_under_test", recursive_with_zones(W)))

    # -- 10.in-addr.arpa.

    def test_forwarded_reverse_zone_answers(self):
        self.assert_ptr(start("reverse_zone", recursive_with_zones(world.REVERSE_ZONE)))

    def test_forwarded_zone_above_reverse_zone_answers(self):
        self.assert_ptr(start("above_reverse_zone", recursive_with_zones("in-addr.arpa")))

    def test_negative_trust_anchor_takes_reverse_zone(self):
        def change(settings, directory):
            global_forward(settings, directory)
            settings["dnssec"]["insecure_domains"] = ["3.2.10.in-addr.arpa"]
        self.assert_ptr(start("insecure_reverse", change))

    # -- server.private_zones with a global forward

    def test_private_zones_are_local_by_default(self):
        port = start("private_local", global_forward)
        self.assert_local_nxdomain(port)

    def test_private_zones_forward_reaches_upstream_but_loopback_stays(self):
        def change(settings, directory):
            global_forward(settings, directory)
            settings["server"]["private_zones"] = "forward"
        port = start("private_forward", change)
        self.assert_ptr(port)
        for name, qtype, data in (("localhost.", "A", "127.0.0.1"),
                                  ("1.0.0.127.in-addr.arpa.", "PTR", "localhost.")):
            result = dig(port, name, qtype)
            self.assertEqual(result.status, "NOERROR", result.output)
            self.assertEqual(result.rdata(qtype), [data], result.output)


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
