#!/usr/bin/python3
# Own-domain audit integration test (issue 12): `dnsvagt audit` and the server's periodic audit
# on a signed world of its own (zones under dk. and example., each with its own trust anchor,
# served by NSD): a domain that meets every requirement, one that breaks each check, and names
# whose servers are unreachable or never answer (cannot tell, never met).
"""Usage: test_audit.py --dnsvagt PATH [--keep] [-k PATTERN]

(dnsvagt only: --reference has no audit and skips every test.)
"""

import json
import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

import subject
import world

MET, NOT_MET, CANNOT_TELL = "met", "not_met", "cannot_tell"
REQUIREMENTS = ("17", "18", "19", "20", "23")
DKIM_KEY = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
TLSA = "3 1 1 " + "ab" * 32
AUDIT_TIMEOUT = "1500ms"


def mail_zone(name, mx="mx", tlsa=True, spf=("v=spf1 mx -all",),
              dmarc="v=DMARC1; p=reject; sp=reject", dkim=("sel1",), extra=()):
    """A zone of a domain that receives mail, meeting requirements 19, 20 and 23 unless told
    otherwise: MX to `mx` (relative, or absolute with a dot), TLSA for it, SPF, DMARC, DKIM."""
    zone = world.Zone(name)
    if mx:
        zone.add("@ MX 10 %s" % mx)
        if not mx.endswith("."):
            zone.add("%s A 192.0.2.25" % mx)
            if tlsa:
                zone.add("_25._tcp.%s TLSA %s" % (mx, TLSA))
    zone.add(*('@ TXT "%s"' % record for record in spf))
    if dmarc:
        zone.add('_dmarc TXT "%s"' % dmarc)
    zone.add(*('%s._domainkey TXT "%s"' % (selector, DKIM_KEY) for selector in dkim))
    zone.add(*extra)
    return zone


class AuditWorld(world.World):
    """NSD serving the zones below; trust anchors for dk. and example. (self.trust_anchors).

    dk.                     signed
      good.dk               signed, DS; meets everything; www (in the zone) and post
                            (delegated, signed, DS, in the mail flow) as subdomains
      unsigned.dk           not signed, no DS; TLSA present (insecure)
      bogusds.dk            signed, the DS in dk. is of another key (bogus)
      mxunsigned.dk         signed, DS; its MX is mx.unsigned.dk (unsigned zone)
      notlsa.dk             signed, DS; no TLSA for its MX
      pnone.dk              signed, DS; DMARC p=none
      twospf.dk             signed, DS; two SPF records
      nodkim.dk             signed, DS; no key at the selector sel1
      manylookups.dk        signed, DS; SPF needing 11 DNS lookups
      unreachable.dk        no DS; not served (dnsvagt forwards it to a closed port)
      slow.dk               no DS; not served (forwarded to a socket that never answers)
    example.                signed
      partner.example       signed, DS; meets everything but .dk (foreign cooperation)
      abroad.example        the same without the exception
    """

    probe = "dk."

    def start(self):
        os.makedirs(self.directory, exist_ok=True)
        try:
            self.build_zones()
            self.nsd_port, self.nsd = world.on_free_port(self.start_nsd)
            self.save_state()
        except BaseException:
            self.stop()
            raise
        return self

    def build_zones(self):
        self.zones_dir = os.path.join(self.directory, "zones")
        self.keys_dir = os.path.join(self.directory, "keys")
        os.makedirs(self.zones_dir, exist_ok=True)
        os.makedirs(self.keys_dir, exist_ok=True)
        self.zone_files = {}
        self.trust_anchors = []
        good_spf = ("v=spf1 mx include:_spf.good.dk -all",)
        post = mail_zone("post.good.dk")
        children = {
            "dk": [
                ("good", mail_zone("good.dk", spf=good_spf, extra=(
                    '_spf TXT "v=spf1 ip4:192.0.2.0/24 ~all"',
                    "www A 192.0.2.80", 'www TXT "v=spf1 -all"',
                    "post NS ns.post", "ns.post A %s" % world.LOOPBACK,
                    self.signed(post)[1])), "signed"),
                ("unsigned", mail_zone("unsigned.dk"), "unsigned"),
                ("bogusds", mail_zone("bogusds.dk"), "other-key"),
                ("mxunsigned", mail_zone("mxunsigned.dk", mx="mx.unsigned.dk."), "signed"),
                ("notlsa", mail_zone("notlsa.dk", tlsa=False), "signed"),
                ("pnone", mail_zone("pnone.dk", dmarc="v=DMARC1; p=none"), "signed"),
                ("twospf", mail_zone("twospf.dk", spf=("v=spf1 mx -all", "v=spf1 a ~all")),
                 "signed"),
                ("nodkim", mail_zone("nodkim.dk", dkim=()), "signed"),
                ("manylookups", mail_zone("manylookups.dk", spf=(
                    "v=spf1 a mx " + " ".join("a:h%d.manylookups.dk" % i for i in range(9))
                    + " -all",)), "signed"),
                ("unreachable", None, "none"),
                ("slow", None, "none"),
            ],
            "example": [
                ("partner", mail_zone("partner.example"), "signed"),
                ("abroad", mail_zone("abroad.example"), "signed"),
            ],
        }
        for tld, delegations in children.items():
            parent = world.Zone(tld)
            for label, zone, kind in delegations:
                parent.add("%s NS ns.%s" % (label, label), "ns.%s A %s" % (label, world.LOOPBACK))
                if zone is None:
                    continue  # delegated, served by nobody in this world
                if kind == "unsigned":
                    self.zone_files[zone.name] = self.write_unsigned(zone)
                    continue
                _, ds = self.signed(zone)
                if kind == "other-key":
                    ds = self.ds_of(self.keygen(zone.name))
                parent.add(ds)
            _, anchor = self.signed(parent)
            self.trust_anchors.append(anchor)

    def signed(self, zone):
        """Signs `zone` with a new key; returns (zone file, the DS line for its parent)."""
        key = self.keygen(zone.name)
        self.zone_files[zone.name] = self.sign(zone, [key])
        return self.zone_files[zone.name], self.ds_of(key)


