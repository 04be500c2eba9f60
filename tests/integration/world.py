#!/usr/bin/python3
# The signed test world of the integration tests: DNSSEC zones under world.test. built with
# ldns-keygen/ldns-signzone, served by NSD, with an Unbound daemon as the reference validator.
"""Builds and runs the signed DNS world the integration tests and benchmarks query.

As a module: ``with World(directory) as world:`` builds the zones, starts NSD and the reference
Unbound on free loopback ports, waits until both answer, and kills both on exit (also when the
body fails).  As a CLI (for humans and benchmarks)::

    world.py up DIR      build and start, print the ports and trust anchor, leave running
    world.py down DIR    kill what `up DIR` started

Zones (all served by the one NSD on 127.0.0.1; the parent holds NS + glue for every child):

    world.test.               signed, NSEC; its DS is the trust anchor
    secure.world.test.        signed, DS in parent; A, AAAA, MX, TXT, a large TXT set, CNAMEs
                              into insecure and bogus
    insecure.world.test.      unsigned, no DS; cloaked CNAME tracker (CNAME cloaking)
    bogus.world.test.         signed, DS in parent; www's A altered after signing
    expired.world.test.       signed with signatures that expired long ago
    nokey.world.test.         DS in parent for a key the child does not have
    unsigned-ds.world.test.   DS in parent, zone not signed
    nsec3.world.test.         signed with NSEC3
    wild.world.test.          signed, wildcard *.wild.world.test.
    10.in-addr.arpa.          unsigned, a PTR record (REVERSE_PTR); no parent, like an RFC 1918
                              reverse zone on an internal server (test_local_zones.py)
"""

import json
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

PARENT = "world.test"
LOOPBACK = "127.0.0.1"
KEY_ALGORITHM = "ECDSAP256SHA256"
TTL = 300

# Large TXT set: 10 strings of 200 bytes, about 2.1 KB on the wire (forces TC over UDP at 1232).
BIG_TXT = ['"%s"' % (chr(ord("a") + i) * 200) for i in range(10)]
# Medium TXT set: about 700 bytes, so a reply fits 1232 bytes but not 512.
MEDIUM_TXT = ['"%s"' % (chr(ord("k") + i) * 200) for i in range(3)]

# Addresses the tests expect in answers.
ADDRESSES = {
    "www.secure": "192.0.2.10",
    "www.insecure": "192.0.2.20",
    "tracker.insecure": "192.0.2.21",  # cloaked.insecure is a CNAME to it
    "www.bogus": "192.0.2.31",        # as served after tampering (signed as 192.0.2.30)
    "ok.bogus": "192.0.2.32",
    "www.expired": "192.0.2.40",
    "www.nokey": "192.0.2.50",
    "www.unsigned-ds": "192.0.2.60",
    "www.nsec3": "192.0.2.70",
    "wild": "192.0.2.80",
    "short.insecure": "192.0.2.22",    # TTL SHORT_TTL
    "popular.insecure": "192.0.2.23",  # TTL POPULAR_TTL
}
# The reverse zone of 10.0.0.0/8 and its one PTR record (name, target).
REVERSE_ZONE = "10.in-addr.arpa"
REVERSE_PTR = ("4.3.2.10.in-addr.arpa.", "dc1.corp.example.")
# TTLs of the records test_stale.py lets expire (serve-stale) or nearly expire (prefetch).
SHORT_TTL = 2
POPULAR_TTL = 20


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((LOOPBACK, 0))
            port = tcp.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.bind((LOOPBACK, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port on %s" % LOOPBACK)


def on_free_port(start, attempts=3):
    """Calls start(port) with a free port, again with another one if it fails (another process
    may take the port between free_port() and the server's bind, and the server then exits).
    Returns (port, result)."""
    for attempt in range(attempts):
        port = free_port()
        try:
            return port, start(port)
        except DaemonExited:
            if attempt == attempts - 1:
                raise


def scraped_metric(metrics_port, name, **labels):
    """The value of one sample of a dnsvagt's /metrics on `metrics_port` (0 if it is not
    there); labels in any order."""
    wanted = {key: str(value) for key, value in labels.items()}
    url = "http://%s:%d/metrics" % (LOOPBACK, metrics_port)
    with urllib.request.urlopen(url, timeout=5) as reply:
        for line in reply.read().decode().splitlines():
            sample, _, value = line.rpartition(" ")
            family, _, label_text = sample.partition("{")
            if family != name:
                continue
            found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', label_text))
            if found == wanted:
                return float(value)
    return 0.0


def current_user():
    return pwd.getpwuid(os.getuid()).pw_name


def run(args, cwd):
    """Runs a tool, raising with its stderr when it fails."""
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(args), result.returncode,
                                                   result.stderr.strip()))
    return result.stdout


