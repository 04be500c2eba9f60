#!/usr/bin/python3
"""Checks of the Debian package that `cpack -G DEB` makes from a build directory.

  contents     the files, their modes and contents, the conffile, and a Depends that names the
               package of every shared library the binary needs (dpkg-deb -c, -I, -x)
  maintscripts the postinst, run with stand-ins for systemd-sysusers, systemd-tmpfiles,
               deb-systemd-helper, systemctl and deb-systemd-invoke, calls each as debhelper
               would, starts the service only when systemd runs the machine, and exits 0 when
               none of the tools exist
  install      (root only) dpkg --root installs, removes and purges the package in a throwaway
               root: user, directories and enablement appear there, and the host's user
               database and systemd configuration stay unchanged

The package is built into a temporary directory; nothing is written to the build directory
except by the build CPack runs first (normally a no-op after a build).
"""
import argparse
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

PACKAGE = "dnsvagt"
CONFFILE = "/etc/dnsvagt/dnsvagt.yaml"
# Installed path -> source file it must be a copy of (None: only present).
EXPECTED_FILES = {
    "/usr/sbin/dnsvagt": None,
    "/usr/lib/systemd/system/dnsvagt.service": "systemd/dnsvagt.service",
    "/usr/lib/sysusers.d/dnsvagt.conf": "systemd/dnsvagt.sysusers",
    "/usr/lib/tmpfiles.d/dnsvagt.conf": "systemd/dnsvagt.tmpfiles",
    CONFFILE: "systemd/dnsvagt.yaml",
    "/usr/share/dnsvagt/dnsvagt-rules.yml": "metrics/prometheus/dnsvagt-rules.yml",
    "/usr/share/dnsvagt/dnsvagt-dashboard.json": "metrics/grafana/dnsvagt-dashboard.json",
    "/usr/share/doc/dnsvagt/README.md": "README.md",
    "/usr/share/doc/dnsvagt/configuration.md": "docs/configuration.md",
    "/usr/share/doc/dnsvagt/deployment.md": "docs/deployment.md",
    "/usr/share/doc/dnsvagt/operations.md": "docs/operations.md",
    "/usr/share/doc/dnsvagt/dnsvagt.example.yaml": "docs/dnsvagt.example.yaml",
}
# Named in the brief and DESIGN.md; the NEEDED-based check below covers the rest.
REQUIRED_DEPENDS = ["libunbound8", "libldns3", "libevent-2.1-7", "libyaml-cpp0.7",
                    "libsystemd0"]
STAND_INS = ["systemd-sysusers", "systemd-tmpfiles", "deb-systemd-helper", "systemctl",
             "deb-systemd-invoke"]


class Failure(Exception):
    pass


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)
    if result.returncode != 0:
        raise Failure(f"{' '.join(command)}: exit {result.returncode}\n{result.stdout}"
                      f"{result.stderr}")
    return result.stdout


def build_package(build_dir, out_dir):
    run(["cpack", "-G", "DEB", "--config", os.path.join(build_dir, "CPackConfig.cmake"),
         "-B", out_dir])
    debs = [name for name in os.listdir(out_dir) if name.endswith(".deb")]
    if len(debs) != 1:
        raise Failure(f"cpack made {debs}, expected one .deb")
    return os.path.join(out_dir, debs[0])


def package_listing(deb):
    """{path: mode string} from dpkg-deb -c."""
    listing = {}
    for line in run(["dpkg-deb", "-c", deb]).splitlines():
        fields = line.split(None, 5)
        path = fields[5].split(" -> ")[0]
        listing[path[1:].rstrip("/") or "/"] = fields[0]
    return listing


def needed_packages(binary):
    """The Debian packages holding the shared libraries `binary` is linked against."""
    sonames = re.findall(r"^\s*NEEDED\s+(\S+)$", run(["objdump", "-p", binary]), re.MULTILINE)
    resolved = dict(re.findall(r"^\s*(\S+) => (/\S+)", run(["ldd", binary]), re.MULTILINE))
    packages = set()
    for soname in sonames:
        if soname not in resolved:
            raise Failure(f"the loader does not find {soname}")
        # dpkg knows a library by the path its package ships, with or without /usr (usrmerge).
        location = resolved[soname]
        candidates = [location, os.path.realpath(location),
                      location[4:] if location.startswith("/usr/") else "/usr" + location]
        for candidate in candidates:
            owner = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if owner.returncode == 0:
                packages.add(owner.stdout.split(":")[0])
                break
        else:
            raise Failure(f"no package owns {location} ({soname})")
    return sonames, packages