# What the audit must find: domain -> verdicts of requirements 17, 18, 19, 20, 23.
EXPECTED = {
    "good.dk": (MET, MET, MET, MET, MET),
    "unsigned.dk": (MET, NOT_MET, NOT_MET, NOT_MET, MET),
    "bogusds.dk": (MET, NOT_MET, NOT_MET, NOT_MET, NOT_MET),
    "mxunsigned.dk": (MET, MET, NOT_MET, NOT_MET, MET),
    "notlsa.dk": (MET, MET, MET, NOT_MET, MET),
    "pnone.dk": (MET, MET, MET, MET, NOT_MET),
    "twospf.dk": (MET, MET, MET, MET, NOT_MET),
    "nodkim.dk": (MET, MET, MET, MET, NOT_MET),
    "manylookups.dk": (MET, MET, MET, MET, NOT_MET),
    "partner.example": (MET, MET, MET, MET, MET),
    "abroad.example": (NOT_MET, MET, MET, MET, MET),
    "unreachable.dk": (MET, CANNOT_TELL, CANNOT_TELL, CANNOT_TELL, CANNOT_TELL),
    "slow.dk": (MET, CANNOT_TELL, CANNOT_TELL, CANNOT_TELL, CANNOT_TELL),
}

# Evidence the check that fails must show: (domain, requirement, text in a not-met check).
EVIDENCE = [
    ("unsigned.dk", "18", "no DS at the parent"),
    ("unsigned.dk", "20", "TLSA present but DANE needs it DNSSEC-secure"),
    ("bogusds.dk", "18", "bogus answer (DNSSEC validation failed)"),
    ("mxunsigned.dk", "19", "mx.unsigned.dk A"),
    ("notlsa.dk", "20", "no TLSA record"),
    ("pnone.dk", "23", "p=none, not reject"),
    ("twospf.dk", "23", "2 SPF records"),
    ("nodkim.dk", "23", "no DKIM key at this selector"),
    ("manylookups.dk", "23", "more than 10 DNS lookups"),
    ("abroad.example", "17", "not under .dk"),
]


