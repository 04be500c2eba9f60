#!/usr/bin/python3
# DNS over TLS to a forwarder end to end (issue 11): upstream.tls_ca_file against an Unbound
# daemon that serves DoT with a certificate of a test CA made at test time.
"""dnsvagt forwarding over TLS to an Unbound daemon that serves DNS over TLS alone (no UDP)
on 127.0.0.1 and forwards world.test. to the world's NSD. Its certificate, for the name
dot.test, is signed by a test CA that the openssl CLI makes in the test's directory.

- upstream.tls_ca_file naming the test CA and the server as 127.0.0.1@PORT#dot.test: the
  world's signed name resolves, validated (AD).
- a second test CA instead, the system bundle (no tls_ca_file), or a wrong #name: SERVFAIL,
  counted in dnsvagt_upstream_errors_total. libunbound reports the failed handshake as a
  SERVFAIL like any other (README "Known issues"), so the reason is not "tls".
- a tls_ca_file that does not exist or holds no certificate: check-config and startup exit 1
  naming the config file, line and key.

The DoT cases need a libunbound linked with OpenSSL: Debian 12's libunbound8 is built with
nettle, has no DNS over TLS, and dnsvagt with a TLS forwarder does not start (README "Known
issues"). They are skipped, saying so, where the libunbound dnsvagt loads has no libssl.

Run: test_upstream_tls.py --dnsvagt PATH
"""

import os
import subprocess
import sys
import unittest

import pki
import subject
import world
from dig import dig
from world import ADDRESSES

TLS_NAME = "dot.test"
NAME = "www.secure.%s." % world.PARENT
# dnsvagt_upstream_errors_total's reasons (metrics/worker_counters.cc).
ERROR_REASONS = ("servfail", "timeout", "network", "tls", "internal")

env = None
dot_port = None


def libunbound_tls():
    """None if the libunbound that dnsvagt loads is linked with libssl, else why not."""
    def linked(path):
        return subprocess.run(["ldd", path], capture_output=True, text=True, timeout=30).stdout
    for line in linked(subject.Options.dnsvagt).splitlines():
        if line.strip().startswith("libunbound") and "=>" in line:
            library = line.split("=>")[1].split()[0]
            if "libssl" in linked(library):
                return None
            return "%s is not linked with OpenSSL: no DNS over TLS in libunbound" % library
    raise RuntimeError("no libunbound in ldd %s" % subject.Options.dnsvagt)


def make_pki():
    """Two test CAs and a server certificate of the first."""
    directory = os.path.join(env.directory, "pki")
    os.makedirs(directory)
    env.test_ca = pki.make_ca(directory, "test-ca")
    env.other_ca = pki.make_ca(directory, "other-ca")
    env.server_tls = pki.make_certificate(directory, env.test_ca, TLS_NAME)


def setUpModule():
    global env
    env = subject.Environment.with_world("tests dnsvagt's upstream.tls_ca_file")
    make_pki()


def over_tls(tls_ca_file, tls_name=TLS_NAME, port=None):
    """A change of the subject's settings: every query to the DoT Unbound (or `port`) as
    127.0.0.1@PORT#tls_name, with upstream.tls_ca_file unless it is None."""
    def change(settings, conf_dir):
        upstream = {"mode": "forward",
                    "servers": ["%s@%d#%s" % (world.LOOPBACK, port or dot_port, tls_name)]}
        if tls_ca_file is not None:
            upstream["tls_ca_file"] = tls_ca_file
        settings["upstream"] = upstream
    return change


def upstream_errors(metrics_port):
    return sum(world.scraped_metric(metrics_port, "dnsvagt_upstream_errors_total", reason=r)
               for r in ERROR_REASONS)


