#include "resolver/unbound_config.h"

#include <gtest/gtest.h>

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

TEST(UnboundConfigTest, ZonesAreForwardedAndMadeTransparentInsecureOnesAlsoNegativeAnchors) {
  Config config = default_config();
  config.upstream.zones = {{"corp.example.dk", {server("10.0.0.5", 53)}, true},
                           {"lab.test", {server("10.0.0.6", 53)}, false}};
  std::string text = unbound_config_text(config, {});
  EXPECT_TRUE(contains(text, "forward-zone:\n  name: \"corp.example.dk.\"\n"
                             "  forward-addr: \"10.0.0.5@53\"\n"))
      << text;
  EXPECT_TRUE(contains(text, "forward-zone:\n  name: \"lab.test.\"\n")) << text;
  EXPECT_TRUE(contains(text, "local-zone: \"corp.example.dk.\" transparent")) << text;
  EXPECT_TRUE(contains(text, "local-zone: \"lab.test.\" transparent")) << text;
  EXPECT_TRUE(contains(text, "domain-insecure: \"corp.example.dk.\"")) << text;
  EXPECT_FALSE(contains(text, "domain-insecure: \"lab.test.\"")) << text;
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
  EXPECT_TRUE(contains(text, "local-zone: \"home.lan.\" transparent")) << text;
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