def domain_settings(name):
    settings = {"name": name, "dkim_selectors": ["sel1"]}
    if name == "good.dk":
        settings["subdomains"] = [{"name": "www.good.dk"},
                                  {"name": "post.good.dk", "mail_flow": True}]
    if name == "partner.example":
        settings["foreign_cooperation"] = True
    return settings


class Env:
    env = None
    silent = None       # the UDP socket slow.dk is forwarded to: bound, never read
    silent_tcp = None   # the TCP listener on the same port: never accepts
    silent_port = None
    closed_port = None  # unreachable.dk is forwarded here: nobody listens
    config = None       # the audit CLI's config file


def write_config(path, port, metrics_listen, domains):
    w = Env.env.world
    nsd = "%s@%d" % (world.LOOPBACK, w.nsd_port)
    settings = subject.dnsvagt_settings(w, os.path.dirname(path), port)
    settings["upstream"] = {
        "mode": "forward", "servers": [nsd],
        "zones": [{"name": "unreachable.dk", "servers": ["%s@%d" % (world.LOOPBACK, Env.closed_port)]},
                  {"name": "slow.dk", "servers": ["%s@%d" % (world.LOOPBACK, Env.silent_port)]}]}
    settings["dnssec"] = {"root_trust_anchor_file": "", "trust_anchors": w.trust_anchors}
    settings["metrics"] = {"listen": metrics_listen}
    settings["audit"] = {"interval": "1h", "timeout": AUDIT_TIMEOUT,
                         "domains": [domain_settings(name) for name in domains]}
    with open(path, "w") as out:
        out.write(subject.config_text(settings))


