#include "resolver/unbound_config.h"

#include <gtest/gtest.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <unbound.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/temp_dir.h"

namespace dnsvagt {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

UpstreamServer server(std::string address, uint16_t port, std::string tls_name = "") {
  UpstreamServer s;
  s.endpoint.address = std::move(address);
  s.endpoint.port = port;
  s.tls_name = std::move(tls_name);
  return s;
}

TEST(UnboundConfigTest, ForwardModeForwardsTheRootToEveryServer) {
  Config config = default_config();
  config.upstream.mode = UpstreamMode::forward;
  config.upstream.servers = {server("192.0.2.1", 53), server("2001:db8::1", 5353)};
  std::string text = unbound_config_text(config, {});
  EXPECT_TRUE(contains(text, "forward-zone:\n  name: \".\"\n"
                             "  forward-addr: \"192.0.2.1@53\"\n"
                             "  forward-addr: \"2001:db8::1@5353\"\n"))
      << text;
  EXPECT_FALSE(contains(text, "forward-tls-upstream")) << text;
  EXPECT_FALSE(contains(text, "tls-cert-bundle")) << text;
}

TEST(UnboundConfigTest, RecursiveModeHasNoRootForward) {
  Config config = default_config();
  config.upstream.mode = UpstreamMode::recursive;
  EXPECT_FALSE(contains(unbound_config_text(config, {}), "forward-zone"));
}

TEST(UnboundConfigTest, AuthNameOrTlsFlagTurnsOnDotWithSystemCertificates) {
  Config config = default_config();
  config.upstream.mode = UpstreamMode::forward;
  config.upstream.servers = {server("9.9.9.9", 853, "dns.quad9.net")};
  std::string text = unbound_config_text(config, {});
  EXPECT_TRUE(contains(text, "forward-addr: \"9.9.9.9@853#dns.quad9.net\"")) << text;
  EXPECT_TRUE(contains(text, "forward-tls-upstream: yes")) << text;
  EXPECT_TRUE(contains(text, "tls-cert-bundle: \"/etc/ssl/certs/ca-certificates.crt\"")) << text;

  config.upstream.servers = {server("192.0.2.1", 853)};
  config.upstream.tls = true;
  EXPECT_TRUE(contains(unbound_config_text(config, {}), "forward-tls-upstream: yes"));
}

// upstream.tls_ca_file replaces the system bundle for every TLS server, also those of zones;
// without TLS servers it writes nothing.
TEST(UnboundConfigTest, TlsCaFileReplacesTheSystemBundle) {
  Config config = default_config();
  config.upstream.tls_ca_file = "/etc/dnsvagt/dot-ca.pem";
  config.upstream.mode = UpstreamMode::forward;
  config.upstream.servers = {server("127.0.0.1", 853, "dot.test")};
  std::string text = unbound_config_text(config, {});
  EXPECT_TRUE(contains(text, "tls-cert-bundle: \"/etc/dnsvagt/dot-ca.pem\"")) << text;
  EXPECT_FALSE(contains(text, "ca-certificates.crt")) << text;

  config.upstream.mode = UpstreamMode::recursive;
  config.upstream.servers = {};
  config.upstream.zones = {{"corp.example.dk", {server("10.0.0.5", 853, "dc.corp")}, false}};
  text = unbound_config_text(config, {});
  EXPECT_TRUE(contains(text, "tls-cert-bundle: \"/etc/dnsvagt/dot-ca.pem\"")) << text;

  config.upstream.zones = {{"corp.example.dk", {server("10.0.0.5", 53)}, false}};
  text = unbound_config_text(config, {});
  EXPECT_FALSE(contains(text, "tls-cert-bundle")) << text;
}

TEST(UnboundConfigTest, ZonesAreForwardedInsecureOnesAlsoNegativeAnchors) {
  Config config = default_config();
  config.upstream.zones = {{"corp.example.dk", {server("10.0.0.5", 53)}, true},
                           {"lab.test", {server("10.0.0.6", 53)}, false}};
  std::string text = unbound_config_text(config, {});
  EXPECT_TRUE(contains(text, "forward-zone:\n  name: \"corp.example.dk.\"\n"
                             "  forward-addr: \"10.0.0.5@53\"\n"))
      << text;
  EXPECT_TRUE(contains(text, "forward-zone:\n  name: \"lab.test.\"\n")) << text;
  EXPECT_TRUE(contains(text, "domain-insecure: \"corp.example.dk.\"")) << text;
  EXPECT_FALSE(contains(text, "domain-insecure: \"lab.test.\"")) << text;
}

// The zones of the lines that take libunbound's built-in local zones out of the way, sorted.
std::vector<std::string> nodefault_zones(const std::string& text) {
  std::vector<std::string> zones;
  std::istringstream lines(text);
  std::string line;
  const std::string prefix = "  local-zone: \"", suffix = "\" nodefault";
  while (std::getline(lines, line)) {
    if (line.starts_with(prefix) && line.ends_with(suffix)) {
      zones.push_back(line.substr(prefix.size(), line.size() - prefix.size() - suffix.size()));
    }
  }
  std::sort(zones.begin(), zones.end());
  return zones;
}

using Zones = std::vector<std::string>;

TEST(UnboundConfigTest, BuiltInLocalZonesStayWhenNothingConfiguredIsInThem) {
  Config config = default_config();
  config.upstream.zones = {{"corp.example.dk", {server("10.0.0.5", 53)}, true},
                           {".", {server("10.0.0.7", 53)}, false}};
  config.dnssec.trust_anchors = {". IN DS 20326 8 2 E06D44B8"};
  config.dnssec.insecure_domains = {"home.lan"};
  std::string text = unbound_config_text(config, {});
  EXPECT_EQ(nodefault_zones(text), Zones{}) << text;
  EXPECT_FALSE(contains(text, "local-zone:")) << text;
}

// A built-in zone at, above or below a forwarded zone would answer (or, for the DS at a cut,
// deny) names the operator sent to its own servers.
TEST(UnboundConfigTest, ForwardedZoneTakesTheBuiltInZonesAtAboveAndBelowIt) {
  Config config = default_config();
  config.upstream.zones = {{"10.in-addr.arpa", {server("10.0.0.5", 53)}, false}};
  EXPECT_EQ(nodefault_zones(unbound_config_text(config, {})), Zones{"10.in-addr.arpa."});

  config.upstream.zones = {{"lab.test", {server("10.0.0.5", 53)}, false},
                           {"5.168.192.in-addr.arpa", {server("10.0.0.5", 53)}, true}};
  EXPECT_EQ(nodefault_zones(unbound_config_text(config, {})),
            (Zones{"168.192.in-addr.arpa.", "test."}));

  // Forwarding all of 172.in-addr.arpa covers the sixteen RFC 1918 zones inside it.
  config.upstream.zones = {{"172.in-addr.arpa", {server("10.0.0.5", 53)}, false}};
  Zones rfc1918;
  for (int i = 16; i <= 31; ++i) rfc1918.push_back(std::to_string(i) + ".172.in-addr.arpa.");
  EXPECT_EQ(nodefault_zones(unbound_config_text(config, {})), rfc1918);
}

TEST(UnboundConfigTest, ForwardedZoneAboveTheLoopbackZonesLeavesThemLocal) {
  Config config = default_config();
  config.upstream.zones = {{"in-addr.arpa", {server("10.0.0.5", 53)}, false}};
  Zones zones = nodefault_zones(unbound_config_text(config, {}));
  EXPECT_TRUE(std::count(zones.begin(), zones.end(), "10.in-addr.arpa.")) << zones.size();
  EXPECT_TRUE(std::count(zones.begin(), zones.end(), "0.in-addr.arpa.")) << zones.size();
  EXPECT_FALSE(std::count(zones.begin(), zones.end(), "127.in-addr.arpa.")) << zones.size();
  EXPECT_FALSE(std::count(zones.begin(), zones.end(), "d.f.ip6.arpa.")) << zones.size();

  // Named on purpose, a loopback zone goes too.
  config.upstream.zones = {{"1.0.0.127.in-addr.arpa", {server("10.0.0.5", 53)}, false}};
  EXPECT_EQ(nodefault_zones(unbound_config_text(config, {})), Zones{"127.in-addr.arpa."});
}

TEST(UnboundConfigTest, TrustAnchorsAndNegativeAnchorsTakeTheirBuiltInZones) {
  Config config = default_config();
  config.dnssec.trust_anchors = {"Test. 3600 IN DS 1 8 2 ABCD"};
  config.dnssec.insecure_domains = {"corp.10.in-addr.arpa"};
  std::string text = unbound_config_text(config, {});
  EXPECT_EQ(nodefault_zones(text), (Zones{"10.in-addr.arpa.", "test."})) << text;
}

TEST(UnboundConfigTest, TrustAnchorFileOwnersTakeTheirBuiltInZones) {
  const TempDir directory("dnsvagt-unbound-config-test");
  // As trust-anchor-file reads it: comments, $ORIGIN and $TTL, a relative owner, parentheses.
  const std::string path = directory.write(
      "lab.key",
      "; lab anchors\n"
      "$ORIGIN arpa.\n"
      "$TTL 3600\n"
      "home IN DNSKEY 257 3 8 AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8g"
      "cCjFFVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0NfnfL2MTJRkxoXbfDaUeVPQuYEhg37"
      "NZWAJQ9VnMVDxP/VHL496M/QZxkjf5/Efucp2gaDX6RS6CXpoY68LsvPVjR0ZSwzz1apAzvN9dlz"
      "EheX7ICJBBtuA6G3LQpzW5hOA2hzCTMjJPJ8LbqF6dsV6DoBQzgul0sGIcGOYl7OyQdXfZ57relS"
      "Qageu+ipAdTTJ25AsRTAoub8ONGcLmqrAmRLKBP1dfwhYB4N7knNnulqQxA+Uk1ihz0=\n"
      "hidden.example.onion. IN DS 12345 8 2 (\n"
      "    49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE )\n");
  Config config = default_config();
  config.dnssec.trust_anchor_files = {path};
  std::string text = unbound_config_text(config, {});
  EXPECT_EQ(nodefault_zones(text), (Zones{"home.arpa.", "onion."})) << text;
}

TEST(UnboundConfigTest, PrivateZonesForwardTakesEveryBuiltInZoneButTheLoopbackOnes) {
  Config config = default_config();
  config.upstream.mode = UpstreamMode::forward;
  config.upstream.servers = {server("192.0.2.1", 53)};
  EXPECT_EQ(nodefault_zones(unbound_config_text(config, {})), Zones{});

  config.server.private_zones = PrivateZones::forward;
  Zones expected;
  for (const BuiltInZone& zone : builtin_local_zones()) {
    if (!zone.loopback) expected.push_back(zone.name);
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(expected.size(), 99u);
  EXPECT_EQ(nodefault_zones(unbound_config_text(config, {})), expected);
}

// Every zone on the list is one libunbound answers by itself, with its localhost. SOA, so a
// typo in the list shows. (That none is missing: the list has as many zones as Unbound 1.17.1's
// `unbound-control list_local_zones` shows.)
TEST(UnboundConfigTest, BuiltInZonesAreTheOnesLibunboundAnswers) {
  EXPECT_EQ(builtin_local_zones().size(), 102u);
  ub_ctx* context = ub_ctx_create();
  ASSERT_NE(context, nullptr);
  const std::string localhost("\x09localhost\x00", 11);  // the SOA's MNAME in wire format
  for (const BuiltInZone& zone : builtin_local_zones()) {
    ub_result* result = nullptr;
    ASSERT_EQ(ub_resolve(context, zone.name.c_str(), LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, &result),
              0)
        << zone.name;
    ASSERT_TRUE(result->havedata) << zone.name << " rcode " << result->rcode;
    EXPECT_EQ(std::string(result->data[0], std::min(result->len[0], 11)), localhost) << zone.name;
    ub_resolve_free(result);
  }
  ub_ctx_delete(context);
}

// The CD=1 context resolves the same names from the same servers, only without validation.
TEST(UnboundConfigTest, NonValidatingContextTakesTheSameBuiltInZones) {
  Config config = default_config();
  config.dnssec.trust_anchors = {"test. IN DS 1 8 2 ABCD"};
  EXPECT_EQ(nodefault_zones(unbound_config_text(config, {.validating = false})),
            Zones{"test."});
}

// libunbound refuses to send queries to loopback addresses unless told otherwise; only a
// forwarder on one is a reason to allow it (a recursive resolver has no business there).
TEST(UnboundConfigTest, LoopbackQueriesOnlyForLoopbackForwarders) {
  const std::string allowed = "do-not-query-localhost: no";
  Config config = default_config();
  EXPECT_FALSE(contains(unbound_config_text(config, {}), allowed));

  config.upstream.zones = {{"corp.example.dk", {server("10.0.0.5", 53)}, false}};
  EXPECT_FALSE(contains(unbound_config_text(config, {}), allowed));
  config.upstream.zones[0].servers.push_back(server("127.0.0.53", 5353));
  EXPECT_TRUE(contains(unbound_config_text(config, {}), allowed));
  config.upstream.zones[0].servers = {server("::1", 53)};
  EXPECT_TRUE(contains(unbound_config_text(config, {}), allowed));
  config.upstream.zones[0].servers = {server("::2", 53)};
  EXPECT_FALSE(contains(unbound_config_text(config, {}), allowed));

  config.upstream.zones.clear();
  config.upstream.mode = UpstreamMode::forward;
  config.upstream.servers = {server("192.0.2.1", 53), server("128.0.0.1", 53)};
  EXPECT_FALSE(contains(unbound_config_text(config, {}), allowed));
  config.upstream.servers.push_back(server("127.255.0.1", 53));
  EXPECT_TRUE(contains(unbound_config_text(config, {}), allowed));
}

TEST(UnboundConfigTest, DnssecAnchorsAndNegativeAnchors) {
  Config config = default_config();
  config.dnssec.root_trust_anchor_file = "/var/lib/x/root.key";
  config.dnssec.trust_anchors = {"example. IN DS 1 8 2 ABCD"};
  config.dnssec.trust_anchor_files = {"/etc/x/example.key"};
  config.dnssec.insecure_domains = {"home.lan"};
  std::string text = unbound_config_text(config, {});
  EXPECT_TRUE(contains(text, "module-config: \"validator iterator\"")) << text;
  EXPECT_TRUE(contains(text, "auto-trust-anchor-file: \"/var/lib/x/root.key\"")) << text;
  EXPECT_TRUE(contains(text, "trust-anchor: \"example. IN DS 1 8 2 ABCD\"")) << text;
  EXPECT_TRUE(contains(text, "trust-anchor-file: \"/etc/x/example.key\"")) << text;
  EXPECT_TRUE(contains(text, "domain-insecure: \"home.lan.\"")) << text;
  EXPECT_TRUE(contains(text, "val-log-level: 2")) << text;
}

TEST(UnboundConfigTest, EmptyRootAnchorFileMeansNoRootAnchor) {
  Config config = default_config();
  config.dnssec.root_trust_anchor_file = "";
  EXPECT_FALSE(contains(unbound_config_text(config, {}), "auto-trust-anchor-file"));
}

TEST(UnboundConfigTest, NonValidatingContextIsIteratorOnlyWithoutAnchors) {
  Config config = default_config();
  config.dnssec.insecure_domains = {"home.lan"};
  std::string text = unbound_config_text(config, {.validating = false});
  EXPECT_TRUE(contains(text, "module-config: \"iterator\"")) << text;
  EXPECT_FALSE(contains(text, "trust-anchor")) << text;
  EXPECT_FALSE(contains(text, "domain-insecure")) << text;

  config.dnssec.validate = false;
  EXPECT_TRUE(contains(unbound_config_text(config, {}), "module-config: \"iterator\""));
}

TEST(UnboundConfigTest, CacheBudgetIsSplitAmongContextsAndStaleAnswersAreOnlyOurs) {
  Config config = default_config();
  config.cache.size = 64ull << 20;
  config.cache.serve_stale = true;
  // A quarter of 64 MiB over 4 contexts: 4 MiB each, a third for messages.
  std::string text = unbound_config_text(config, {.validating = true, .contexts = 4});
  EXPECT_TRUE(contains(text, "msg-cache-size: " + std::to_string((4u << 20) / 3))) << text;
  EXPECT_TRUE(contains(text, "rrset-cache-size: " + std::to_string((4u << 20) / 3 * 2))) << text;
  EXPECT_TRUE(contains(text, "serve-expired: no")) << text;
  EXPECT_EQ(answer_cache_bytes(config.cache), 48ull << 20);
}

TEST(UnboundConfigTest, PrefetchContextKeepsNoAnswers) {
  Config config = default_config();
  std::string text = unbound_config_text(config, {.validating = true, .contexts = 4,
                                                  .refresh = true});
  EXPECT_TRUE(contains(text, "msg-cache-size: 64\n")) << text;
  EXPECT_TRUE(contains(text, "rrset-cache-size: 64\n")) << text;
  EXPECT_TRUE(contains(text, "module-config: \"validator iterator\"")) << text;
}

}  // namespace
}  // namespace dnsvagt