class DaemonExited(RuntimeError):
    """A server process ended before it answered."""


class Daemon:
    """A server process started in its own session, killed by pid on stop()."""

    def __init__(self, name, args, log_path, cwd=None):
        self.name = name
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, cwd=cwd,
                                            start_new_session=True)
        self.pid = self.process.pid

    def running(self):
        return self.process.poll() is None

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        kill_pid(self.pid)
        try:
            self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass


def kill_pid(pid, grace=5.0):
    """SIGTERM, then SIGKILL after `grace` seconds; a pid already gone is fine."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child: poll for existence instead
            finished = 0
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        if finished == pid:
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def dig_status(port, name, qtype="SOA", extra=()):
    """The rcode text dig reports for one query, or None on timeout/no reply."""
    try:
        out = subprocess.run(["dig", "@" + LOOPBACK, "-p", str(port), name, qtype,
                              "+time=1", "+tries=1", *extra],
                             capture_output=True, text=True, timeout=5).stdout
    except subprocess.TimeoutExpired:
        return None
    for line in out.splitlines():
        if "->>HEADER<<-" in line and "status:" in line:
            return line.split("status:")[1].split(",")[0].strip()
    return None


def wait_until_answers(daemon, port, name, timeout=20.0, expect=("NOERROR",), extra=()):
    """Polls with dig until the daemon answers `name` with one of `expect`."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        if not daemon.running():
            raise DaemonExited("%s exited (code %s) before answering:\n%s"
                               % (daemon.name, daemon.process.returncode, daemon.log_tail()))
        status = dig_status(port, name, extra=extra)
        if status in expect:
            return
        time.sleep(0.1)
    raise RuntimeError("%s did not answer %s on port %d within %.0fs (last: %s):\n%s"
                       % (daemon.name, name, port, timeout, status, daemon.log_tail()))


def unbound_config(directory, name, port, nsd_port, trust_anchor,
                   access_control=("127.0.0.0/8 allow",), tls=None):
    """Config text of a validating Unbound forwarding world.test. to the NSD. tls: (key file,
    certificate file) to serve DNS over TLS alone on `port` (TCP; no UDP)."""
    lines = [
        "server:",
        "  interface: %s" % LOOPBACK,
        "  port: %d" % port,
        "  do-ip6: no",
        "  username: \"\"",
        "  chroot: \"\"",
        "  directory: \"%s\"" % directory,
        "  pidfile: \"%s\"" % os.path.join(directory, name + ".pid"),
        "  use-syslog: no",
        "  logfile: \"\"",
        "  verbosity: 1",
        "  val-log-level: 2",
        "  ede: yes",
        "  module-config: \"validator iterator\"",
        "  do-not-query-localhost: no",
        "  local-zone: \"test.\" nodefault",
        "  trust-anchor: \"%s\"" % trust_anchor,
        "  num-threads: 1",
        "  so-reuseport: no",
        "  edns-buffer-size: 1232",
        "  max-udp-size: 1232",
    ]
    lines += ["  access-control: %s" % rule for rule in access_control]
    if tls is not None:
        lines += ["  tls-service-key: \"%s\"" % tls[0], "  tls-service-pem: \"%s\"" % tls[1],
                  "  tls-port: %d" % port, "  do-udp: no"]
    lines += [
        "remote-control:",
        "  control-enable: no",
        "forward-zone:",
        "  name: \"%s.\"" % PARENT,
        "  forward-addr: %s@%d" % (LOOPBACK, nsd_port),
    ]
    return "\n".join(lines) + "\n"


