# The server under test of the integration tests: dnsvagt started on the test world, or (to check
# the harness itself) an Unbound daemon configured the same way; plus the shared test runner.
"""Starts the server under test and runs a test module with a final "N passed, N failed" line.

Command line of every test script::

    test_x.py --dnsvagt PATH     test the dnsvagt binary at PATH (also: env DNSVAGT_BIN)
    test_x.py --reference        test an Unbound daemon instead (checks the harness and world)
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import world


class Options:
    """Parsed command line: which server to test (set by run_tests)."""
    dnsvagt = None     # path of the binary, or None for the reference Unbound
    keep = False       # keep the temp dir (logs) after the run


def dnsvagt_settings(world_, directory, port, allow=None, threads=2):
    """The config of a dnsvagt resolving world.test. from the world's NSD, as a dict of its
    top-level sections (for a test to change before config_text)."""
    nsd = "%s@%d" % (world.LOOPBACK, world_.nsd_port)
    server = {"listen": ["%s:%d" % (world.LOOPBACK, port)], "threads": threads,
              "user": world.current_user()}
    if allow is not None:
        server["allow"] = list(allow)
    config = {
        "server": server,
        "upstream": {"mode": "forward", "servers": [nsd],
                     "zones": [{"name": world.PARENT, "servers": [nsd]}]},
        "dnssec": {"root_trust_anchor_file": "", "trust_anchors": [world_.trust_anchor]},
        "metrics": {"listen": ""},
        "blocking": {"cache_dir": os.path.join(directory, "lists")},
    }
    return config


def logged_lines(query_log, name, timeout):
    """The lines of the JSON query log at `query_log` for `name` (as logged, with the trailing
    dot). A thread writes the log: waits up to `timeout` seconds until there is one."""
    deadline = time.monotonic() + timeout
    while True:
        lines = []
        if os.path.exists(query_log):
            with open(query_log) as log:
                lines = [json.loads(line) for line in log if line.strip()]
        found = [line for line in lines if line["name"] == name]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def check_tls_config(directory, tls):
    """`dnsvagt check-config` of a config that sets server.tls's keys to the YAML texts in
    `tls` (from line 3 on, in order); returns its exit code and its stdout + stderr with the
    file's path written as CONF."""
    conf = os.path.join(directory, "check-tls.yaml")
    with open(conf, "w") as out:
        out.write("server:\n  tls:\n")
        for key, value in tls.items():
            out.write("    %s: %s\n" % (key, value))
    result = subprocess.run([Options.dnsvagt, "check-config", "-c", conf],
                            capture_output=True, text=True, timeout=20)
    return result.returncode, (result.stdout + result.stderr).replace(conf, "CONF")


def config_text(settings):
    """Config file text of dnsvagt_settings()' dict. JSON is YAML; one top-level key per
    line keeps config errors' line numbers useful."""
    return "".join("%s: %s\n" % (key, json.dumps(value)) for key, value in settings.items())


def dnsvagt_config(world_, directory, port, allow=None, threads=2):
    """Config text for dnsvagt resolving world.test. from the world's NSD."""
    return config_text(dnsvagt_settings(world_, directory, port, allow, threads))


def start_subject(world_, directory, name, allow=None):
    """Starts the server under test on a free port; returns (port, Daemon).

    allow: client prefixes allowed (dnsvagt server.allow); None keeps the default. When
    127.0.0.1 is not allowed, readiness is a REFUSED reply instead of NOERROR.
    """
    return world.on_free_port(lambda port: start_subject_on(world_, directory, name, port, allow))


def start_subject_on(world_, directory, name, port, allow):
    refused = allow is not None and not any(p.startswith("127.0.0.1/") or p == "127.0.0.0/8"
                                            for p in allow)
    expect = ("REFUSED",) if refused else ("NOERROR",)
    if Options.dnsvagt is None:
        rules = ["%s allow" % prefix for prefix in (allow or ["127.0.0.0/8"])]
        if allow is not None:
            rules.insert(0, "127.0.0.0/8 refuse")
        conf_dir = os.path.join(directory, name)
        os.makedirs(conf_dir, exist_ok=True)
        conf = os.path.join(conf_dir, "unbound.conf")
        with open(conf, "w") as out:
            out.write(world.unbound_config(conf_dir, "unbound", port, world_.nsd_port,
                                           world_.trust_anchor, rules))
        command = ["unbound", "-d", "-c", conf]
        log = os.path.join(conf_dir, "unbound.log")
    else:
        conf_dir = os.path.join(directory, name)
        os.makedirs(os.path.join(conf_dir, "lists"), exist_ok=True)
        conf = os.path.join(conf_dir, "dnsvagt.yaml")
        with open(conf, "w") as out:
            out.write(dnsvagt_config(world_, conf_dir, port, allow))
        command = [Options.dnsvagt, "-c", conf]
        log = os.path.join(conf_dir, "dnsvagt.log")
    return world.start_answering(name, command, log, port, expect=expect)


def reloads(daemon):
    """How many reloads a dnsvagt has logged as done."""
    with open(daemon.log_path, errors="replace") as log:
        return log.read().count("reloaded the configuration")