def check_contents(deb, source_dir, version):
    listing = package_listing(deb)
    print(f"{os.path.basename(deb)}: {len(listing)} entries")
    for path, source in EXPECTED_FILES.items():
        if path not in listing:
            raise Failure(f"{path} is missing from the package")
        print(f"  {listing[path]} {path}")
    if listing["/usr/sbin/dnsvagt"] != "-rwxr-xr-x":
        raise Failure(f"/usr/sbin/dnsvagt has mode {listing['/usr/sbin/dnsvagt']}")
    stray = [path for path in listing
             if not path.startswith(("/usr/", "/etc/dnsvagt")) and path not in ("/", "/usr", "/etc")]
    if stray or any(path.startswith("/usr/local") for path in listing):
        raise Failure(f"files outside /usr and /etc/dnsvagt: {stray}")

    fields = {}
    for field in ["Package", "Version", "Depends"]:
        fields[field] = run(["dpkg-deb", "-f", deb, field]).strip()
        print(f"{field}: {fields[field]}")
    if fields["Package"] != PACKAGE or fields["Version"] != version:
        raise Failure(f"package {fields['Package']} {fields['Version']}, expected {PACKAGE} {version}")
    depends = {part.split()[0] for part in fields["Depends"].split(",") if part.strip()}
    missing = [name for name in REQUIRED_DEPENDS if name not in depends]
    if missing:
        raise Failure(f"Depends lacks {missing}")

    with tempfile.TemporaryDirectory() as tree:
        run(["dpkg-deb", "-x", deb, tree])
        run(["dpkg-deb", "-e", deb, os.path.join(tree, "DEBIAN")])
        conffiles = open(os.path.join(tree, "DEBIAN", "conffiles")).read().split()
        print(f"conffiles: {conffiles}")
        if conffiles != [CONFFILE]:
            raise Failure(f"conffiles are {conffiles}, expected [{CONFFILE}]")
        for script in ["postinst", "prerm", "postrm"]:
            mode = stat.S_IMODE(os.stat(os.path.join(tree, "DEBIAN", script)).st_mode)
            if mode != 0o755:
                raise Failure(f"{script} has mode {oct(mode)}")
            run(["sh", "-n", os.path.join(tree, "DEBIAN", script)])
        for path, source in EXPECTED_FILES.items():
            if source and open(tree + path, "rb").read() != \
                    open(os.path.join(source_dir, source), "rb").read():
                raise Failure(f"{path} differs from {source}")

        binary = tree + "/usr/sbin/dnsvagt"
        sonames, packages = needed_packages(binary)
        print(f"NEEDED: {' '.join(sonames)}\n  from packages: {' '.join(sorted(packages))}")
        unlisted = sorted(packages - depends)
        if unlisted:
            raise Failure(f"Depends lacks {unlisted}, whose libraries the binary needs")
        print("packaged binary: " + run([binary, "version"]).strip())
        run([binary, "check-config", "-c", tree + CONFFILE])
        print(f"packaged {CONFFILE} passes check-config")


def run_postinst(postinst, stand_in_dir, environment_extra, log):
    environment = {"PATH": f"{stand_in_dir}:/usr/bin:/bin", "LC_ALL": "C"}
    environment.update(environment_extra)
    if os.path.exists(log):
        os.remove(log)
    result = subprocess.run(["sh", postinst, "configure", ""], env=environment,
                            capture_output=True, text=True, timeout=60)
    calls = open(log).read().splitlines() if os.path.exists(log) else []
    return result, calls


