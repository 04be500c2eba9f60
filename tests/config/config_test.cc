// Tests of config loading: defaults, good files, the exact message of every kind of bad file,
// the to_yaml() round trip, and the shipped example config.
#include "config/config.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "tests/temp_dir.h"

namespace dnsvagt {
namespace {

using std::chrono::seconds;

// The text forms of addresses, as the config writes them.
std::vector<std::string> texts(const std::vector<IpAddress>& addresses) {
  std::vector<std::string> result;
  for (const IpAddress& address : addresses) result.push_back(address.to_string());
  return result;
}

// The what() of the ConfigError that parsing `yaml` throws, or "no error".
std::string error_of(const std::string& yaml) {
  try {
    parse_config(yaml, "t.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

std::string source_dir() {
  const char* dir = std::getenv("DNSVAGT_SOURCE_DIR");
  return dir ? dir : ".";
}

// A config that sets every key to something other than its default.
const char* const kFullConfig = R"(
server:
  listen: ["0.0.0.0:5353", "[2001:db8::53]:53", "192.0.2.1", "::1"]
  threads: 4
  allow: ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7"]
  proxy_protocol_from: ["127.0.0.2", "::1/128"]
  tcp_idle_timeout: 2m
  tcp_query_timeout: 3s
  tcp_write_timeout: 7s
  max_tcp_connections: 50
  max_tcp_connections_per_client: 5
  rate_limit: {qps: 10, burst: 20, ipv4_prefix: 24, ipv6_prefix: 64}
  user: nobody
  private_zones: forward
upstream:
  mode: forward
  servers: ["192.0.2.1", "192.0.2.2@5353", "9.9.9.9@853#dns.Quad9.net.", "2001:db8::1@53"]
  tls: false
  timeout: 1500ms
  zones:
    - {name: Corp.Example.DK., servers: ["10.0.0.5"], insecure: true}
    - name: 10.in-addr.arpa
      servers: ["10.0.0.6#ad.corp.example.dk"]
dnssec:
  validate: false
  root_trust_anchor_file: ""
  trust_anchors: ["test. DS 1 8 2 ABCD", "test. 3600 IN DNSKEY 257 3 8 AwEAAb=="]
  trust_anchor_files: [/etc/a.key, /etc/b.key]
  insecure_domains: [Legacy.Example.dk.]
cache:
  size: 64MiB
  serve_stale: false
  prefetch: false
  max_ttl: 3600
blocking:
  action: sinkhole
  sinkhole: ["192.0.2.99", "2001:DB8::99"]
  ttl: 60
  cname_check: false
  cache_dir: /tmp/lists
  lists:
    - name: urlhaus
      url: https://example.org/hostfile.txt
      format: hosts
      refresh: 30m
      min_entries: 10
      max_shrink: 0.25
      max_size: 512KiB
      ca_file: /etc/ca.pem
      sha256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08
    - {name: local.block_1, file: /etc/dnsvagt/block.txt, format: adblock}
  allow:
    - {name: exceptions, file: /etc/dnsvagt/allow.txt, format: domains}
clients:
  - name: guests
    networks: ["192.168.100.0/24", "FD00:100::/64"]
    lists: [local.block_1]
    allow: []
    action: refused
  - {name: servers, networks: ["10.0.5.0/24"], lists: []}
metrics:
  listen: "[::1]:9100"
logging:
  level: debug
  query_log: /var/log/q.jsonl
  query_log_rotate: 512MiB
  query_log_retention: 2000d
audit:
  interval: 6h
  timeout: 2500ms
  domains:
    - name: Example.DK.
      subdomains:
        - {name: post.example.dk, mail_flow: true}
        - {name: www.example.dk}
      dkim_selectors: [S1, mail.2024]
    - {name: partner.eu, foreign_cooperation: true}
)";

TEST(DefaultConfig, MatchesDesign) {
  Config c = default_config();
  ASSERT_EQ(c.server.listen.size(), 2u);
  EXPECT_EQ(c.server.listen[0].to_string(), "127.0.0.1:53");
  EXPECT_EQ(c.server.listen[1].to_string(), "[::1]:53");
  EXPECT_EQ(c.server.threads, 0u);
  std::vector<std::string> allow;
  for (const NetworkPrefix& p : c.server.allow) allow.push_back(p.text);
  EXPECT_EQ(allow, (std::vector<std::string>{"127.0.0.0/8", "::1/128", "10.0.0.0/8",
                                             "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}));
  EXPECT_EQ(c.server.tcp_idle_timeout, seconds(10));
  EXPECT_EQ(c.server.tcp_query_timeout, seconds(5));
  EXPECT_EQ(c.server.tcp_write_timeout, seconds(10));
  EXPECT_EQ(c.server.max_tcp_connections, 1000u);
  EXPECT_EQ(c.server.max_tcp_connections_per_client, 100u);
  EXPECT_EQ(c.server.rate_limit, (RateLimit{0, 0, 32, 56}));
  EXPECT_EQ(c.server.user, "dnsvagt");
  EXPECT_EQ(c.server.private_zones, PrivateZones::local);
  EXPECT_EQ(c.upstream.mode, UpstreamMode::recursive);
  EXPECT_TRUE(c.upstream.servers.empty());
  EXPECT_FALSE(c.upstream.tls);
  EXPECT_EQ(c.upstream.timeout, std::chrono::milliseconds(1800));
  EXPECT_TRUE(c.upstream.zones.empty());
  EXPECT_TRUE(c.dnssec.validate);
  EXPECT_EQ(c.dnssec.root_trust_anchor_file, "/var/lib/dnsvagt/root.key");
  EXPECT_EQ(c.cache.size, 256ull << 20);
  EXPECT_TRUE(c.cache.serve_stale);
  EXPECT_TRUE(c.cache.prefetch);
  EXPECT_EQ(c.cache.max_ttl, 86400u);
  EXPECT_EQ(c.blocking.action, BlockAction::nxdomain);
  EXPECT_EQ(texts(c.blocking.sinkhole), (std::vector<std::string>{"0.0.0.0", "::"}));
  EXPECT_EQ(c.blocking.sinkhole[0].family, AF_INET);
  EXPECT_EQ(c.blocking.sinkhole[1].family, AF_INET6);
  EXPECT_EQ(c.blocking.ttl, 300u);
  EXPECT_TRUE(c.blocking.cname_check);
  EXPECT_EQ(c.blocking.cache_dir, "/var/lib/dnsvagt/lists");
  EXPECT_TRUE(c.blocking.lists.empty());
  EXPECT_TRUE(c.blocking.allow.empty());
  EXPECT_TRUE(c.server.proxy_protocol_from.empty());
  EXPECT_EQ(c.metrics.listen, (Endpoint{"127.0.0.1", 9153}));
  EXPECT_EQ(c.logging.level, LogLevel::info);
  EXPECT_EQ(c.logging.query_log, "");
  EXPECT_TRUE(c.logging.query_log_rotate.daily());
  EXPECT_EQ(c.logging.query_log_retention, seconds(400 * 86400));
  EXPECT_EQ(c.audit.interval, seconds(3600));
  EXPECT_EQ(c.audit.timeout, std::chrono::milliseconds(5000));
  EXPECT_TRUE(c.audit.domains.empty());
  EXPECT_EQ(c.source, "");
}

TEST(ParseConfig, EmptyAndCommentOnlyFilesGiveDefaults) {
  Config expected = default_config();
  expected.source = "t.yaml";
  EXPECT_EQ(parse_config("", "t.yaml"), expected);
  EXPECT_EQ(parse_config("# nothing here\n", "t.yaml"), expected);
  EXPECT_EQ(parse_config("server:\nblocking:\n  lists:\n", "t.yaml"), expected);
}

TEST(ParseConfig, PartialFileKeepsOtherDefaults) {
  Config c = parse_config("server:\n  threads: 8\nblocking:\n  action: refused\n", "t.yaml");
  Config expected = default_config();
  expected.source = "t.yaml";
  expected.server.threads = 8;
  expected.blocking.action = BlockAction::refused;
  EXPECT_EQ(c, expected);
}

TEST(ParseConfig, FullConfigSetsEveryField) {
  Config c = parse_config(kFullConfig, "full.yaml");
  EXPECT_EQ(c.source, "full.yaml");
  ASSERT_EQ(c.server.listen.size(), 4u);
  EXPECT_EQ(c.server.listen[0], (Endpoint{"0.0.0.0", 5353}));
  EXPECT_EQ(c.server.listen[1], (Endpoint{"2001:db8::53", 53}));
  EXPECT_EQ(c.server.listen[2], (Endpoint{"192.0.2.1", 53}));
  EXPECT_EQ(c.server.listen[3], (Endpoint{"::1", 53}));
  EXPECT_EQ(c.server.threads, 4u);
  ASSERT_EQ(c.server.allow.size(), 3u);
  EXPECT_EQ(c.server.allow[2].length, 32);
  ASSERT_EQ(c.server.proxy_protocol_from.size(), 2u);
  EXPECT_EQ(c.server.proxy_protocol_from[0].text, "127.0.0.2");
  EXPECT_EQ(c.server.proxy_protocol_from[1].family, AF_INET6);
  EXPECT_EQ(c.server.tcp_idle_timeout, seconds(120));
  EXPECT_EQ(c.server.tcp_query_timeout, seconds(3));
  EXPECT_EQ(c.server.tcp_write_timeout, seconds(7));
  EXPECT_EQ(c.server.max_tcp_connections, 50u);
  EXPECT_EQ(c.server.max_tcp_connections_per_client, 5u);
  EXPECT_EQ(c.server.rate_limit, (RateLimit{10, 20, 24, 64}));
  EXPECT_EQ(c.server.user, "nobody");
  EXPECT_EQ(c.server.private_zones, PrivateZones::forward);

  EXPECT_EQ(c.upstream.timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c.upstream.mode, UpstreamMode::forward);
  std::vector<std::string> servers;
  for (const UpstreamServer& s : c.upstream.servers) servers.push_back(s.to_string());
  EXPECT_EQ(servers, (std::vector<std::string>{"192.0.2.1@53", "192.0.2.2@5353",
                                               "9.9.9.9@853#dns.quad9.net", "2001:db8::1@53"}));
  ASSERT_EQ(c.upstream.zones.size(), 2u);
  EXPECT_EQ(c.upstream.zones[0].name, "corp.example.dk");
  EXPECT_TRUE(c.upstream.zones[0].insecure);
  EXPECT_EQ(c.upstream.zones[1].name, "10.in-addr.arpa");
  EXPECT_FALSE(c.upstream.zones[1].insecure);
  ASSERT_EQ(c.upstream.zones[1].servers.size(), 1u);
  // A #name means DNS over TLS, so the port defaults to 853.
  EXPECT_EQ(c.upstream.zones[1].servers[0].to_string(), "10.0.0.6@853#ad.corp.example.dk");

  EXPECT_FALSE(c.dnssec.validate);
  EXPECT_EQ(c.dnssec.root_trust_anchor_file, "");
  EXPECT_EQ(c.dnssec.trust_anchors.size(), 2u);
  EXPECT_EQ(c.dnssec.trust_anchor_files, (std::vector<std::string>{"/etc/a.key", "/etc/b.key"}));
  EXPECT_EQ(c.dnssec.insecure_domains, (std::vector<std::string>{"legacy.example.dk"}));

  EXPECT_EQ(c.cache.size, 64ull << 20);
  EXPECT_FALSE(c.cache.serve_stale);
  EXPECT_FALSE(c.cache.prefetch);
  EXPECT_EQ(c.cache.max_ttl, 3600u);

  EXPECT_EQ(c.blocking.action, BlockAction::sinkhole);
  EXPECT_EQ(texts(c.blocking.sinkhole), (std::vector<std::string>{"192.0.2.99", "2001:db8::99"}));
  EXPECT_EQ(c.blocking.ttl, 60u);
  EXPECT_FALSE(c.blocking.cname_check);
  EXPECT_EQ(c.blocking.cache_dir, "/tmp/lists");
  ASSERT_EQ(c.blocking.lists.size(), 2u);
  const ListSource& urlhaus = c.blocking.lists[0];
  EXPECT_EQ(urlhaus.name, "urlhaus");
  EXPECT_EQ(urlhaus.url, "https://example.org/hostfile.txt");
  EXPECT_EQ(urlhaus.file, "");
  EXPECT_EQ(urlhaus.format, ListFormat::hosts);
  EXPECT_EQ(urlhaus.refresh, seconds(1800));
  EXPECT_EQ(urlhaus.min_entries, 10u);
  EXPECT_EQ(urlhaus.max_shrink, 0.25);
  EXPECT_EQ(urlhaus.max_size, 512u << 10);
  EXPECT_EQ(urlhaus.ca_file, "/etc/ca.pem");
  EXPECT_EQ(urlhaus.sha256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  const ListSource& local = c.blocking.lists[1];
  EXPECT_EQ(local.name, "local.block_1");
  EXPECT_EQ(local.file, "/etc/dnsvagt/block.txt");
  EXPECT_EQ(local.format, ListFormat::adblock);
  EXPECT_EQ(local.refresh, seconds(3600));  // unset keys of a list keep their defaults
  EXPECT_EQ(local.max_shrink, 0.5);
  ASSERT_EQ(c.blocking.allow.size(), 1u);
  EXPECT_EQ(c.blocking.allow[0].name, "exceptions");
  EXPECT_EQ(c.blocking.allow[0].format, ListFormat::domains);

  EXPECT_EQ(c.metrics.listen, (Endpoint{"::1", 9100}));
  EXPECT_EQ(c.logging.level, LogLevel::debug);
  EXPECT_EQ(c.logging.query_log, "/var/log/q.jsonl");
  EXPECT_EQ(c.logging.query_log_rotate, (LogRotation{512ull << 20}));
  EXPECT_EQ(c.logging.query_log_retention, seconds(2000 * 86400));
  EXPECT_EQ(c.audit.interval, seconds(6 * 3600));
  EXPECT_EQ(c.audit.timeout, std::chrono::milliseconds(2500));
  ASSERT_EQ(c.audit.domains.size(), 2u);
  EXPECT_EQ(c.audit.domains[0],
            (AuditDomain{"example.dk",
                         {{"post.example.dk", true}, {"www.example.dk", false}},
                         {"s1", "mail.2024"},
                         false}));
  EXPECT_EQ(c.audit.domains[1], (AuditDomain{"partner.eu", {}, {}, true}));
}

TEST(ParseConfig, TlsMakesServersDefaultToPort853) {
  Config c = parse_config(
      "upstream:\n  mode: forward\n  servers: [\"192.0.2.1\", \"192.0.2.2@53\"]\n  tls: true\n"
      "  zones: [{name: corp.example.dk, servers: [\"10.0.0.5\"]}]\n",
      "t.yaml");
  EXPECT_EQ(c.upstream.servers[0].endpoint.port, 853);
  EXPECT_EQ(c.upstream.servers[0].tls_name, "");
  EXPECT_EQ(c.upstream.servers[1].endpoint.port, 53);
  EXPECT_EQ(c.upstream.zones[0].servers[0].endpoint.port, 853);
}

TEST(ParseConfig, BurstIsAtLeastQps) {
  Config c = parse_config("server:\n  rate_limit: {qps: 100}\n", "t.yaml");
  EXPECT_EQ(c.server.rate_limit, (RateLimit{100, 100}));
}

TEST(ParseConfig, EmptyMetricsListenTurnsMetricsOff) {
  EXPECT_EQ(parse_config("metrics:\n  listen: \"\"\n", "t.yaml").metrics.listen, std::nullopt);
}

TEST(ParseConfig, QueryLogRotateIsDailyOrASize) {
  auto rotation = [](const std::string& value) {
    return parse_config("logging:\n  query_log_rotate: " + value + "\n", "t.yaml")
        .logging.query_log_rotate;
  };
  EXPECT_TRUE(rotation("daily").daily());
  EXPECT_EQ(rotation("512MiB").max_bytes, 512ull << 20);
  EXPECT_EQ(rotation("1000").max_bytes, 1000u);
  EXPECT_FALSE(rotation("1").daily());
  EXPECT_EQ(rotation("1024KiB").to_string(), "1MiB");
  EXPECT_EQ(LogRotation{}.to_string(), "daily");
}

TEST(ToYaml, WritesTypedValuesInTheirConfigSyntax) {
  Config c = parse_config(
      "blocking:\n  sinkhole: [\"::FFFF:192.0.2.1\", \"192.0.2.99\"]\n"
      "metrics:\n  listen: \"[2001:DB8::1]:9100\"\n"
      "logging:\n  query_log_rotate: 2048KiB\n",
      "t.yaml");
  std::string yaml = to_yaml(c);
  for (const char* line : {"sinkhole: [\"::ffff:192.0.2.1\", \"192.0.2.99\"]",
                           "listen: \"[2001:db8::1]:9100\"", "query_log_rotate: \"2MiB\""}) {
    EXPECT_NE(yaml.find(line), std::string::npos) << line << " missing in\n" << yaml;
  }
  EXPECT_EQ(parse_config(yaml, "t.yaml"), c) << yaml;
  c.metrics.listen.reset();
  yaml = to_yaml(c);
  EXPECT_NE(yaml.find("metrics:\n  listen: \"\""), std::string::npos) << yaml;
  EXPECT_EQ(parse_config(yaml, "t.yaml"), c) << yaml;
}

TEST(ToYaml, RoundTripsDefaults) {
  Config c = default_config();
  EXPECT_EQ(parse_config(to_yaml(c), ""), c) << to_yaml(c);
}

TEST(ToYaml, RoundTripsFullConfig) {
  Config c = parse_config(kFullConfig, "full.yaml");
  std::string yaml = to_yaml(c);
  EXPECT_EQ(parse_config(yaml, "full.yaml"), c) << yaml;
  // Stable: writing the re-read config gives the same text.
  EXPECT_EQ(to_yaml(parse_config(yaml, "full.yaml")), yaml);
}

TEST(ToYaml, WritesEveryKey) {
  std::string yaml =
      to_yaml(parse_config("blocking:\n  lists: [{name: a, file: /a}]\n"
                           "upstream:\n  zones: [{name: z.example, servers: [\"192.0.2.1\"]}]\n"
                           "audit:\n  domains: [{name: example.dk}]\n",
                           "t.yaml"));
  for (const char* key : {"listen:",
                          "threads: auto",
                          "allow:",
                          "tcp_idle_timeout: 10s",
                          "tcp_query_timeout: 5s",
                          "tcp_write_timeout: 10s",
                          "max_tcp_connections:",
                          "max_tcp_connections_per_client: 100",
                          "rate_limit: {qps: 0, burst: 0, ipv4_prefix: 32, ipv6_prefix: 56}",
                          "user:",
                          "private_zones: local",
                          "mode: recursive",
                          "servers:",
                          "tls: false",
                          "tls_ca_file: \"\"",
                          "timeout: 1800ms",
                          "zones:",
                          "insecure: false",
                          "validate: true",
                          "root_trust_anchor_file:",
                          "trust_anchors: []",
                          "trust_anchor_files: []",
                          "insecure_domains: []",
                          "size: 256MiB",
                          "serve_stale: true",
                          "prefetch: true",
                          "max_ttl: 86400",
                          "action: nxdomain",
                          "sinkhole:",
                          "ttl: 300",
                          "cname_check: true",
                          "cache_dir:",
                          "url: \"\"",
                          "file: \"/a\"",
                          "format: auto",
                          "refresh: 1h",
                          "min_entries: 1",
                          "max_shrink: 0.5",
                          "max_size: 256MiB",
                          "ca_file: \"\"",
                          "sha256: \"\"",
                          "allow: []",
                          "level: info",
                          "query_log: \"\"",
                          "query_log_rotate: \"daily\"",
                          "query_log_retention: 400d",
                          "audit:",
                          "interval: 1h",
                          "timeout: 5s",
                          "domains:",
                          "subdomains: []",
                          "dkim_selectors: []",
                          "foreign_cooperation: false"}) {
    EXPECT_NE(yaml.find(key), std::string::npos) << key << " missing in\n" << yaml;
  }
}

TEST(ExampleConfig, LoadsAndRoundTrips) {
  Config c = load_config(source_dir() + "/docs/dnsvagt.example.yaml");
  EXPECT_EQ(c.upstream.mode, UpstreamMode::forward);
  EXPECT_EQ(c.blocking.lists.size(), 3u);
  EXPECT_EQ(c.blocking.allow.size(), 1u);
  EXPECT_EQ(parse_config(to_yaml(c), c.source), c);
}

// The dotted key paths of a YAML tree, list elements as "[]": "blocking.lists[].refresh".
void collect_keys(const YAML::Node& node, const std::string& path, std::set<std::string>& keys) {
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = (path.empty() ? "" : path + ".") + it->first.Scalar();
      keys.insert(key);
      collect_keys(it->second, key, keys);
    }
  } else if (node.IsSequence()) {
    for (const YAML::Node& element : node) collect_keys(element, path + "[]", keys);
  }
}

// Every key to_yaml() writes, found from a config whose lists of maps are not empty.
std::set<std::string> all_keys() {
  Config c = parse_config(
      "upstream:\n  zones: [{name: z.example, servers: [\"192.0.2.1\"]}]\n"
      "blocking:\n  lists: [{name: a, file: /a}]\n  allow: [{name: b, file: /b}]\n"
      "clients: [{name: g, networks: [\"10.0.0.0/8\"]}]\n"
      "audit:\n  domains: [{name: example.dk, subdomains: [{name: www.example.dk}]}]\n",
      "t.yaml");
  std::set<std::string> keys;
  collect_keys(YAML::Load(to_yaml(c)), "", keys);
  return keys;
}

TEST(ExampleConfig, UsesEveryKey) {
  std::set<std::string> used;
  collect_keys(YAML::LoadFile(source_dir() + "/docs/dnsvagt.example.yaml"), "", used);
  // Allow lists have the same shape as block lists: the example shows each key once.
  std::set<std::string> normalized;
  for (const std::string& key : used) {
    std::string k = key;
    if (k.starts_with("blocking.allow[]")) k.replace(0, 16, "blocking.lists[]");
    normalized.insert(k);
  }
  for (std::string key : all_keys()) {
    if (key.starts_with("blocking.allow[]")) key.replace(0, 16, "blocking.lists[]");
    EXPECT_TRUE(normalized.count(key)) << key << " is not in docs/dnsvagt.example.yaml";
  }
}

TEST(ConfigurationDoc, DescribesEveryKey) {
  std::ifstream file(source_dir() + "/docs/configuration.md");
  std::string doc((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(doc.empty());
  for (const std::string& key : all_keys()) {
    size_t dot = key.find_last_of('.');
    if (dot == std::string::npos) {
      EXPECT_NE(doc.find("\n## " + key + "\n"), std::string::npos) << "no section " << key;
      continue;
    }
    // As a table key: `name`, `parent.name` or `name.child`, `zones[].name`.
    std::string name = key.substr(dot + 1);
    bool described = false;
    for (const char* before : {"`", "."}) {
      for (const char* after : {"`", "."}) {
        described |= doc.find(before + name + after) != std::string::npos;
      }
    }
    EXPECT_TRUE(described) << key << " is not in docs/configuration.md";
  }
}

TEST(LoadConfig, ReadsFileAndRecordsSource) {
  TempDir dir;
  std::string path = dir.write("dnsvagt.yaml", "cache:\n  max_ttl: 60\n");
  Config c = load_config(path);
  EXPECT_EQ(c.cache.max_ttl, 60u);
  EXPECT_EQ(c.source, path);
}

TEST(LoadConfig, ErrorsNameTheFile) {
  TempDir dir;
  std::string path = dir.write("bad.yaml", "# comment\ncache:\n  size: 10MB\n");
  try {
    load_config(path);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              path +
                  ":3: cache.size: expected a size like 512KiB, 256MiB or 1GiB (or a number "
                  "of bytes), got \"10MB\"");
  }
}

TEST(LoadConfig, MissingFile) {
  TempDir dir;
  std::string path = dir.path() + "/nope.yaml";
  try {
    load_config(path);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": cannot read: No such file or directory");
  }
}

TEST(LoadConfig, DirectoryIsUnreadable) {
  TempDir dir;
  try {
    load_config(dir.path());
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), dir.path() + ": cannot read: Is a directory");
  }
}

// A self-signed CA certificate (EC P-256, valid to 2126) for upstream.tls_ca_file.
const char* const kTestCaPem = R"(-----BEGIN CERTIFICATE-----
MIIBiTCCAS+gAwIBAgIUeKOmoU37nQmpBhkvVHUaSF9gLQ4wCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOY29uZmlnLXRlc3QtY2EwIBcNMjYxMjA0MTQyMjE3WhgPMjEy
NjExMTAxNDIyMTdaMBkxFzAVBgNVBAMMDmNvbmZpZy10ZXN0LWNhMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEk8y8hKbCnROE4XbzCYCec8t2yk/Sb7RfEFnkruxR
vfS7QtpknFxZA/3H/fdtMgvcTP1GJoHS626N+auYifgD36NTMFEwHQYDVR0OBBYE
FOil7W4FbM5Z41SYihc6T7OHaDmLMB8GA1UdIwQYMBaAFOil7W4FbM5Z41SYihc6
T7OHaDmLMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAK3HFORM
ahPpJDbjEgdm4xTGbihoTOxqV1abJwIy9LuAAiABA2gQqsapo8ZcrcKP8akU+PfK
Y/PPBhTYcLlm765VBg==
-----END CERTIFICATE-----
)";

// A forward config over DoT with upstream.tls_ca_file set to `path` (line 4).
std::string tls_ca_config(const std::string& path) {
  return "upstream:\n  mode: forward\n  servers: [\"127.0.0.1@853#dot.test\"]\n"
         "  tls_ca_file: \"" + path + "\"\n";
}

TEST(ConfigTlsCaFile, DefaultIsTheSystemBundle) {
  EXPECT_EQ(default_config().upstream.tls_ca_file, "");
  EXPECT_EQ(parse_config(tls_ca_config(""), "t.yaml").upstream.tls_ca_file, "");
}

TEST(ConfigTlsCaFile, LoadsAPemFileAndRoundTrips) {
  TempDir dir;
  // Text around the certificate, as in system bundles, is allowed.
  std::string ca = dir.write("ca.pem", std::string("# test CA\n") + kTestCaPem);
  Config c = parse_config(tls_ca_config(ca), "t.yaml");
  EXPECT_EQ(c.upstream.tls_ca_file, ca);
  std::string yaml = to_yaml(c);
  EXPECT_NE(yaml.find("tls_ca_file: \"" + ca + "\""), std::string::npos) << yaml;
  EXPECT_EQ(parse_config(yaml, "t.yaml"), c);
}

// Without a server that uses TLS the file is not used; it is accepted (and still checked).
TEST(ConfigTlsCaFile, AcceptedWithoutTlsServers) {
  TempDir dir;
  std::string ca = dir.write("ca.pem", kTestCaPem);
  Config c = parse_config("upstream:\n  tls_ca_file: " + ca + "\n", "t.yaml");
  EXPECT_EQ(c.upstream.tls_ca_file, ca);
}

TEST(ConfigTlsCaFile, BadFilesAreErrorsWithFileLineAndKey) {
  TempDir dir;
  const std::string missing = dir.path() + "/nope.pem";
  EXPECT_EQ(error_of(tls_ca_config(missing)),
            "t.yaml:4: upstream.tls_ca_file: cannot read \"" + missing +
                "\": No such file or directory");
  EXPECT_EQ(error_of(tls_ca_config(dir.path())),
            "t.yaml:4: upstream.tls_ca_file: \"" + dir.path() + "\" is not a file");
  for (const std::string& text :
       {std::string(""), std::string("not a certificate\n"),
        std::string("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"),
        std::string("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}) {
    std::string path = dir.write("bad.pem", text);
    EXPECT_EQ(error_of(tls_ca_config(path)),
              "t.yaml:4: upstream.tls_ca_file: \"" + path +
                  "\" holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        << text;
  }
  EXPECT_EQ(error_of("upstream:\n  tls_ca_file: [a.pem]\n"),
            "t.yaml:2: upstream.tls_ca_file: expected a file path, got a list");
}

TEST(ConfigTlsCaFile, UnreadableFileIsAnError) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every file";
  TempDir dir;
  std::string path = dir.write("ca.pem", kTestCaPem);
  std::filesystem::permissions(path, std::filesystem::perms::none);
  EXPECT_EQ(error_of(tls_ca_config(path)),
            "t.yaml:4: upstream.tls_ca_file: cannot read \"" + path + "\": Permission denied");
}

// The matching key and the TLS listener itself: tests/integration/test_dot.py.
TEST(ConfigServerTls, OffByDefaultAndNeedsACertificateAndKeyToListen) {
  EXPECT_TRUE(default_config().server.tls.listen.empty());
  EXPECT_EQ(error_of("server:\n  tls:\n    listen: [\"127.0.0.1\"]\n"),
            "t.yaml:2: server.tls: DNS over TLS (listen) needs a certificate and a key");
  TempDir dir;
  const std::string certificate = dir.write("cert.pem", kTestCaPem);
  EXPECT_EQ(error_of("server:\n  tls:\n    listen: [\"127.0.0.1\"]\n    certificate: " +
                     certificate + "\n    key: " + certificate + "\n"),
            "t.yaml:5: server.tls.key: \"" + certificate +
                "\" holds no unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)");
  EXPECT_EQ(error_of("server:\n  tls:\n    listen: [\"127.0.0.1:853\", \"127.0.0.1\"]\n"),
            "t.yaml:3: server.tls.listen[1]: 127.0.0.1:853 is listed twice");
}

TEST(ConfigServerTls, DnsOverHttpsKeys) {
  EXPECT_TRUE(default_config().server.tls.doh_listen.empty());
  EXPECT_EQ(default_config().server.tls.doh_path, "/dns-query");
  EXPECT_EQ(parse_config("server:\n  tls:\n    doh_path: /resolve\n", "t.yaml").server.tls.doh_path,
            "/resolve");
  EXPECT_EQ(error_of("server:\n  tls:\n    doh_listen: [\"127.0.0.1\"]\n"),
            "t.yaml:2: server.tls: DNS over HTTPS (doh_listen) needs a certificate and a key");
  EXPECT_EQ(error_of("server:\n  tls:\n    listen: [\"127.0.0.1:853\"]\n"
                     "    doh_listen: [\"127.0.0.1:853\"]\n"),
            "t.yaml:4: server.tls.doh_listen: 127.0.0.1:853 is in listen too: DNS over TLS and "
            "DNS over HTTPS need addresses of their own");
  EXPECT_EQ(error_of("server:\n  tls:\n    doh_path: dns-query\n"),
            "t.yaml:3: server.tls.doh_path: it does not start with /");
  EXPECT_EQ(error_of("server:\n  tls:\n    doh_path: \"/dns query\"\n"),
            "t.yaml:3: server.tls.doh_path: a path holds no '?', '#', spaces or control "
            "characters");
  EXPECT_EQ(error_of("server:\n  tls:\n    doh_path: /dns-query?x=1\n"),
            "t.yaml:3: server.tls.doh_path: a path holds no '?', '#', spaces or control "
            "characters");
}

// Found by the config_loader fuzzer: "\N" (U+0085, a YAML line break) in a trust anchor was
// written back by to_yaml so that it read as another value.
TEST(ConfigErrors, ControlCharactersAndLineBreaksInValues) {
  EXPECT_EQ(error_of("dnssec:\n  trust_anchors:\n    - \"example. IN DS 1 13 2 \\N AB\"\n"),
            "t.yaml:3: dnssec.trust_anchors[0]: expected a DS or DNSKEY record in zone-file "
            "syntax, like \"example. DS 31406 8 2 F78C...\", got a control character, line "
            "break or non-UTF-8 byte (byte 22 of the value)");
  EXPECT_EQ(error_of("logging:\n  query_log: \"/var/log/a\\tb\"\n"),
            "t.yaml:2: logging.query_log: expected a string, got a control character, line "
            "break or non-UTF-8 byte (byte 10 of the value)");
  EXPECT_EQ(error_of("server:\n  user: \"a\\u2028b\"\n"),
            "t.yaml:2: server.user: expected a user name, got a control character, line break or "
            "non-UTF-8 byte (byte 1 of the value)");
}

TEST(ConfigErrors, UnknownKeys) {
  EXPECT_EQ(error_of("server: {}\nserverr:\n  threads: 2\n"),
            "t.yaml:2: serverr: unknown key, expected one of server, upstream, dnssec, cache, "
            "blocking, clients, metrics, logging, audit");
  EXPECT_EQ(error_of("server:\n  threads: 2\n  lisen: [\"127.0.0.1\"]\n"),
            "t.yaml:3: server.lisen: unknown key, expected one of listen, threads, allow, "
            "proxy_protocol_from, tcp_idle_timeout, tcp_query_timeout, tcp_write_timeout, "
            "max_tcp_connections, max_tcp_connections_per_client, rate_limit, user, "
            "private_zones, tls");
  EXPECT_EQ(error_of("server:\n  rate_limit: {qps: 1, brust: 2}\n"),
            "t.yaml:2: server.rate_limit.brust: unknown key, expected one of qps, burst, "
            "ipv4_prefix, ipv6_prefix");
  EXPECT_EQ(error_of("blocking:\n  lists:\n    - name: a\n      file: /a\n    - name: b\n"
                     "      file: /b\n      refrsh: 1h\n"),
            "t.yaml:7: blocking.lists[1].refrsh: unknown key, expected one of name, url, file, "
            "format, refresh, min_entries, max_shrink, max_size, ca_file, sha256");
}

TEST(ConfigErrors, DuplicateKey) {
  EXPECT_EQ(error_of("dnssec:\n  validate: true\n  validate: false\n"),
            "t.yaml:3: dnssec.validate: given twice (first on line 2)");
}

TEST(ConfigErrors, WrongTypes) {
  EXPECT_EQ(error_of("server:\n  listen: \"127.0.0.1:53\"\n"),
            "t.yaml:2: server.listen: expected a list of addresses like \"127.0.0.1:53\", got "
            "\"127.0.0.1:53\"");
  EXPECT_EQ(error_of("cache: 5\n"),
            "t.yaml:1: cache: expected a map with keys size, serve_stale, prefetch, max_ttl, got "
            "\"5\"");
  EXPECT_EQ(error_of("server:\n  user: [a, b]\n"),
            "t.yaml:2: server.user: expected a user name, got a list");
  EXPECT_EQ(error_of("server:\n  user:\n"),
            "t.yaml:2: server.user: expected a user name, got nothing");
  EXPECT_EQ(error_of("dnssec:\n  validate: yes\n"),
            "t.yaml:2: dnssec.validate: expected true or false, got \"yes\"");
  EXPECT_EQ(error_of("- a\n- b\n"),
            "t.yaml:1: expected a map of sections (server, upstream, ...), got a list");
  EXPECT_EQ(error_of("upstream:\n  zones: [\"corp.example.dk\"]\n"),
            "t.yaml:2: upstream.zones[0]: expected a map with keys name, servers, insecure, got "
            "\"corp.example.dk\"");
}

TEST(ConfigErrors, BadAddresses) {
  EXPECT_EQ(error_of("server:\n  listen:\n    - 127.0.0.1:53\n    - localhost:53\n"),
            "t.yaml:4: server.listen[1]: expected ADDRESS, ADDRESS:PORT or [IPV6]:PORT with a "
            "numeric address, like 127.0.0.1:53 or [::1]:53, got \"localhost:53\"");
  EXPECT_EQ(error_of("server:\n  listen: [\"127.0.0.1:99999\"]\n"),
            "t.yaml:2: server.listen[0]: expected a port from 1 to 65535, got \"99999\" in "
            "\"127.0.0.1:99999\"");
  EXPECT_EQ(error_of("server:\n  listen: [\"127.0.0.1\", \"127.0.0.1:53\"]\n"),
            "t.yaml:2: server.listen[1]: 127.0.0.1:53 is listed twice");
  EXPECT_EQ(error_of("upstream:\n  mode: forward\n  servers: [\"dns.google\"]\n"),
            "t.yaml:3: upstream.servers[0]: expected a numeric address with optional @PORT and "
            "#TLS-NAME, like 192.0.2.1, 192.0.2.1@5353, 2001:db8::1@53 or "
            "9.9.9.9@853#dns.quad9.net, got \"dns.google\"");
  EXPECT_EQ(error_of("blocking:\n  sinkhole: [\"0.0.0.0\", \"::g\"]\n"),
            "t.yaml:2: blocking.sinkhole[1]: expected a numeric IPv4 or IPv6 address like "
            "0.0.0.0 or ::, got \"::g\"");
  EXPECT_EQ(error_of("metrics:\n  listen: \"127.0.0.1\"\n"),
            "t.yaml:2: metrics.listen: expected ADDRESS:PORT like \"127.0.0.1:9153\" or "
            "\"[::1]:9153\", or \"\" for no metrics, got \"127.0.0.1\"");
  // The metrics port must be given, and the address be numeric.
  for (const char* listen : {"[::1]", "::1", "127.0.0.1:99999", "127.0.0.1:0", "localhost:9153",
                             "not-an-address"}) {
    EXPECT_EQ(error_of("metrics:\n  listen: \"" + std::string(listen) + "\"\n")
                  .rfind("t.yaml:2: metrics.listen: expected ", 0),
              0u)
        << listen;
  }
}

TEST(ConfigErrors, BadPrefixes) {
  EXPECT_EQ(error_of("server:\n  allow: [\"10.0.0.0/33\"]\n"),
            "t.yaml:2: server.allow[0]: expected an address prefix like 10.0.0.0/8 or fc00::/7 "
            "(or a single address), got \"10.0.0.0/33\"");
  EXPECT_EQ(error_of("server:\n  proxy_protocol_from: [\"127.0.0.1/33\"]\n"),
            "t.yaml:2: server.proxy_protocol_from[0]: expected an address prefix like 10.0.0.0/8 "
            "or fc00::/7 (or a single address), got \"127.0.0.1/33\"");
  EXPECT_EQ(error_of("server:\n  allow:\n    - 10.1.2.3/8\n"),
            "t.yaml:3: server.allow[0]: address \"10.1.2.3\" has bits set beyond the /8 prefix; "
            "did you mean \"10.0.0.0/8\"?");
}

TEST(ConfigErrors, BadDurationsAndSizes) {
  EXPECT_EQ(error_of("blocking:\n  lists:\n    - name: a\n      url: http://x/\n"
                     "      refresh: 10x\n"),
            "t.yaml:5: blocking.lists[0].refresh: expected a duration like 30s, 5m, 1h or 2d, got "
            "\"10x\"");
  EXPECT_EQ(error_of("server:\n  tcp_idle_timeout: 0s\n"),
            "t.yaml:2: server.tcp_idle_timeout: expected at least 1s, got \"0s\"");
  EXPECT_EQ(error_of("cache:\n  size: 10MB\n"),
            "t.yaml:2: cache.size: expected a size like 512KiB, 256MiB or 1GiB (or a number of "
            "bytes), got \"10MB\"");
  EXPECT_EQ(error_of("cache:\n  size: 1KiB\n"),
            "t.yaml:2: cache.size: expected at least 1048576 bytes, got \"1KiB\"");
}

TEST(ConfigErrors, BadEnums) {
  EXPECT_EQ(error_of("blocking:\n  action: block\n"),
            "t.yaml:2: blocking.action: expected one of nxdomain, nodata, null, refused, "
            "sinkhole, got \"block\"");
  EXPECT_EQ(error_of("logging:\n  level: verbose\n"),
            "t.yaml:2: logging.level: expected one of error, warning, info, debug, got "
            "\"verbose\"");
  EXPECT_EQ(error_of("blocking:\n  lists: [{name: a, file: /a, format: csv}]\n"),
            "t.yaml:2: blocking.lists[0].format: expected one of auto, hosts, domains, adblock, "
            "rpz, got \"csv\"");
  EXPECT_EQ(error_of("upstream:\n  mode: stub\n"),
            "t.yaml:2: upstream.mode: expected one of recursive, forward, got \"stub\"");
  EXPECT_EQ(error_of("server:\n  threads: 2\n  private_zones: forwarded\n"),
            "t.yaml:3: server.private_zones: expected one of local, forward, got \"forwarded\"");
}

TEST(ConfigErrors, NumbersOutOfRange) {
  EXPECT_EQ(error_of("server:\n  threads: 0\n"),
            "t.yaml:2: server.threads: expected auto or an integer from 1 to 256, got \"0\"");
  EXPECT_EQ(error_of("server:\n  threads: 300\n"),
            "t.yaml:2: server.threads: expected auto or an integer from 1 to 256, got \"300\"");
  EXPECT_EQ(error_of("server:\n  max_tcp_connections: -1\n"),
            "t.yaml:2: server.max_tcp_connections: expected an integer from 1 to 1000000, got "
            "\"-1\"");
  EXPECT_EQ(error_of("blocking:\n  lists: [{name: a, file: /a, max_shrink: 1.5}]\n"),
            "t.yaml:2: blocking.lists[0].max_shrink: expected a number from 0 to 1 like 0.5, got "
            "\"1.5\"");
  EXPECT_EQ(error_of("server:\n  rate_limit:\n    qps: 5\n    ipv6_prefix: 129\n"),
            "t.yaml:4: server.rate_limit.ipv6_prefix: expected an integer from 0 to 128, got "
            "\"129\"");
  EXPECT_EQ(error_of("server:\n  rate_limit: {ipv4_prefix: 33}\n"),
            "t.yaml:2: server.rate_limit.ipv4_prefix: expected an integer from 0 to 32, got "
            "\"33\"");
  EXPECT_EQ(error_of("cache:\n  max_ttl: 0\n"),
            "t.yaml:2: cache.max_ttl: expected an integer from 1 to 2147483647, got \"0\"");
}

TEST(ConfigErrors, ListNames) {
  EXPECT_EQ(error_of("blocking:\n  lists:\n    - {name: a, file: /a}\n  allow:\n"
                     "    - {name: a, file: /b}\n"),
            "t.yaml:5: blocking.allow[0].name: list name \"a\" is already used by "
            "blocking.lists[0].name");
  EXPECT_EQ(error_of("blocking:\n  lists: [{name: \"my list\", file: /a}]\n"),
            "t.yaml:2: blocking.lists[0].name: expected a name of letters, digits, '_', '.' and "
            "'-', got \"my list\"");
  EXPECT_EQ(error_of("blocking:\n  lists: [{file: /a}]\n"),
            "t.yaml:2: blocking.lists[0]: expected a name, like name: urlhaus");
}

TEST(ConfigErrors, ListSources) {
  EXPECT_EQ(error_of("blocking:\n  lists:\n    - name: a\n      url: https://x/l.txt\n"
                     "      file: /a\n"),
            "t.yaml:3: blocking.lists[0]: expected exactly one of url or file, got both");
  EXPECT_EQ(error_of("blocking:\n  allow:\n    - name: a\n"),
            "t.yaml:3: blocking.allow[0]: expected exactly one of url or file, got neither");
  EXPECT_EQ(error_of("blocking:\n  lists:\n    - name: a\n      url: ftp://x/l.txt\n"),
            "t.yaml:4: blocking.lists[0].url: expected an http:// or https:// URL, got "
            "\"ftp://x/l.txt\"");
  EXPECT_EQ(error_of("blocking:\n  lists:\n    - {name: a, file: /a, ca_file: /ca.pem}\n"),
            "t.yaml:3: blocking.lists[0].ca_file: ca_file applies only to https:// urls");
  EXPECT_EQ(error_of("blocking:\n  lists:\n    - name: a\n      url: https://x/l.txt\n"
                     "      sha256: 9f86d08188\n"),
            "t.yaml:5: blocking.lists[0].sha256: expected 64 hexadecimal digits (the SHA-256 of "
            "the content), got \"9f86d08188\"");
  EXPECT_EQ(error_of("blocking:\n  lists:\n    - name: a\n      url: https://x/l.txt\n"
                     "      sha256: "
                     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g\n"),
            "t.yaml:5: blocking.lists[0].sha256: expected 64 hexadecimal digits (the SHA-256 of "
            "the content), got "
            "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g\"");
  EXPECT_EQ(error_of("blocking:\n  lists:\n    - {name: a, file: /a, sha256: \"\"}\n"), "no error");
  EXPECT_EQ(
      error_of("blocking:\n  lists:\n    - name: a\n      file: /a\n      sha256: "
               "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"),
      "t.yaml:5: blocking.lists[0].sha256: sha256 applies only to url lists");
}

TEST(ConfigErrors, UpstreamConsistency) {
  EXPECT_EQ(error_of("upstream:\n  mode: forward\n"),
            "t.yaml:2: upstream.mode: forward needs at least one server in upstream.servers, "
            "like \"192.0.2.1\"");
  EXPECT_EQ(error_of("upstream:\n  servers: [\"192.0.2.1\"]\n"),
            "t.yaml:2: upstream.servers: servers are used only with upstream.mode: forward (use "
            "upstream.zones to forward single domains in recursive mode)");
  EXPECT_EQ(error_of("upstream:\n  zones:\n    - {name: \"corp..dk\", servers: [\"10.0.0.5\"]}\n"),
            "t.yaml:3: upstream.zones[0].name: expected a domain name like corp.example.dk, got "
            "\"corp..dk\" (empty label)");
  EXPECT_EQ(error_of("upstream:\n  zones:\n    - {name: a.dk, servers: [\"10.0.0.5\"]}\n"
                     "    - {name: A.dk., servers: [\"10.0.0.6\"]}\n"),
            "t.yaml:4: upstream.zones[1]: zone \"a.dk\" is listed twice");
  EXPECT_EQ(error_of("upstream:\n  zones:\n    - {name: a.dk, servers: []}\n"),
            "t.yaml:3: upstream.zones[0].servers: expected at least one server, like "
            "\"10.0.0.5\"");
  EXPECT_EQ(error_of("upstream:\n  zones:\n    - {name: ., servers: [\"10.0.0.5\"], insecure: "
                     "true}\n"),
            "t.yaml:3: upstream.zones[0].insecure: an insecure root zone would turn off DNSSEC "
            "validation for everything; use dnssec.validate: false if that is really meant");
}

// Without upstream.servers there is nobody to forward private zones to; recursion would send
// them to the public DNS, which is what answering them locally prevents.
TEST(ConfigErrors, PrivateZonesForwardNeedsForwardMode) {
  EXPECT_EQ(error_of("server:\n  threads: 2\n  private_zones: forward\n"),
            "t.yaml:3: server.private_zones: forward sends private zones to upstream.servers, "
            "so it needs upstream.mode: forward (use upstream.zones to forward single private "
            "zones in recursive mode)");
  EXPECT_EQ(error_of("upstream:\n  mode: forward\n  servers: [\"192.0.2.1\"]\n"
                     "server:\n  private_zones: forward\n"),
            "no error");
}

// Names in the config are normalised as list entries are: a Unicode IDN becomes punycode.
TEST(ConfigNames, UnicodeNamesBecomePunycodeAsInLists) {
  const Config c = parse_config("dnssec:\n  insecure_domains: [\"B\u00f8ger.dk.\"]\n", "t.yaml");
  EXPECT_EQ(c.dnssec.insecure_domains, (std::vector<std::string>{"xn--bger-gra.dk"}));
}

TEST(ConfigErrors, Dnssec) {
  EXPECT_EQ(error_of("dnssec:\n  insecure_domains: [\"b!d.dk\"]\n"),
            "t.yaml:2: dnssec.insecure_domains[0]: expected a domain name like corp.example.dk, "
            "got \"b!d.dk\" (character '!' in name)");
  EXPECT_EQ(error_of("dnssec:\n  insecure_domains: [\"::1\"]\n"),
            "t.yaml:2: dnssec.insecure_domains[0]: expected a domain name like corp.example.dk, "
            "got \"::1\" (an IPv6 address)");
  EXPECT_EQ(error_of("dnssec:\n  insecure_domains: [\".\"]\n"),
            "t.yaml:2: dnssec.insecure_domains[0]: the root as an insecure domain would turn off "
            "DNSSEC validation for everything; use dnssec.validate: false if that is really "
            "meant");
  EXPECT_EQ(error_of("dnssec:\n  trust_anchors: [\"example. A 192.0.2.1\"]\n"),
            "t.yaml:2: dnssec.trust_anchors[0]: expected a DS or DNSKEY record in zone-file "
            "syntax, like \"example. DS 31406 8 2 F78C...\", got \"example. A 192.0.2.1\"");
}

TEST(ConfigErrors, Logging) {
  EXPECT_EQ(error_of("logging:\n  query_log_retention: 30d\n"),
            "t.yaml:2: logging.query_log_retention: expected at least 365d (requirement 16: "
            "query logs are kept for 12 months), got \"30d\"");
  EXPECT_EQ(error_of("logging:\n  query_log_rotate: weekly\n"),
            "t.yaml:2: logging.query_log_rotate: expected daily or a size like 512MiB, got "
            "\"weekly\"");
  // 0 bytes would rotate before every line.
  EXPECT_EQ(error_of("logging:\n  query_log_rotate: 0KiB\n"),
            "t.yaml:2: logging.query_log_rotate: expected daily or a size like 512MiB, got "
            "\"0KiB\"");
}

TEST(ConfigErrors, Audit) {
  EXPECT_EQ(error_of("audit:\n  interval: 30s\n"),
            "t.yaml:2: audit.interval: expected 0 (no periodic audit) or at least 1m, got \"30s\"");
  EXPECT_EQ(error_of("audit:\n  timeout: 2m\n"),
            "t.yaml:2: audit.timeout: expected from 100ms to 1m, got \"2m\"");
  EXPECT_EQ(error_of("audit:\n  domains:\n    - {name: a.dk}\n    - {nme: b.dk}\n"),
            "t.yaml:4: audit.domains[1].nme: unknown key, expected one of name, subdomains, "
            "dkim_selectors, foreign_cooperation");
  EXPECT_EQ(error_of("audit:\n  domains:\n    - {dkim_selectors: [s1]}\n"),
            "t.yaml:3: audit.domains[0]: expected a name, like name: example.dk");
  EXPECT_EQ(error_of("audit:\n  domains: [{name: a.dk}, {name: A.dk.}]\n"),
            "t.yaml:2: audit.domains[1]: domain \"a.dk\" is listed twice");
  EXPECT_EQ(error_of("audit:\n  domains:\n    - name: a.dk\n      subdomains:\n"
                     "        - {name: www.b.dk}\n"),
            "t.yaml:5: audit.domains[0].subdomains[0].name: expected a name below a.dk, got "
            "\"www.b.dk\"");
  EXPECT_EQ(error_of("audit:\n  domains:\n    - name: a.dk\n      subdomains:\n"
                     "        - {name: x.a.dk, mail_flow: yes}\n"),
            "t.yaml:5: audit.domains[0].subdomains[0].mail_flow: expected true or false, got "
            "\"yes\"");
  EXPECT_EQ(error_of("audit:\n  domains:\n    - name: a.dk\n      dkim_selectors: [\"s 1\"]\n"),
            "t.yaml:4: audit.domains[0].dkim_selectors[0]: expected a DKIM selector like \"s1\" "
            "(letters, digits, '-', '_', '.'), got \"s 1\"");
  EXPECT_EQ(error_of("audit:\n  domains:\n    - {name: a.dk, foreign_cooperation: 1}\n"),
            "t.yaml:3: audit.domains[0].foreign_cooperation: expected true or false, got \"1\"");
}

TEST(ConfigClients, GroupsTakeListsAndActionWithDefaults) {
  Config c = parse_config(kFullConfig, "full.yaml");
  ASSERT_EQ(c.clients.size(), 2u);
  const ClientGroup& guests = c.clients[0];
  EXPECT_EQ(guests.name, "guests");
  ASSERT_EQ(guests.networks.size(), 2u);
  EXPECT_EQ(guests.networks[1].family, AF_INET6);
  EXPECT_EQ(guests.networks[1].length, 64);
  EXPECT_EQ(guests.lists, std::vector<std::string>{"local.block_1"});
  EXPECT_TRUE(guests.allow.empty());
  EXPECT_EQ(guests.action, BlockAction::refused);
  // Absent keys: every list of the kind, and blocking.action.
  const ClientGroup& servers = c.clients[1];
  EXPECT_TRUE(servers.lists.empty());
  EXPECT_EQ(servers.allow, std::vector<std::string>{"exceptions"});
  EXPECT_EQ(servers.action, BlockAction::sinkhole);
  EXPECT_TRUE(default_config().clients.empty());
  EXPECT_NE(to_yaml(c).find("clients:\n  - name: \"guests\"\n    networks: [\"192.168.100.0/24\", "
                            "\"FD00:100::/64\"]\n    certificate_subjects: []\n"
                            "    lists: [\"local.block_1\"]\n    allow: []\n    action: refused\n"),
            std::string::npos)
      << to_yaml(c);
  EXPECT_NE(to_yaml(default_config()).find("\nclients: []\n"), std::string::npos);
}

TEST(ConfigErrors, Clients) {
  const std::string lists =
      "blocking:\n  lists: [{name: a, file: /a}]\n  allow: [{name: ok, file: /b}]\n";
  EXPECT_EQ(error_of(lists + "clients:\n  - {name: g, networks: [\"10.0.0.0/8\"], lists: [b]}\n"),
            "t.yaml:5: clients[0].lists[0]: \"b\" is not a list of blocking.lists");
  EXPECT_EQ(error_of(lists + "clients:\n  - {name: g, networks: [\"10.0.0.0/8\"], allow: [a]}\n"),
            "t.yaml:5: clients[0].allow[0]: \"a\" is not a list of blocking.allow");
  EXPECT_EQ(error_of(lists + "clients:\n  - {name: g, networks: [\"10.0.0.0/8\"]}\n"
                             "  - {name: g, networks: [\"10.1.0.0/16\"]}\n"),
            "t.yaml:6: clients[1]: group name \"g\" is listed twice");
  EXPECT_EQ(error_of(lists + "clients:\n  - {name: g, networks: [\"10.0.0.0/8\"]}\n"
                             "  - name: h\n    networks: [\"192.0.2.1\", \"10.0.0.0/8\"]\n"),
            "t.yaml:7: clients[1].networks: network \"10.0.0.0/8\" is already in group \"g\"");
  EXPECT_EQ(error_of("clients:\n  - {name: g, networks: []}\n"),
            "t.yaml:2: clients[0].networks: expected at least one network or certificate "
            "subject");
  EXPECT_EQ(error_of("clients:\n  - {name: g}\n"),
            "t.yaml:2: clients[0]: expected networks, like networks: [\"192.168.100.0/24\"], or "
            "certificate_subjects, like certificate_subjects: [\"OU=guests,O=Example\"]");
  EXPECT_EQ(error_of("clients:\n  - {name: Guests, networks: [\"10.0.0.0/8\"]}\n"),
            "t.yaml:2: clients[0].name: expected a name of at most 63 of a-z, 0-9, '_' and '-', "
            "got \"Guests\"");
  EXPECT_EQ(error_of("clients:\n  - {name: g, networks: [\"10.0.0.1/8\"]}\n").rfind(
                "t.yaml:2: clients[0].networks[0]: ", 0),
            0u);
  EXPECT_EQ(error_of("clients:\n  - {name: g, networks: [\"10.0.0.0/8\"], action: block}\n"),
            "t.yaml:2: clients[0].action: expected one of nxdomain, nodata, null, refused, "
            "sinkhole, got \"block\"");
  EXPECT_EQ(error_of("blocking:\n  sinkhole: []\nclients:\n"
                     "  - {name: g, networks: [\"10.0.0.0/8\"], action: sinkhole}\n"),
            "t.yaml:4: clients[0].action: action sinkhole needs addresses in blocking.sinkhole");
  EXPECT_EQ(error_of("clients:\n  - {name: g, networks: [\"10.0.0.0/8\"], certificate: x}\n"),
            "t.yaml:2: clients[0].certificate: unknown key, expected one of name, networks, "
            "certificate_subjects, lists, allow, action");
}

TEST(ConfigClients, CertificateSubjectsNeedMutualTlsAndBelongToOneGroup) {
  TempDir dir;
  const std::string ca = dir.write("ca.pem", kTestCaPem);
  const std::string server = "server:\n  tls:\n    client_ca: " + ca + "\n";
  const Config config = parse_config(
      server + "clients:\n  - {name: guests, certificate_subjects: [\"OU=guests,O=X\"]}\n"
               "  - {name: staff, networks: [\"10.0.0.0/8\"], certificate_subjects: []}\n",
      "t.yaml");
  ASSERT_EQ(config.clients.size(), 2u);
  EXPECT_EQ(config.clients[0].certificate_subjects, std::vector<std::string>{"OU=guests,O=X"});
  EXPECT_TRUE(config.clients[0].networks.empty());
  // What check-config prints loads as the same config.
  EXPECT_EQ(parse_config(to_yaml(config), "effective.yaml").clients, config.clients);
  EXPECT_EQ(error_of("clients:\n  - name: g\n    certificate_subjects: [\"CN=a\"]\n"),
            "t.yaml:3: clients[0].certificate_subjects: client certificates are asked for only "
            "with server.tls.client_ca");
  EXPECT_EQ(error_of(server + "clients:\n  - {name: g, certificate_subjects: [\"CN=a\"]}\n"
                              "  - name: h\n    certificate_subjects: [\"CN=b\", \"CN=a\"]\n"),
            "t.yaml:7: clients[1].certificate_subjects: subject \"CN=a\" is already in group "
            "\"g\"");
  EXPECT_EQ(error_of(server + "clients:\n  - {name: g, certificate_subjects: [\"\"]}\n"),
            "t.yaml:5: clients[0].certificate_subjects[0]: expected a subject like "
            "\"OU=guests,O=Example\", got \"\"");
}

TEST(ConfigErrors, SinkholeActionNeedsAddresses) {
  EXPECT_EQ(error_of("blocking:\n  action: sinkhole\n  sinkhole: []\n"),
            "t.yaml:3: blocking.sinkhole: action sinkhole needs at least one address, like "
            "\"0.0.0.0\"");
}

TEST(ConfigErrors, YamlSyntax) {
  EXPECT_EQ(error_of("server:\n  listen: [\"127.0.0.1:53\"\n  threads: 2\n"),
            "t.yaml:3: YAML syntax error: end of sequence flow not found");
  EXPECT_EQ(error_of("server: {}\n---\ncache: {}\n"),
            "t.yaml:2: expected one YAML document, found more");
  // yaml-cpp reads other bytes and writes them back as U+FFFD (found by config_loader_fuzz).
  EXPECT_EQ(error_of("server:\n  user: \"a\xff\"\n"), "t.yaml:2: not UTF-8 text (byte 18)");
  // yaml-cpp's LoadAll never returned on this (found by config_loader_fuzz).
  EXPECT_EQ(error_of(",").rfind("t.yaml:", 0), 0u) << error_of(",");
}

TEST(ValueParsers, Durations) {
  EXPECT_EQ(parse_short_duration("1800ms"), std::chrono::milliseconds(1800));
  EXPECT_EQ(parse_short_duration("2s"), std::chrono::milliseconds(2000));
  EXPECT_THROW(parse_short_duration("ms"), std::invalid_argument);
  EXPECT_THROW(parse_short_duration("1.5s"), std::invalid_argument);
  EXPECT_EQ(parse_duration("30"), seconds(30));
  EXPECT_EQ(parse_duration("30s"), seconds(30));
  EXPECT_EQ(parse_duration("5m"), seconds(300));
  EXPECT_EQ(parse_duration("1h"), seconds(3600));
  EXPECT_EQ(parse_duration("2d"), seconds(172800));
  for (const char* bad : {"", "s", "1.5h", "-1s", "1 h", "1w", "+1s", "0x10", "999999999999d"}) {
    EXPECT_THROW(parse_duration(bad), std::invalid_argument) << bad;
  }
}

TEST(ValueParsers, Sizes) {
  EXPECT_EQ(parse_size("100"), 100u);
  EXPECT_EQ(parse_size("512KiB"), 512u << 10);
  EXPECT_EQ(parse_size("256MiB"), 256u << 20);
  EXPECT_EQ(parse_size("1GiB"), 1ull << 30);
  for (const char* bad :
       {"", "MiB", "10MB", "10K", "10mib", "1.5GiB", "-1", "99999999999999999999GiB"}) {
    EXPECT_THROW(parse_size(bad), std::invalid_argument) << bad;
  }
}

TEST(ValueParsers, Addresses) {
  EXPECT_EQ(parse_address("192.0.2.1").family, AF_INET);
  EXPECT_EQ(parse_address("192.0.2.1").to_string(), "192.0.2.1");
  EXPECT_EQ(parse_address("2001:DB8:0::99").family, AF_INET6);
  EXPECT_EQ(parse_address("2001:DB8:0::99").to_string(), "2001:db8::99");
  EXPECT_EQ(parse_address("::"), (IpAddress{AF_INET6}));
  for (const char* bad : {"", "localhost", "1.2.3", "1.2.3.4.5", "::g", "[::1]", "192.0.2.1/32"}) {
    EXPECT_THROW(parse_address(bad), std::invalid_argument) << bad;
  }
}

TEST(ValueParsers, EndpointsToSocketAddresses) {
  sockaddr_storage address;
  socklen_t length = 0;
  ASSERT_TRUE(make_sockaddr(Endpoint{"192.0.2.1", 9153}, address, length));
  EXPECT_EQ(address.ss_family, AF_INET);
  EXPECT_EQ(length, sizeof(sockaddr_in));
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port), 9153);
  ASSERT_TRUE(make_sockaddr(Endpoint{"::1", 53}, address, length));
  EXPECT_EQ(address.ss_family, AF_INET6);
  EXPECT_EQ(length, sizeof(sockaddr_in6));
  EXPECT_FALSE(make_sockaddr(Endpoint{"localhost", 53}, address, length));
}

TEST(ValueParsers, Endpoints) {
  EXPECT_EQ(parse_endpoint("127.0.0.1:53", 1), (Endpoint{"127.0.0.1", 53}));
  EXPECT_EQ(parse_endpoint("[::1]:5353", 1), (Endpoint{"::1", 5353}));
  EXPECT_EQ(parse_endpoint("[::1]", 1), (Endpoint{"::1", 1}));
  EXPECT_EQ(parse_endpoint("127.0.0.1", 53), (Endpoint{"127.0.0.1", 53}));
  EXPECT_EQ(parse_endpoint("::1", 53), (Endpoint{"::1", 53}));
  EXPECT_EQ(parse_endpoint("2001:DB8:0::1", 53), (Endpoint{"2001:db8::1", 53}));
  for (const char* bad : {"", "localhost", "127.0.0.1:", "127.0.0.1:0", "[::1]53", "[::1",
                          "[127.0.0.1]:53", "1.2.3.4.5", "fe80::1%eth0"}) {
    EXPECT_THROW(parse_endpoint(bad, 53), std::invalid_argument) << bad;
  }
}

TEST(ValueParsers, UpstreamServers) {
  EXPECT_EQ(parse_upstream_server("192.0.2.1", false).to_string(), "192.0.2.1@53");
  EXPECT_EQ(parse_upstream_server("192.0.2.1", true).to_string(), "192.0.2.1@853");
  EXPECT_EQ(parse_upstream_server("192.0.2.1@5353", true).to_string(), "192.0.2.1@5353");
  EXPECT_EQ(parse_upstream_server("9.9.9.9#dns.quad9.net", false).to_string(),
            "9.9.9.9@853#dns.quad9.net");
  EXPECT_EQ(parse_upstream_server("2001:db8::1@53", false).endpoint, (Endpoint{"2001:db8::1", 53}));
  for (const char* bad : {"", "dns.google", "192.0.2.1@", "192.0.2.1@x", "192.0.2.1#",
                          "192.0.2.1@853#bad..name", "[2001:db8::1]:53"}) {
    EXPECT_THROW(parse_upstream_server(bad, false), std::invalid_argument) << bad;
  }
}

TEST(ValueParsers, PrefixContains) {
  uint8_t v4[4];
  inet_pton(AF_INET, "172.31.255.1", v4);
  EXPECT_TRUE(parse_prefix("172.16.0.0/12").contains(AF_INET, v4));
  EXPECT_FALSE(parse_prefix("172.16.0.0/13").contains(AF_INET, v4));
  EXPECT_TRUE(parse_prefix("0.0.0.0/0").contains(AF_INET, v4));
  EXPECT_TRUE(parse_prefix("172.31.255.1").contains(AF_INET, v4));
  uint8_t v6[16];
  inet_pton(AF_INET6, "fd12::1", v6);
  EXPECT_TRUE(parse_prefix("fc00::/7").contains(AF_INET6, v6));
  EXPECT_FALSE(parse_prefix("fc00::/8").contains(AF_INET6, v6));
  EXPECT_FALSE(parse_prefix("::/0").contains(AF_INET, v4));
  EXPECT_EQ(parse_prefix("::1").length, 128);
}

TEST(ValueParsers, DomainNames) {
  EXPECT_EQ(normalize_domain_name("Corp.Example.DK."), "corp.example.dk");
  EXPECT_EQ(normalize_domain_name("_msdcs.corp.example.dk"), "_msdcs.corp.example.dk");
  EXPECT_EQ(normalize_domain_name("xn--bd-kia.dk"), "xn--bd-kia.dk");
  EXPECT_EQ(normalize_domain_name("."), ".");
  std::string long_label(64, 'a');
  for (const std::string& bad :
       {std::string(""), std::string(".."), std::string("a..b"), std::string(".a"),
        std::string("a b"), std::string("a.."), long_label + ".dk"}) {
    EXPECT_THROW(normalize_domain_name(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace dnsvagt
