#include "resolver/telemetry.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "resolver/listen_socket.h"
#include "tests/resolver/loopback_client.h"
#include "tests/temp_dir.h"

namespace dnsvagt {
namespace {

using namespace loopback;

// The response to GET `path` from 127.0.0.1:port, or "" if nothing listens there.
std::string http_get(uint16_t port, const std::string& path) {
  const int fd = connect_tcp(port);
  if (fd < 0) return "";
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  send(fd, request.data(), request.size(), 0);
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = recv(fd, buffer, sizeof buffer, 0)) > 0;) response.append(buffer, n);
  close(fd);
  return response;
}

Endpoint listen_on(uint16_t port) { return Endpoint{"127.0.0.1", port}; }

class TelemetryTest : public testing::Test {
 protected:
  TelemetryTest() {
    config_ = default_config();
    config_.metrics.listen = std::nullopt;
    config_.logging.query_log = "";
  }

  const TempDir temp_dir_{"dnsvagt-telemetry-test"};
  const std::string directory_ = temp_dir_.path();
  Config config_;
};

TEST_F(TelemetryTest, TheMetricsListenerServesAndFollowsMetricsListenOnReload) {
  const uint16_t first = free_port();
  config_.metrics.listen = listen_on(first);
  Telemetry telemetry(config_, 2);
  EXPECT_EQ(telemetry.metrics_port(), first);
  EXPECT_NE(http_get(first, "/metrics").find("dnsvagt_queries_total"), std::string::npos);

  const uint16_t second = free_port();
  config_.metrics.listen = listen_on(second);
  telemetry.reload(config_);
  EXPECT_EQ(telemetry.metrics_port(), second);
  EXPECT_NE(http_get(second, "/healthz").find("200"), std::string::npos);
  EXPECT_EQ(http_get(first, "/metrics"), "");

  config_.metrics.listen = std::nullopt;
  telemetry.reload(config_);
  EXPECT_EQ(telemetry.metrics_port(), 0);
  EXPECT_EQ(http_get(second, "/metrics"), "");
}

TEST_F(TelemetryTest, AnAddressInUseFailsTheStartButOnlyTheListenerOnReload) {
  const int taken = open_tcp_listener(Endpoint{"127.0.0.1", 0});
  const int flag = 0;  // a plain bind next to it must fail too
  setsockopt(taken, SOL_SOCKET, SO_REUSEPORT, &flag, sizeof flag);
  config_.metrics.listen = listen_on(bound_port(taken));
  try {
    Telemetry telemetry(config_, 1);
    ADD_FAILURE() << "started on a port in use";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("(metrics.listen)"), std::string::npos);
  }
  Config working = config_;
  working.metrics.listen = std::nullopt;
  Telemetry telemetry(working, 1);
  telemetry.reload(config_);  // logged; the process keeps running without a listener
  EXPECT_EQ(telemetry.metrics_port(), 0);
  close(taken);
}

TEST_F(TelemetryTest, TheQueryLogQueueExistsWhileTheQueryLogIsOn) {
  Telemetry telemetry(config_, 2);
  EXPECT_EQ(telemetry.query_log_queue(0), nullptr);
  config_.logging.query_log = directory_ + "/queries.jsonl";
  telemetry.reload(config_);
  EXPECT_NE(telemetry.query_log_queue(0), nullptr);
  EXPECT_NE(telemetry.query_log_queue(1), telemetry.query_log_queue(0));
  config_.logging.query_log = "";
  telemetry.reload(config_);
  EXPECT_EQ(telemetry.query_log_queue(0), nullptr);
}

TEST(ConfiguredTrustAnchorsTest, NamesEachAnchorAndMarksWhatCannotBeRead) {
  Config config = default_config();
  config.dnssec.root_trust_anchor_file = "/var/lib/dnsvagt/root.key";
  config.dnssec.trust_anchors = {
      "corp.example. DS 31406 8 2 F78CF3344F72137235098ECBBD08947C2C9001C7F6A085A17F518B5D8F6B916D",
      "not a record"};
  const std::vector<TrustAnchorInfo> anchors = configured_trust_anchors(config, true);
  ASSERT_EQ(anchors.size(), 3u);
  EXPECT_EQ(anchors[0].zone, ".");
  EXPECT_TRUE(anchors[0].loaded);
  EXPECT_EQ(anchors[1].zone, "corp.example.");
  EXPECT_EQ(anchors[1].source, "config");
  EXPECT_TRUE(anchors[1].loaded);
  EXPECT_EQ(anchors[2].zone, "?");
  EXPECT_FALSE(anchors[2].loaded);
  EXPECT_FALSE(configured_trust_anchors(config, false)[1].loaded);
}

}  // namespace
}  // namespace dnsvagt