def start_unbound(directory, name, port, nsd_port, trust_anchor,
                  access_control=("127.0.0.0/8 allow",), probe=None, tls=None):
    """Starts an Unbound daemon configured by unbound_config(); returns the Daemon once it
    answers (probe: a name it must resolve, default the parent SOA; over TLS with `tls`)."""
    conf = os.path.join(directory, name + ".conf")
    with open(conf, "w") as out:
        out.write(unbound_config(directory, name, port, nsd_port, trust_anchor, access_control,
                                 tls))
    return start_answering(name, ["unbound", "-d", "-c", conf],
                           os.path.join(directory, name + ".log"), port, probe or PARENT + ".",
                           extra=("+tls",) if tls else ())


def start_answering(name, command, log, port, probe=PARENT + ".", **wait):
    """Starts `command` as a Daemon and returns it once it answers `probe` on `port`
    (wait_until_answers' keywords in `wait`); stops it if it does not."""
    daemon = Daemon(name, command, log)
    try:
        wait_until_answers(daemon, port, probe, **wait)
    except BaseException:
        daemon.stop()
        raise
    return daemon


class Zone:
    """One zone's records in zone-file syntax, relative to its origin."""

    def __init__(self, name):
        self.name = name
        self.records = [
            "@ SOA ns.%s. hostmaster.%s. 1 3600 600 86400 %d" % (name, name, TTL),
            "@ NS ns",
            "ns A %s" % LOOPBACK,
        ]

    def add(self, *records):
        self.records.extend(records)

    def text(self):
        return "$ORIGIN %s.\n$TTL %d\n%s\n" % (self.name, TTL, "\n".join(self.records))