def check_maintscripts(deb):
    systemd_runs = os.path.isdir("/run/systemd/system")
    with tempfile.TemporaryDirectory() as work:
        run(["dpkg-deb", "-e", deb, os.path.join(work, "DEBIAN")])
        postinst = os.path.join(work, "DEBIAN", "postinst")
        log = os.path.join(work, "calls")
        stand_ins = os.path.join(work, "bin")
        os.mkdir(stand_ins)
        for tool in STAND_INS:
            path = os.path.join(stand_ins, tool)
            with open(path, "w") as script:
                script.write(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\nexit 0\n')
            os.chmod(path, 0o755)

        result, calls = run_postinst(postinst, stand_ins, {}, log)
        print(f"postinst configure (systemd running: {systemd_runs}): exit {result.returncode}")
        for call in calls:
            print(f"  {call}")
        expected = ["systemd-sysusers dnsvagt.conf",
                    "systemd-tmpfiles --create dnsvagt.conf",
                    "deb-systemd-helper enable dnsvagt.service"]
        if result.returncode != 0 or any(call not in calls for call in expected):
            raise Failure(f"postinst did not make the calls {expected}: {result.stderr}")
        if calls.index(expected[0]) > calls.index(expected[1]):
            raise Failure("postinst creates the directories before their user")
        started = "deb-systemd-invoke start dnsvagt.service" in calls
        if started != systemd_runs:
            raise Failure(f"postinst {'started' if started else 'did not start'} the service; "
                          f"systemd running: {systemd_runs}")

        result, calls = run_postinst(postinst, stand_ins, {"DPKG_ROOT": "/nonexistent-root"}, log)
        print(f"postinst configure with DPKG_ROOT: exit {result.returncode}")
        for call in calls:
            print(f"  {call}")
        if result.returncode != 0 or \
                "systemd-sysusers --root=/nonexistent-root dnsvagt.conf" not in calls or \
                "systemd-tmpfiles --root=/nonexistent-root --create dnsvagt.conf" not in calls or \
                any(call.startswith(("systemctl", "deb-systemd-invoke")) for call in calls):
            raise Failure("postinst under DPKG_ROOT does not confine itself to that root")

        # None of the tools: a minimal container. The shell's builtins only.
        empty = os.path.join(work, "empty")
        os.mkdir(empty)
        result = subprocess.run(["/bin/sh", postinst, "configure", ""], env={"PATH": empty},
                                capture_output=True, text=True, timeout=60)
        print(f"postinst configure without any systemd tool: exit {result.returncode}: "
              f"{result.stderr.strip()}")
        if result.returncode != 0:
            raise Failure("postinst fails where systemd's tools are missing")


def host_state():
    """What installing into another root must not touch on this machine."""
    digest = hashlib.sha256()
    for path in ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"]:
        if os.path.exists(path):
            digest.update(open(path, "rb").read())
    for top in ["/etc/systemd/system", "/var/lib/systemd"]:
        for directory, subdirectories, files in sorted(os.walk(top)):
            digest.update("\n".join([directory] + sorted(subdirectories + files)).encode())
    for path in ["/etc/dnsvagt", "/var/lib/dnsvagt", "/var/log/dnsvagt", "/usr/sbin/dnsvagt"]:
        digest.update(f"{path}={os.path.exists(path)}".encode())
    return digest.hexdigest()


def check_install(deb):
    if os.geteuid() != 0:
        print("install: needs root (dpkg --root); skipped")
        return 77
    before = host_state()
    root = tempfile.mkdtemp(prefix="dnsvagt-root.")
    try:
        admin = os.path.join(root, "var/lib/dpkg")
        for directory in ["info", "updates", "triggers"]:
            os.makedirs(os.path.join(admin, directory))
        for name in ["status", "available"]:
            open(os.path.join(admin, name), "w").close()
        dpkg = ["dpkg", f"--root={root}", "--log=/dev/null", "--force-script-chrootless",
                "--force-depends"]
        print(run(dpkg + ["-i", deb]).strip())

        passwd = open(os.path.join(root, "etc/passwd")).read()
        entry = re.search(r"^dnsvagt:x:(\d+):(\d+):", passwd, re.MULTILINE)
        if not entry:
            raise Failure("postinst did not create the user dnsvagt in the root")
        uid = int(entry.group(1))
        print(f"user dnsvagt in the root: uid {uid}")
        for directory in ["var/lib/dnsvagt", "var/lib/dnsvagt/lists", "var/log/dnsvagt"]:
            info = os.stat(os.path.join(root, directory))
            print(f"  /{directory}: owner {info.st_uid}, mode {oct(stat.S_IMODE(info.st_mode))}")
            if info.st_uid != uid or stat.S_IMODE(info.st_mode) != 0o750:
                raise Failure(f"/{directory} is not 0750 dnsvagt")
        wants = os.path.join(root, "etc/systemd/system/multi-user.target.wants/dnsvagt.service")
        if not os.path.islink(wants):
            raise Failure("the unit was not enabled in the root")
        print(f"enabled: {wants[len(root):]} -> {os.readlink(wants)}")

        print(run(dpkg + ["-r", PACKAGE]).strip())
        if os.path.exists(os.path.join(root, "usr/sbin/dnsvagt")) or \
                not os.path.exists(os.path.join(root, CONFFILE[1:])):
            raise Failure("remove must delete the binary and keep the conffile")
        print(run(dpkg + ["-P", PACKAGE]).strip())
        if os.path.exists(os.path.join(root, CONFFILE[1:])) or os.path.lexists(wants):
            raise Failure("purge left the conffile or the enablement behind")
        print("removed and purged: binary, conffile and enablement gone")
    finally:
        shutil.rmtree(root)
    if host_state() != before:
        raise Failure("installing into a throwaway root changed this machine")
    print("this machine's users, systemd configuration and dnsvagt paths are unchanged")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("check", choices=["contents", "maintscripts", "install"])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--version", required=True)
    args = parser.parse_args()
    status = 0
    with tempfile.TemporaryDirectory() as out_dir:
        try:
            deb = build_package(args.build_dir, out_dir)
            if args.check == "contents":
                check_contents(deb, args.source_dir, args.version)
            elif args.check == "maintscripts":
                check_maintscripts(deb)
            else:
                status = check_install(deb)
        except Failure as failure:
            print(f"FAIL: {failure}")
            return 1
    if status == 0:
        print("ok")
    return status


if __name__ == "__main__":
    sys.exit(main())
