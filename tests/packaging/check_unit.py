#!/usr/bin/python3
"""Checks of systemd/dnsvagt.service against a built dnsvagt binary.

  verify    systemd-analyze verify of a copy whose binary and config paths point at the build
            tree is clean (no output, exit 0)
  security  systemd-analyze security --offline=true rates the exposure at most --max-exposure
  commands  ExecStartPre is `dnsvagt check-config -c CONFIG` with ExecStart's config, and
            refuses a broken config; ExecReload delivers SIGHUP to $MAINPID

Exit status 0 when every check passes; each check prints what it measured.
"""
import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

INSTALLED_BINARY = "/usr/sbin/dnsvagt"
INSTALLED_CONFIG = "/etc/dnsvagt/dnsvagt.yaml"


def service_settings(unit_text):
    """The [Service] section as {key: [values in order]}."""
    settings = {}
    section = None
    for line in unit_text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line:
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def only(settings, key):
    values = settings.get(key, [])
    if len(values) != 1:
        raise AssertionError(f"expected exactly one {key}=, found {len(values)}")
    return values[0]


def config_argument(words, what):
    if "-c" not in words or words.index("-c") + 1 >= len(words):
        raise AssertionError(f"{what} has no `-c CONFIG`: {shlex.join(words)}")
    return words[words.index("-c") + 1]


def build_tree_unit(unit_text, binary, config):
    return unit_text.replace(INSTALLED_BINARY, binary).replace(INSTALLED_CONFIG, config)


def check_verify(unit_text, binary, config):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "dnsvagt.service")
        with open(path, "w") as unit:
            unit.write(build_tree_unit(unit_text, os.path.abspath(binary), os.path.abspath(config)))
        result = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                                capture_output=True, text=True, timeout=60)
    output = (result.stdout + result.stderr).strip()
    print(f"systemd-analyze verify: exit {result.returncode}, output: {output or '(none)'}")
    if result.returncode != 0 or output:
        raise AssertionError("systemd-analyze verify is not clean")


def check_security(unit_path, max_exposure):
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                             unit_path], capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
    if not match:
        raise AssertionError(f"no exposure level in the output of systemd-analyze security "
                             f"(exit {result.returncode}): {result.stdout[-500:]}{result.stderr}")
    exposure = float(match.group(1))
    print(f"systemd-analyze security: overall exposure {exposure} (at most {max_exposure})")
    if exposure > max_exposure:
        raise AssertionError(f"exposure {exposure} is above {max_exposure}")


def check_start_pre(settings, binary, config):
    start = shlex.split(only(settings, "ExecStart"))
    start_pre = shlex.split(only(settings, "ExecStartPre"))
    print(f"ExecStart={shlex.join(start)}\nExecStartPre={shlex.join(start_pre)}")
    if start_pre[:2] != [INSTALLED_BINARY, "check-config"]:
        raise AssertionError(f"ExecStartPre is not `{INSTALLED_BINARY} check-config ...`")
    if config_argument(start_pre, "ExecStartPre") != config_argument(start, "ExecStart"):
        raise AssertionError("ExecStartPre checks another config than ExecStart runs")
    if start[0] != INSTALLED_BINARY:
        raise AssertionError(f"ExecStart does not run {INSTALLED_BINARY}")

    # The command itself, on the build tree: a good config passes, a broken one stops the start.
    def run_start_pre(config_path):
        words = [binary if w == INSTALLED_BINARY else w for w in start_pre]
        words[words.index("-c") + 1] = config_path
        return subprocess.run(words, capture_output=True, text=True, timeout=60)

    good = run_start_pre(config)
    print(f"ExecStartPre on {config}: exit {good.returncode}")
    if good.returncode != 0:
        raise AssertionError(f"check-config rejects {config}: {good.stderr}")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as broken:
        broken.write("server:\n  lisen: [\"127.0.0.1:53\"]\n")
        broken.flush()
        bad = run_start_pre(broken.name)
    print(f"ExecStartPre on a config with an unknown key: exit {bad.returncode}: "
          f"{bad.stderr.strip()}")
    if bad.returncode != 1:
        raise AssertionError("check-config accepts a config with an unknown key")


def check_reload(settings):
    reload_command = only(settings, "ExecReload")
    print(f"ExecReload={reload_command}")
    if "$MAINPID" not in reload_command and "${MAINPID}" not in reload_command:
        raise AssertionError("ExecReload does not address $MAINPID")
    # Run it against a stand-in main process that reports which signal it got.
    with tempfile.TemporaryDirectory() as directory:
        report = os.path.join(directory, "signal")
        stand_in = subprocess.Popen([sys.executable, "-c", (
            "import signal, sys, time\n"
            "def got(number, frame):\n"
            "    open(sys.argv[1], 'w').write(signal.Signals(number).name)\n"
            "    sys.exit(0)\n"
            "for s in (signal.SIGHUP, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2, signal.SIGINT):\n"
            "    signal.signal(s, got)\n"
            "open(sys.argv[1] + '.ready', 'w').close()\n"
            "time.sleep(30)\n"), report])
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists(report + ".ready") and time.monotonic() < deadline:
                time.sleep(0.01)
            command = reload_command.replace("${MAINPID}", str(stand_in.pid))
            command = command.replace("$MAINPID", str(stand_in.pid))
            subprocess.run(shlex.split(command), check=True, timeout=10)
            stand_in.wait(timeout=10)
        finally:
            if stand_in.poll() is None:
                stand_in.kill()
                stand_in.wait()
        received = open(report).read() if os.path.exists(report) else "nothing"
    print(f"ExecReload delivered: {received}")
    if received != "SIGHUP":
        raise AssertionError(f"ExecReload sends {received}, not SIGHUP")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("check", choices=["verify", "security", "commands"])
    parser.add_argument("--unit", required=True, help="systemd/dnsvagt.service")
    parser.add_argument("--binary", help="the built dnsvagt")
    parser.add_argument("--config", help="a valid config (the example)")
    parser.add_argument("--max-exposure", type=float, default=2.0)
    args = parser.parse_args()
    unit_text = open(args.unit).read()
    try:
        if args.check == "verify":
            check_verify(unit_text, args.binary, args.config)
        elif args.check == "security":
            check_security(args.unit, args.max_exposure)
        else:
            settings = service_settings(unit_text)
            check_start_pre(settings, args.binary, args.config)
            check_reload(settings)
    except AssertionError as failure:
        print(f"FAIL: {failure}")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
