# A dig(1) runner for the integration tests: one query, the reply's rcode, flags, EDE codes and
# answer records parsed from dig's text output.
"""Runs dig against a loopback server and parses what the tests assert on."""

import re
import subprocess

EDE_LINE = re.compile(r"^; EDE: (\d+)")


class DigResult:
    """What one dig run printed: rcode text ("NOERROR"), header flags, EDE codes, answers."""

    def __init__(self, command, output):
        self.command = command
        self.output = output
        self.status = None     # None: no reply (timeout)
        self.flags = set()
        self.ede = []          # EDE INFO-CODEs in the order dig printed them
        self.answer = []       # answer section lines split into fields
        section = None
        for line in output.splitlines():
            if "->>HEADER<<-" in line and "status:" in line:
                self.status = line.split("status:")[1].split(",")[0].strip()
            elif line.startswith(";; flags:"):
                self.flags = set(line[len(";; flags:"):].split(";")[0].split())
            elif EDE_LINE.match(line):
                self.ede.append(int(EDE_LINE.match(line).group(1)))
            elif line.startswith(";; ") and line.endswith("SECTION:"):
                section = line[3:-len(" SECTION:")]
            elif not line.strip():
                section = None
            elif section == "ANSWER" and not line.startswith(";"):
                self.answer.append(line.split())

    @property
    def ad(self):
        return "ad" in self.flags

    def rdata(self, rtype):
        """The rdata texts of answer records of type `rtype`."""
        return [" ".join(fields[4:]) for fields in self.answer
                if len(fields) >= 5 and fields[3] == rtype]

    def summary(self):
        return "%s flags=%s ede=%s answer=%s" % (self.status, " ".join(sorted(self.flags)),
                                                self.ede, [" ".join(a[3:]) for a in self.answer])


def dig(port, name, qtype="A", dnssec=False, cd=False, adflag=True, tcp=False, bufsize=None,
        address="127.0.0.1", extra=()):
    """One query; dig gets 2 s and one try (plus its own TCP retry on TC)."""
    command = ["dig", "@" + address, "-p", str(port), name, qtype, "+time=2", "+tries=1",
               "+nocmd", "+nostats", "+dnssec" if dnssec else "+nodnssec",
               "+cd" if cd else "+nocd", "+adflag" if adflag else "+noadflag"]
    if tcp:
        command.append("+tcp")
    if bufsize is not None:
        command.append("+bufsize=%d" % bufsize)
    command.extend(extra)
    try:
        output = subprocess.run(command, capture_output=True, text=True, timeout=15).stdout
    except subprocess.TimeoutExpired as timeout:
        output = timeout.stdout or ""
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
    return DigResult(" ".join(command), output)
