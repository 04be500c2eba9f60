#include "metrics/metrics_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/metrics/http_get.h"

namespace dnsvagt {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::http_get;

// One server for all tests of the suite: stopping civetweb after a request takes ~2 s.
class MetricsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    metrics_ = new Metrics(2);
    metrics_->set_validation_enabled(true);
    metrics_->set_trust_anchors({{".", "/var/lib/dnsvagt/root.key", true}});
    metrics_->set_lists(
        {{"urlhaus", false, "https://example.org/h", "hosts", std::chrono::hours(1)}});
    metrics_->list_update_succeeded("urlhaus", 10, std::chrono::system_clock::now());
    metrics_->worker(1).query(Transport::tcp);
    metrics_->worker(1).blocked(metrics_->list_index("urlhaus"));
    metrics_->worker(1).record_block("malware.example", metrics_->list_index("urlhaus"));
    server_ = new MetricsServer("127.0.0.1:0", *metrics_);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete metrics_;
  }

  static Metrics* metrics_;
  static MetricsServer* server_;
};

Metrics* MetricsServerTest::metrics_ = nullptr;
MetricsServer* MetricsServerTest::server_ = nullptr;

TEST_F(MetricsServerTest, ServesMetricsInTheTextFormat) {
  ASSERT_NE(server_->port(), 0);
  auto response = http_get(server_->port(), "/metrics");
  EXPECT_EQ(response.status, 200);
  EXPECT_THAT(response.headers, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(response.body, HasSubstr("\ndnsvagt_queries_total{transport=\"tcp\"} 1\n"));
  EXPECT_THAT(response.body, HasSubstr("\ndnsvagt_blocked_queries_total{list=\"urlhaus\"} 1\n"));
}

TEST_F(MetricsServerTest, ServesHealthz) {
  auto response = http_get(server_->port(), "/healthz");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok\n");
}

TEST_F(MetricsServerTest, ServesComplianceAsJsonAndHtml) {
  for (const char* target : {"/compliance.json", "/compliance?format=json"}) {
    SCOPED_TRACE(target);
    auto response = http_get(server_->port(), target);
    EXPECT_EQ(response.status, 200);
    EXPECT_THAT(response.headers, HasSubstr("Content-Type: application/json"));
    EXPECT_THAT(response.body, StartsWith("{\n"));
    EXPECT_THAT(response.body, HasSubstr("\"block_share\": 1"));
    EXPECT_THAT(response.body, HasSubstr("\"name\": \"malware.example\", \"list\": \"urlhaus\""));
  }
  auto response = http_get(server_->port(), "/compliance");
  EXPECT_EQ(response.status, 200);
  EXPECT_THAT(response.headers, HasSubstr("Content-Type: text/html"));
  EXPECT_THAT(response.body, HasSubstr("<td>malware.example</td><td>urlhaus</td>"));
}

TEST_F(MetricsServerTest, UnknownPathIsNotFound) {
  EXPECT_EQ(http_get(server_->port(), "/").status, 404);
  EXPECT_EQ(http_get(server_->port(), "/metrics/extra").status, 404);
  EXPECT_EQ(http_get(server_->port(), "/etc/passwd").status, 404);
}

TEST(MetricsServerListenTest, BusyPortIsAnError) {
  Metrics metrics(1);
  MetricsServer first("127.0.0.1:0", metrics);
  EXPECT_THROW(MetricsServer("127.0.0.1:" + std::to_string(first.port()), metrics),
               MetricsServerError);
  EXPECT_THROW(MetricsServer("not-an-address", metrics), MetricsServerError);
}

}  // namespace
}  // namespace dnsvagt