def audit(*args, config=None):
    """Runs `dnsvagt audit ARGS -c CONFIG`; returns (exit code, stdout, stderr)."""
    result = subprocess.run([subject.Options.dnsvagt, "audit", *args, "-c", config or Env.config],
                            capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout, result.stderr


def verdicts(report):
    """domain -> tuple of verdicts in the order of REQUIREMENTS, from the audit JSON."""
    table = {}
    for domain in report["domains"]:
        by_requirement = {str(r["requirement"]): r["verdict"] for r in domain["requirements"]}
        table[domain["domain"]] = tuple(by_requirement[r] for r in REQUIREMENTS)
    return table


def http_get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as reply:
        return reply.read().decode()


def setUpModule():
    if subject.Options.dnsvagt is None:
        raise unittest.SkipTest("dnsvagt only: the audit is dnsvagt's own")
    Env.env = subject.Environment()
    try:
        Env.env.world = AuditWorld(os.path.join(Env.env.directory, "world")).start()
        # slow.dk's server: bound, never read, so queries to it go unanswered (UDP) or hang
        # (TCP); unreachable.dk's: a port nobody listens on.
        Env.silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        Env.silent.bind((world.LOOPBACK, 0))
        Env.silent_port = Env.silent.getsockname()[1]
        Env.silent_tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        Env.silent_tcp.bind((world.LOOPBACK, Env.silent_port))
        Env.silent_tcp.listen(64)
        Env.closed_port = world.free_port()
        directory = os.path.join(Env.env.directory, "cli")
        os.makedirs(os.path.join(directory, "lists"))
        Env.config = os.path.join(directory, "dnsvagt.yaml")
        write_config(Env.config, world.free_port(), "", list(EXPECTED))
    except BaseException:
        Env.env.stop()
        raise


def tearDownModule():
    for sock in (Env.silent, Env.silent_tcp):
        if sock is not None:
            sock.close()
    Env.env.stop()


class AuditCliTest(unittest.TestCase):
    maxDiff = None
    report = None
    exit_code = None

    @classmethod
    def setUpClass(cls):
        code, out, err = audit("--format", "json")
        cls.exit_code, cls.stderr = code, err
        try:
            cls.report = json.loads(out)
        except ValueError:
            raise AssertionError("audit --format json printed no JSON (exit %d):\n%s\n%s"
                                 % (code, out, err))

    def requirement(self, domain, number):
        for entry in self.report["domains"]:
            if entry["domain"] == domain:
                for result in entry["requirements"]:
                    if str(result["requirement"]) == number:
                        return result
        self.fail("no requirement %s for %s in the report" % (number, domain))

    def test_verdicts_of_every_domain(self):
        self.assertEqual(verdicts(self.report), EXPECTED, json.dumps(self.report, indent=1))

    def test_failing_checks_show_their_evidence(self):
        for domain, number, text in EVIDENCE:
            with self.subTest(domain=domain, requirement=number):
                result = self.requirement(domain, number)
                failing = [c["subject"] + ": " + c["evidence"] for c in result["checks"]
                           if c["verdict"] == NOT_MET]
                self.assertTrue(any(text in line for line in failing),
                                "%r not in the failing checks: %s" % (text, failing))

    def test_met_rows_rest_on_secure_records(self):
        result = self.requirement("good.dk", "20")
        tlsa = [c for c in result["checks"] if c["subject"] == "_25._tcp.mx.good.dk TLSA"]
        self.assertEqual(len(tlsa), 1, result)
        self.assertIn(TLSA.lower().split()[-1][:16], tlsa[0]["evidence"].lower())
        self.assertIn("(secure)", tlsa[0]["evidence"])
        # The delegated subdomain's DS and the include of the SPF record were looked at.
        subjects = [c["subject"] for c in self.requirement("good.dk", "18")["checks"]]
        self.assertIn("post.good.dk DS", subjects)
        spf = [c for c in self.requirement("good.dk", "23")["checks"]
               if c["subject"] == "good.dk TXT (SPF)"]
        self.assertIn("2 of at most 10 DNS lookups", spf[0]["evidence"])

    def test_cannot_tell_is_never_met_and_says_why(self):
        for domain in ("unreachable.dk", "slow.dk"):
            for number in REQUIREMENTS[1:]:
                result = self.requirement(domain, number)
                self.assertEqual(result["verdict"], CANNOT_TELL, result)
                self.assertFalse(any(c["verdict"] == MET for c in result["checks"]
                                     if domain in c["subject"]), result)
        first = self.requirement("slow.dk", "18")["checks"][0]
        self.assertIn("no answer within the audit timeout", first["evidence"])
        first = self.requirement("unreachable.dk", "18")["checks"][0]
        self.assertIn("no answer", first["evidence"])

    def test_exit_code_is_3_when_a_requirement_is_not_met(self):
        self.assertEqual(self.exit_code, 3, self.stderr)
        self.assertFalse(self.report["all_met"])

    def test_exit_code_is_0_when_all_are_met(self):
        code, out, err = audit("good.dk", "partner.example", "--format", "json")
        self.assertEqual(code, 0, out + err)
        self.assertTrue(json.loads(out)["all_met"])

    def test_exit_code_is_4_when_the_rest_cannot_be_told(self):
        code, out, err = audit("unreachable.dk", "--format=json")
        self.assertEqual(code, 4, out + err)
        self.assertFalse(json.loads(out)["all_met"])

    def test_a_domain_not_in_the_config_gets_the_defaults(self):
        config = os.path.join(os.path.dirname(Env.config), "no-domains.yaml")
        write_config(config, world.free_port(), "", [])
        # Without a selector DKIM keys cannot be found: cannot tell, never met.
        code, out, err = audit("nodkim.dk", config=config)
        self.assertEqual(code, 4, out + err)
        self.assertRegex(out, r"(?m)^nodkim\.dk  23  CANNOT TELL")
        self.assertIn("no DKIM selectors configured", out)
        code, out, err = audit("nodkim.dk", "pnone.dk.", config=config)
        self.assertEqual(code, 3, out + err)
        self.assertRegex(out, r"(?m)^pnone\.dk  23  NOT MET")

    def test_table_and_html_formats(self):
        code, out, _ = audit("good.dk")
        self.assertEqual(code, 0, out)
        for number in REQUIREMENTS:
            self.assertRegex(out, r"(?m)^good\.dk  %s  met  \(" % number)
        code, out, _ = audit("good.dk", "--format", "html")
        self.assertEqual(code, 0, out)
        self.assertTrue(out.startswith("<!DOCTYPE html>"), out[:100])
        self.assertIn("<td>good.dk</td>", out)

    def test_bad_input_exits_1(self):
        for args in (["--format", "xml"], ["bad..name"]):
            code, _, err = audit(*args)
            self.assertEqual(code, 1, err)
        empty = os.path.join(os.path.dirname(Env.config), "empty.yaml")
        with open(empty, "w") as out:
            out.write("metrics: {listen: \"\"}\n")
        code, _, err = audit(config=empty)
        self.assertEqual(code, 1, err)
        self.assertIn("audit needs a DOMAIN", err)


class PeriodicAuditTest(unittest.TestCase):
    """The server audits audit.domains at start: metrics and the compliance page show it."""

    @classmethod
    def setUpClass(cls):
        directory = os.path.join(Env.env.directory, "server")
        os.makedirs(os.path.join(directory, "lists"))
        cls.metrics_port = world.free_port()
        domains = ["good.dk", "bogusds.dk", "slow.dk", "pnone.dk"]

        def start_on(port):
            conf = os.path.join(directory, "dnsvagt.yaml")
            write_config(conf, port, "127.0.0.1:%d" % cls.metrics_port, domains)
            return world.start_answering("dnsvagt", [subject.Options.dnsvagt, "-c", conf],
                                         os.path.join(directory, "dnsvagt.log"), port, "dk.")

        _, daemon = world.on_free_port(start_on)
        Env.env.daemons.append(daemon)
        cls.daemon = daemon
        # The first audit runs at start; slow.dk's lookups take their timeout each.
        deadline = time.monotonic() + 90
        while world.scraped_metric(cls.metrics_port, "dnsvagt_domain_audit_timestamp_seconds") == 0:
            if time.monotonic() > deadline or not daemon.running():
                raise AssertionError("no audit finished:\n" + daemon.log_tail())
            time.sleep(0.2)

    def met(self, domain, requirement):
        return world.scraped_metric(self.metrics_port, "dnsvagt_domain_requirement_met",
                                    domain=domain, requirement=requirement)

    def test_metrics(self):
        values = {"met": 1, "not_met": 0, "cannot_tell": -1}
        for domain in ("good.dk", "bogusds.dk", "slow.dk", "pnone.dk"):
            for number, verdict in zip(REQUIREMENTS, EXPECTED[domain]):
                with self.subTest(domain=domain, requirement=number):
                    self.assertEqual(self.met(domain, number), values[verdict])
        # A domain that is not configured has no samples.
        text = http_get(self.metrics_port, "/metrics")
        self.assertNotIn('domain="notlsa.dk"', text)

    def test_compliance_json_and_page(self):
        page = json.loads(http_get(self.metrics_port, "/compliance.json"))
        audit_section = page["requirements_17_to_20_and_23_own_domains"]
        self.assertEqual(verdicts(audit_section),
                         {d: EXPECTED[d] for d in ("good.dk", "bogusds.dk", "slow.dk", "pnone.dk")})
        self.assertFalse(audit_section["all_met"])
        # Beside requirements 21 and 22.
        self.assertIn("requirement_21_dnssec_validation", page)
        self.assertIn("requirement_22_blocking", page)
        html = http_get(self.metrics_port, "/compliance")
        self.assertIn("Requirements 17-20 and 23", html)
        self.assertIn('<td>bogusds.dk</td>', html)
        self.assertIn("cannot tell", html)

    def test_z_reload_without_domains_removes_the_results(self):
        # Named to run last (unittest sorts by name): it ends the audit.
        conf = os.path.join(Env.env.directory, "server", "dnsvagt.yaml")
        with open(conf) as source:
            lines = [line for line in source.read().splitlines() if not line.startswith("audit:")]
        with open(conf, "w") as out:
            out.write("\n".join(lines) + "\n")
        self.daemon.process.send_signal(1)  # SIGHUP
        deadline = time.monotonic() + 20
        while world.scraped_metric(self.metrics_port, "dnsvagt_domain_audit_timestamp_seconds"):
            self.assertLess(time.monotonic(), deadline, self.daemon.log_tail())
            time.sleep(0.2)
        self.assertNotIn("dnsvagt_domain_requirement_met{",
                         http_get(self.metrics_port, "/metrics"))
        page = json.loads(http_get(self.metrics_port, "/compliance.json"))
        self.assertIsNone(page["requirements_17_to_20_and_23_own_domains"])


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
