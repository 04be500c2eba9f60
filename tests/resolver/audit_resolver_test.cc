// AuditResolver on real libunbound contexts: local data and NODATA from the built-in local
// zones, a deadline for a forwarder that never answers, giving up once stopping, and the root
// anchor of `dnsvagt audit` that is read but never rewritten.
#include "resolver/audit_resolver.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "resolver/trust_anchor.h"

namespace dnsvagt {
namespace {

// A UDP socket on 127.0.0.1 that nobody reads: queries to it go unanswered.
class SilentServer {
 public:
  SilentServer() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentServer() { close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

Config forwarding_to(uint16_t port) {
  Config config = default_config();
  config.dnssec.root_trust_anchor_file = "";
  config.upstream.mode = UpstreamMode::forward;
  config.upstream.servers = {parse_upstream_server("127.0.0.1@" + std::to_string(port), false)};
  config.audit.timeout = std::chrono::milliseconds(300);
  return config;
}

TEST(AuditResolver, LocalDataAndNodata) {
  SilentServer server;
  AuditResolver resolver(forwarding_to(server.port()));
  LookupResult address = resolver.lookup("localhost", 1);
  EXPECT_EQ(address.outcome, LookupOutcome::data);
  EXPECT_EQ(address.records, (std::vector<std::string>{"127.0.0.1"}));
  EXPECT_EQ(address.security, Security::insecure);  // no anchor covers localhost.
  EXPECT_EQ(resolver.lookup("localhost", 16).outcome, LookupOutcome::nodata);
}

TEST(AuditResolver, AnUnansweredLookupTimesOutAndTheNextOneStillWorks) {
  SilentServer server;
  AuditResolver resolver(forwarding_to(server.port()));
  LookupResult result = resolver.lookup("example.dk", 15);
  EXPECT_EQ(result.outcome, LookupOutcome::timeout);
  EXPECT_TRUE(result.records.empty());
  EXPECT_EQ(resolver.lookup("localhost", 1).outcome, LookupOutcome::data);
}

TEST(AuditResolver, StoppingGivesUpAtOnce) {
  SilentServer server;
  Config config = forwarding_to(server.port());
  config.audit.timeout = std::chrono::minutes(1);
  std::atomic<bool> stopping{true};
  AuditResolver resolver(config, &stopping);
  EXPECT_EQ(resolver.lookup("example.dk", 15).outcome, LookupOutcome::timeout);
}

TEST(WithReadOnlyRootAnchor, AReadableFileIsReadAsPlainAnchors) {
  std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("audit_resolver_test." + std::to_string(getpid()));
  std::ofstream(file) << kRootTrustAnchors[0] << "\n";
  Config config = default_config();
  config.dnssec.root_trust_anchor_file = file.string();
  Config audit = with_read_only_root_anchor(config);
  EXPECT_EQ(audit.dnssec.root_trust_anchor_file, "");
  EXPECT_EQ(audit.dnssec.trust_anchor_files, (std::vector<std::string>{file.string()}));
  EXPECT_TRUE(audit.dnssec.trust_anchors.empty());
  std::filesystem::remove(file);
}

TEST(WithReadOnlyRootAnchor, AMissingFileGivesWayToTheBuiltInKeys) {
  Config config = default_config();
  config.dnssec.root_trust_anchor_file = "/nonexistent/dnsvagt/root.key";
  Config audit = with_read_only_root_anchor(config);
  EXPECT_EQ(audit.dnssec.root_trust_anchor_file, "");
  EXPECT_TRUE(audit.dnssec.trust_anchor_files.empty());
  EXPECT_EQ(audit.dnssec.trust_anchors,
            (std::vector<std::string>{kRootTrustAnchors[0], kRootTrustAnchors[1]}));
  config.dnssec.root_trust_anchor_file = "";
  EXPECT_EQ(with_read_only_root_anchor(config), config);
}

}  // namespace
}  // namespace dnsvagt
