#!/usr/bin/env python3
# The scale-out topology of docs/deployment.md (issue 11): Debian's dnsdist in front of two
# dnsvagt instances with useProxyProtocol=true, configured by the Lua block of that document
# with loopback addresses put in. The query logs name the real client, and once dnsdist's
# health checks have marked a stopped instance down, no query is lost.
"""dnsdist (PROXY protocol v2) in front of two dnsvagt instances, on loopback."""

import json
import os
import re
import sys
import time
import unittest
import urllib.request

import subject
import wire
import world

W = world.PARENT
CLIENT = "127.0.0.5"       # the real client, as dnsdist sees it
# dnsdist's own address toward the instances: not 127.0.0.1, from which the readiness probes
# ask the instances directly, without a header.
DNSDIST_SOURCE = "127.0.0.9"
API_KEY = "dnsvagt-test"
BOUND = 20.0               # how long a test waits for what it expects (a bound, not a timing)

env = None
dnsdist = None
instances = []


def documented_lua():
    """The dnsdist.conf block of docs/deployment.md."""
    path = os.path.join(os.environ.get("DNSVAGT_SOURCE_DIR",
                                       os.path.join(os.path.dirname(__file__), "..", "..")),
                        "docs", "deployment.md")
    with open(path) as doc:
        blocks = re.findall(r"```lua\n(.*?)```", doc.read(), re.S)
    assert len(blocks) == 1, "docs/deployment.md should hold one lua block"
    return blocks[0]


class Instance:
    """One dnsvagt behind dnsdist, with a query log of its own."""

    def __init__(self, name):
        self.name = name
        self.query_log = None

        def change(settings, conf_dir):
            self.query_log = os.path.join(conf_dir, "queries.jsonl")
            settings["server"].update(proxy_protocol_from=[DNSDIST_SOURCE + "/32"],
                                      allow=["127.0.0.0/8"])
            settings["logging"] = {"query_log": self.query_log}

        self.port, _, self.daemon = env.start_dnsvagt(name, change)

    def logged(self):
        """(name, client) of every query log line so far, the readiness probe's included."""
        if not os.path.exists(self.query_log):
            return []
        with open(self.query_log) as log:
            return [(line["name"], line["client"])
                    for line in map(json.loads, filter(str.strip, log))]


class Dnsdist:
    def __init__(self):
        self.api_port = world.free_port()
        self.port, self.daemon = world.on_free_port(self.start)
        env.daemons.append(self.daemon)

    def start(self, port):
        lua = documented_lua()
        lua = lua.replace("192.0.2.53:53", "%s:%d" % (world.LOOPBACK, port))
        lua = lua.replace('{"10.0.0.0/8", "192.168.0.0/16"}', '{"127.0.0.0/8"}')
        for number, instance in enumerate(instances, 1):
            lua = lua.replace("10.0.0.1%d:53" % number, "%s:%d" % (world.LOOPBACK, instance.port))
        lua = lua.replace('checkName="example.dk."', 'checkName="%s."' % W)
        lua = lua.replace("useProxyProtocol=true",
                          'useProxyProtocol=true, source="%s"' % DNSDIST_SOURCE)
        assert "10.0.0." not in lua and "192.0.2." not in lua, lua
        # For the test only: both instances get queries, and the API tells their state.
        lua += 'setServerPolicy(roundrobin)\n'
        lua += 'webserver("%s:%d")\n' % (world.LOOPBACK, self.api_port)
        lua += 'setWebserverConfig({apiKey="%s", password="%s", acl="127.0.0.0/8"})\n' % (
            API_KEY, API_KEY)
        conf = os.path.join(env.directory, "dnsdist.conf")
        with open(conf, "w") as out:
            out.write(lua)
        return world.start_answering("dnsdist", ["dnsdist", "--supervised", "--disable-syslog",
                                                 "-C", conf],
                                     os.path.join(env.directory, "dnsdist.log"), port)

    def states(self):
        """{backend name: "up" | "down" | ...} from dnsdist's API."""
        request = urllib.request.Request(
            "http://%s:%d/api/v1/servers/localhost" % (world.LOOPBACK, self.api_port),
            headers={"X-API-Key": API_KEY})
        with urllib.request.urlopen(request, timeout=5) as reply:
            return {s["name"]: s["state"] for s in json.load(reply)["servers"]}


def start_servers():
    """Two dnsvagt instances and dnsdist in front of them."""
    global dnsdist
    for number in (1, 2):
        instances.append(Instance("dnsvagt-%d" % number))
    dnsdist = Dnsdist()


def setUpModule():
    global env
    env = subject.Environment.with_world("dnsdist passes the client to dnsvagt's PROXY support")
    start_servers()


def ask_udp(name, qid, timeout=2.0):
    reply = wire.udp_exchange(dnsdist.port, wire.query(qid, name), timeout=timeout,
                              source=CLIENT)
    return None if reply is None else wire.Reply(reply)


class DnsdistTopologyTest(unittest.TestCase):
    def test_1_every_instance_logs_the_real_client(self):
        names = ["c%d.secure.%s" % (i, W) for i in range(8)]
        for i, name in enumerate(names):
            reply = ask_udp(name, 0x300 + i)
            self.assertIsNotNone(reply, "no answer through dnsdist for " + name)
            self.assertEqual(reply.rcode, "NXDOMAIN")
        with wire.tcp_connect(dnsdist.port, source=CLIENT) as sock:
            sock.sendall(wire.frame(wire.query(0x399, "tcp.secure." + W)))
            self.assertEqual(wire.Reply(wire.tcp_read_message(sock)).rcode, "NXDOMAIN")
        wanted = {name + "." for name in names} | {"tcp.secure.%s." % W}
        deadline = time.monotonic() + BOUND
        while True:
            seen = {}
            for instance in instances:
                for name, client in instance.logged():
                    if name in wanted:
                        seen.setdefault(name, set()).add((instance.name, client))
            if len(seen) == len(wanted) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(set(seen), wanted, "queries missing from the query logs")
        clients = {client for entries in seen.values() for _, client in entries}
        self.assertEqual(clients, {CLIENT}, "the query logs do not name the real client")
        served_by = {instance for entries in seen.values() for instance, _ in entries}
        self.assertEqual(served_by, {"dnsvagt-1", "dnsvagt-2"}, "one instance got nothing")

    def test_2_a_stopped_instance_loses_no_query_once_marked_down(self):
        self.assertEqual(dnsdist.states(), {"dnsvagt-1": "up", "dnsvagt-2": "up"})
        instances[0].daemon.stop()
        deadline = time.monotonic() + BOUND
        while dnsdist.states()["dnsvagt-1"] != "down":
            self.assertLess(time.monotonic(), deadline, "dnsdist never marked dnsvagt-1 down")
            time.sleep(0.2)
        lost = []
        for i in range(200):
            if ask_udp("www.secure." + W, 0x1000 + i, timeout=1.0) is None:
                lost.append(i)
                if len(lost) == 5:
                    break
        self.assertEqual(lost, [], "queries lost after dnsvagt-1 was marked down")
        self.assertTrue(instances[1].daemon.running())


if __name__ == "__main__":
    sys.exit(subject.run_tests(__name__, sys.argv))