def wait_for_reloads(daemon, count, bound):
    """Waits at most `bound` seconds for a dnsvagt to have logged `count` reloads as done;
    returns how many it has."""
    deadline = time.monotonic() + bound
    while reloads(daemon) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return reloads(daemon)


class Environment:
    """The world plus the servers a test module started; stop() kills them all."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="dnsvagt-itest-")
        self.world = None
        self.daemons = []

    def start_world(self):
        self.world = world.World(os.path.join(self.directory, "world")).start()
        return self.world

    @classmethod
    def with_world(cls, dnsvagt_only_because):
        """For setUpModule of a dnsvagt-only module: a new Environment with the world running,
        stopped again if that fails; skips the module when the subject is the reference.
        A module cleanup stops it after tearDownModule, and also when setUpModule fails after
        this: the module needs no tearDownModule of its own for it."""
        if Options.dnsvagt is None:
            raise unittest.SkipTest("dnsvagt only: " + dnsvagt_only_because)
        env = cls()
        env.started(env.start_world)
        unittest.addModuleCleanup(env.stop)
        return env

    def started(self, start):
        """What start() returns (it starts servers that go into self.daemons); if it fails,
        everything started so far is stopped."""
        try:
            return start()
        except BaseException:
            self.stop()
            raise

    def start_subject(self, name, allow=None):
        port, daemon = start_subject(self.world, self.directory, name, allow)
        self.daemons.append(daemon)
        return port

    def start_dnsvagt(self, name, change, metrics=False, threads=1, probe=world.PARENT + "."):
        """Starts a dnsvagt on the world with dnsvagt_settings() changed by
        change(settings, conf_dir) and written to conf_dir/dnsvagt.yaml (conf_dir: `name` in
        the environment's directory); returns (port, metrics port or None, Daemon) once it
        answers `probe`."""
        conf_dir = os.path.join(self.directory, name)
        os.makedirs(os.path.join(conf_dir, "lists"), exist_ok=True)
        metrics_port = world.free_port() if metrics else None

        def start(port):
            settings = dnsvagt_settings(self.world, conf_dir, port, threads=threads)
            if metrics_port:
                settings["metrics"] = {"listen": "%s:%d" % (world.LOOPBACK, metrics_port)}
            change(settings, conf_dir)
            conf = os.path.join(conf_dir, "dnsvagt.yaml")
            with open(conf, "w") as out:
                out.write(config_text(settings))
            return world.start_answering(name, [Options.dnsvagt, "-c", conf],
                                         os.path.join(conf_dir, "dnsvagt.log"), port,
                                         probe=probe)

        port, daemon = world.on_free_port(start)
        self.daemons.append(daemon)
        return port, metrics_port, daemon

    def check_alive(self, test):
        """Fails `test` if a server under test has died (crash on a packet, say)."""
        for daemon in self.daemons:
            test.assertTrue(daemon.running(), "%s exited with %s:\n%s"
                            % (daemon.name, daemon.process.returncode, daemon.log_tail()))

    def stop(self):
        for daemon in self.daemons:
            daemon.stop()
        self.daemons = []
        if self.world is not None:
            self.world.stop()
        if Options.keep:
            sys.stderr.write("kept %s\n" % self.directory)
        else:
            shutil.rmtree(self.directory, ignore_errors=True)


def subject_name():
    return "dnsvagt" if Options.dnsvagt else "unbound (reference)"


def run_tests(module_name, argv):
    """Parses argv, runs the module's tests, prints "N passed, N failed"; returns exit code."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnsvagt", default=os.environ.get("DNSVAGT_BIN"))
    parser.add_argument("--reference", action="store_true",
                        help="test an Unbound daemon instead of dnsvagt")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir with logs")
    parser.add_argument("-k", dest="patterns", action="append",
                        help="only tests whose name contains this")
    args = parser.parse_args(argv[1:])
    if args.reference:
        Options.dnsvagt = None
    elif not args.dnsvagt:
        parser.error("give --dnsvagt PATH (or DNSVAGT_BIN), or --reference")
    else:
        Options.dnsvagt = os.path.abspath(args.dnsvagt)
        if not os.access(Options.dnsvagt, os.X_OK):
            parser.error("not an executable: %s" % Options.dnsvagt)
    Options.keep = args.keep
    sys.stderr.write("server under test: %s\n" % (Options.dnsvagt or "unbound (reference)"))
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = ["*%s*" % p for p in args.patterns]
    suite = loader.loadTestsFromModule(sys.modules[module_name])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)
    return summarize(result)


def summarize(result):
    """Prints "N passed, N failed" for a unittest result; returns the exit code."""
    # Failures of subtests count once for their test; a setUpModule error counts as one failure
    # although no test ran, and a skipped module or class skips no test that ran.
    failing, setup_errors = set(), 0
    for test, _ in result.failures + result.errors:
        if isinstance(test, unittest.TestCase):
            failing.add(id(getattr(test, "test_case", test)))
        else:
            setup_errors += 1
    failed = len(failing) + setup_errors + len(result.unexpectedSuccesses)
    skipped = sum(1 for test, _ in result.skipped if isinstance(test, unittest.TestCase))
    passed = result.testsRun - len(failing) - len(result.unexpectedSuccesses) - skipped
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and result.testsRun > 0 else 1