class World:
    """The zones, the NSD serving them and the reference Unbound, in `directory`."""

    # A name NSD must answer before the world counts as up (a subclass with other zones
    # names one of its own).
    probe = PARENT + "."

    def __init__(self, directory):
        self.directory = os.path.abspath(directory)
        self.nsd_port = None
        self.unbound_port = None
        self.trust_anchor = None  # the parent's DS record, one zone-file line
        self.nsd = None
        self.unbound = None

    # -- lifecycle

    def start(self):
        os.makedirs(self.directory, exist_ok=True)
        try:
            self.build_zones()
            self.nsd_port, self.nsd = on_free_port(self.start_nsd)
            self.unbound_port, self.unbound = on_free_port(
                lambda port: start_unbound(self.directory, "unbound", port, self.nsd_port,
                                           self.trust_anchor))
            self.save_state()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        for daemon in (self.unbound, self.nsd):
            if daemon is not None:
                daemon.stop()
        self.unbound = self.nsd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def state(self):
        return {
            "directory": self.directory,
            "nsd_port": self.nsd_port,
            "unbound_port": self.unbound_port,
            "trust_anchor": self.trust_anchor,
            "pids": {d.name: d.pid for d in (self.nsd, self.unbound) if d is not None},
        }

    def save_state(self):
        with open(os.path.join(self.directory, "world.json"), "w") as out:
            json.dump(self.state(), out, indent=2)

    # -- zones

    def keygen(self, zone, ksk=True):
        args = ["ldns-keygen", "-a", KEY_ALGORITHM]
        if ksk:
            args.append("-k")
        base = run(args + [zone], cwd=self.keys_dir).strip()
        return os.path.join(self.keys_dir, base)

    @staticmethod
    def ds_of(key_base):
        with open(key_base + ".ds") as ds:
            return " ".join(ds.read().split())

    def sign(self, zone, keys, extra=()):
        """Signs zone `zone` (Zone) with `keys`; returns the signed file's name in zonesdir."""
        unsigned = os.path.join(self.zones_dir, zone.name + ".zone")
        with open(unsigned, "w") as out:
            out.write(zone.text())
        signed = unsigned + ".signed"
        run(["ldns-signzone", *extra, "-o", zone.name, "-f", signed, unsigned, *keys],
            cwd=self.zones_dir)
        return os.path.basename(signed)

    def write_unsigned(self, zone):
        path = os.path.join(self.zones_dir, zone.name + ".zone")
        with open(path, "w") as out:
            out.write(zone.text())
        return os.path.basename(path)

    def build_zones(self):
        self.zones_dir = os.path.join(self.directory, "zones")
        self.keys_dir = os.path.join(self.directory, "keys")
        os.makedirs(self.zones_dir, exist_ok=True)
        os.makedirs(self.keys_dir, exist_ok=True)
        files = {}   # zone name -> zone file name
        ds = {}      # child label -> DS line for the parent, when it has one

        def child(label):
            return Zone("%s.%s" % (label, PARENT))

        secure = child("secure")
        secure.add("www A %s" % ADDRESSES["www.secure"], "www AAAA 2001:db8::10",
                   "@ MX 10 mail", "mail A 192.0.2.25", 'txt TXT "hello secure"',
                   *("big TXT " + text for text in BIG_TXT),
                   *("medium TXT " + text for text in MEDIUM_TXT),
                   "to-insecure CNAME www.insecure.%s." % PARENT,
                   "to-bogus CNAME www.bogus.%s." % PARENT)
        key = self.keygen(secure.name)
        files[secure.name] = self.sign(secure, [key])
        ds["secure"] = self.ds_of(key)

        insecure = child("insecure")
        insecure.add("www A %s" % ADDRESSES["www.insecure"])
        # CNAME cloaking (test_blocking.py): the test puts the target on a block list.
        insecure.add("cloaked CNAME tracker", "tracker A %s" % ADDRESSES["tracker.insecure"])
        # Any name below cloaked-wild, chosen by the client, is a CNAME to the tracker.
        insecure.add("*.cloaked-wild CNAME tracker")
        # Short TTLs for serve-stale and prefetch (test_stale.py).
        insecure.add("short %d A %s" % (SHORT_TTL, ADDRESSES["short.insecure"]),
                     "popular %d A %s" % (POPULAR_TTL, ADDRESSES["popular.insecure"]))
        files[insecure.name] = self.write_unsigned(insecure)

        bogus = child("bogus")
        bogus.add("www A 192.0.2.30", "ok A %s" % ADDRESSES["ok.bogus"])
        key = self.keygen(bogus.name)
        files[bogus.name] = self.sign(bogus, [key])
        self.tamper(files[bogus.name], "192.0.2.30", ADDRESSES["www.bogus"])
        ds["bogus"] = self.ds_of(key)

        expired = child("expired")
        expired.add("www A %s" % ADDRESSES["www.expired"])
        key = self.keygen(expired.name)
        files[expired.name] = self.sign(expired, [key], ["-i", "20200101", "-e", "20200201"])
        ds["expired"] = self.ds_of(key)

        nokey = child("nokey")
        nokey.add("www A %s" % ADDRESSES["www.nokey"])
        signing_key = self.keygen(nokey.name)
        other_key = self.keygen(nokey.name)  # its DS goes to the parent, it signs nothing
        files[nokey.name] = self.sign(nokey, [signing_key])
        ds["nokey"] = self.ds_of(other_key)

        unsigned_ds = child("unsigned-ds")
        unsigned_ds.add("www A %s" % ADDRESSES["www.unsigned-ds"])
        files[unsigned_ds.name] = self.write_unsigned(unsigned_ds)
        ds["unsigned-ds"] = self.ds_of(self.keygen(unsigned_ds.name))

        nsec3 = child("nsec3")
        nsec3.add("www A %s" % ADDRESSES["www.nsec3"])
        key = self.keygen(nsec3.name)
        files[nsec3.name] = self.sign(nsec3, [key], ["-n", "-t", "0"])
        ds["nsec3"] = self.ds_of(key)

        wild = child("wild")
        wild.add("* A %s" % ADDRESSES["wild"], '* TXT "wildcard"', "www A 192.0.2.81")
        key = self.keygen(wild.name)
        files[wild.name] = self.sign(wild, [key])
        ds["wild"] = self.ds_of(key)

        parent = Zone(PARENT)
        parent.add("www A 192.0.2.1")
        for label in ("secure", "insecure", "bogus", "expired", "nokey", "unsigned-ds",
                      "nsec3", "wild"):
            parent.add("%s NS ns.%s" % (label, label), "ns.%s A %s" % (label, LOOPBACK))
            if label in ds:
                parent.add(ds[label])
        key = self.keygen(PARENT)
        files[PARENT] = self.sign(parent, [key])
        self.trust_anchor = self.ds_of(key)

        reverse = Zone(REVERSE_ZONE)
        reverse.add("%s PTR %s" % REVERSE_PTR)
        files[REVERSE_ZONE] = self.write_unsigned(reverse)
        self.zone_files = files

    def tamper(self, file_name, old_address, new_address):
        """Changes an A record's rdata in a signed zone, so its RRSIG no longer matches."""
        path = os.path.join(self.zones_dir, file_name)
        with open(path) as zone:
            lines = zone.read().splitlines()
        changed = 0
        for i, line in enumerate(lines):
            fields = line.split()
            if len(fields) == 5 and fields[3] == "A" and fields[4] == old_address:
                lines[i] = line.replace(old_address, new_address)
                changed += 1
        if changed != 1:
            raise RuntimeError("tamper: %d A records %s in %s" % (changed, old_address, path))
        with open(path, "w") as zone:
            zone.write("\n".join(lines) + "\n")

    # -- servers

    def start_nsd(self, port):
        """Starts NSD on `port` serving every zone; returns the Daemon once it answers."""
        d = self.directory
        lines = [
            "server:",
            "  ip-address: %s@%d" % (LOOPBACK, port),
            "  port: %d" % port,
            "  do-ip6: no",
            "  username: \"\"",
            "  chroot: \"\"",
            "  zonesdir: \"%s\"" % self.zones_dir,
            "  pidfile: \"%s\"" % os.path.join(d, "nsd.pid"),
            "  database: \"\"",
            "  zonelistfile: \"%s\"" % os.path.join(d, "nsd.zonelist"),
            "  xfrdfile: \"%s\"" % os.path.join(d, "nsd.xfrd.state"),
            "  xfrdir: \"%s\"" % d,
            "  server-count: 1",
            "  reuseport: no",
            "  verbosity: 1",
            "remote-control:",
            "  control-enable: no",
        ]
        for name, file_name in sorted(self.zone_files.items()):
            lines += ["zone:", "  name: \"%s.\"" % name, "  zonefile: \"%s\"" % file_name]
        conf = os.path.join(d, "nsd.conf")
        with open(conf, "w") as out:
            out.write("\n".join(lines) + "\n")
        run(["nsd-checkconf", conf], cwd=d)
        nsd = Daemon("nsd", ["nsd", "-d", "-c", conf], os.path.join(d, "nsd.log"))
        try:
            wait_until_answers(nsd, port, self.probe, extra=("+norec",))
        except BaseException:
            nsd.stop()
            raise
        return nsd


def main(argv):
    if len(argv) != 3 or argv[1] not in ("up", "down"):
        sys.stderr.write("usage: world.py up|down DIR\n")
        return 1
    directory = os.path.abspath(argv[2])
    if argv[1] == "up":
        world = World(directory).start()
        state = world.state()
        print("nsd_port=%d" % state["nsd_port"])
        print("unbound_port=%d" % state["unbound_port"])
        print("trust_anchor='%s'" % state["trust_anchor"])
        print("# stop with: %s down %s" % (argv[0], directory))
        return 0
    try:
        with open(os.path.join(directory, "world.json")) as saved:
            state = json.load(saved)
    except FileNotFoundError:
        sys.stderr.write("no world.json in %s\n" % directory)
        return 1
    for pid in state["pids"].values():
        kill_pid(pid)
    os.remove(os.path.join(directory, "world.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