class UpstreamTlsTest(unittest.TestCase):
    """Queries through dnsvagt to the Unbound serving DoT."""

    @classmethod
    def setUpClass(cls):
        global dot_port
        reason = libunbound_tls()
        if reason:
            raise unittest.SkipTest(reason)
        dot_dir = os.path.join(env.directory, "dot")
        os.makedirs(dot_dir)
        dot_port, daemon = world.on_free_port(
            lambda port: world.start_unbound(dot_dir, "unbound-dot", port, env.world.nsd_port,
                                             env.world.trust_anchor, tls=env.server_tls))
        env.daemons.append(daemon)

    def tearDown(self):
        env.check_alive(self)

    def start(self, name, change):
        """A dnsvagt with metrics, ready once it answers localhost. (its own zone)."""
        port, metrics_port, _ = env.start_dnsvagt(name, change, metrics=True, probe="localhost.")
        return port, metrics_port

    def test_test_ca_validates_the_forwarder(self):
        port, _ = self.start("test_ca", over_tls(env.test_ca[0]))
        result = dig(port, NAME)
        self.assertEqual(result.status, "NOERROR", result.output)
        self.assertEqual(result.rdata("A"), [ADDRESSES["www.secure"]], result.output)
        self.assertTrue(result.ad, result.output)

    def assert_upstream_fails(self, name, change):
        port, metrics_port = self.start(name, change)
        before = upstream_errors(metrics_port)
        result = dig(port, NAME)
        self.assertEqual(result.status, "SERVFAIL", result.output)
        self.assertEqual(result.answer, [], result.output)
        self.assertGreater(upstream_errors(metrics_port), before)

    def test_other_ca_fails(self):
        self.assert_upstream_fails("other_ca", over_tls(env.other_ca[0]))

    def test_system_bundle_fails(self):
        self.assert_upstream_fails("system_bundle", over_tls(None))

    def test_wrong_name_fails(self):
        self.assert_upstream_fails("wrong_name", over_tls(env.test_ca[0], "wrong.test"))



class TlsCaFileConfigTest(unittest.TestCase):
    """check-config and startup with good and bad files."""

    @staticmethod
    def write_config(name, tls_ca_file):
        """Writes the config of over_tls(tls_ca_file); returns its path and the line of
        `upstream:` in it."""
        conf_dir = os.path.join(env.directory, name)
        os.makedirs(conf_dir, exist_ok=True)
        settings = subject.dnsvagt_settings(env.world, conf_dir, world.free_port())
        over_tls(tls_ca_file, port=853)(settings, conf_dir)
        conf = os.path.join(conf_dir, "dnsvagt.yaml")
        with open(conf, "w") as out:
            out.write(subject.config_text(settings))
        return conf, list(settings).index("upstream") + 1

    def assert_config_error(self, name, tls_ca_file, message):
        conf, line = self.write_config(name, tls_ca_file)
        expected = "dnsvagt: %s:%d: upstream.tls_ca_file: %s" % (conf, line, message)
        for command in (["check-config", "-c", conf], ["-c", conf]):
            result = subprocess.run([subject.Options.dnsvagt, *command], capture_output=True,
                                    text=True, timeout=30)
            self.assertEqual(result.returncode, 1, (command, result.stderr))
            self.assertIn(expected, result.stderr, command)

    def test_missing_file_is_a_config_error(self):
        path = os.path.join(env.directory, "no-such-ca.pem")
        self.assert_config_error("missing_ca", path,
                                 'cannot read "%s": No such file or directory' % path)

    def test_file_without_certificate_is_a_config_error(self):
        path = env.test_ca[1]  # the CA's key: PEM, but no certificate
        self.assert_config_error(
            "key_as_ca", path,
            '"%s" holds no PEM certificate (-----BEGIN CERTIFICATE-----)' % path)

    def test_check_config_prints_the_file(self):
        conf, _ = self.write_config("check_config", env.test_ca[0])
        result = subprocess.run([subject.Options.dnsvagt, "check-config", "-c", conf],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('tls_ca_file: "%s"' % env.test_ca[0], result.stdout)


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
