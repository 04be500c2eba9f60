#include "metrics/metrics_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/metrics/http_get.h"

namespace dnsvagt {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::http_get;

class MetricsServerTest : public ::testing::Test {
 protected:
  MetricsServerTest() : metrics_(2), server_("127.0.0.1:0", metrics_) {
    metrics_.set_validation_enabled(true);
    metrics_.set_trust_anchors({{".", "/var/lib/dnsvagt/root.key", true}});
    metrics_.set_lists(
        {{"urlhaus", false, "https://example.org/h", "hosts", std::chrono::hours(1)}});
    metrics_.list_update_succeeded("urlhaus", 10, std::chrono::system_clock::now());
    metrics_.worker(1).query(Transport::tcp);
    metrics_.worker(1).blocked(metrics_.list_index("urlhaus"));
    metrics_.worker(1).record_block("malware.example", metrics_.list_index("urlhaus"));
  }

  testing::HttpResponse get(const std::string& target) {
    return http_get("127.0.0.1", server_.port(), target);
  }

  Metrics metrics_;
  MetricsServer server_;
};

TEST_F(MetricsServerTest, ServesMetricsInTheTextFormat) {
  ASSERT_NE(server_.port(), 0);
  auto response = get("/metrics");
  EXPECT_EQ(response.status, 200);
  EXPECT_THAT(response.headers, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(response.body, HasSubstr("\ndnsvagt_queries_total{transport=\"tcp\"} 1\n"));
  EXPECT_THAT(response.body, HasSubstr("\ndnsvagt_blocked_queries_total{list=\"urlhaus\"} 1\n"));
  // Every scrape reads the live counters.
  metrics_.worker(0).query(Transport::tcp);
  EXPECT_THAT(get("/metrics").body, HasSubstr("\ndnsvagt_queries_total{transport=\"tcp\"} 2\n"));
}

TEST_F(MetricsServerTest, ServesHealthz) {
  auto response = get("/healthz");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok\n");
}

TEST_F(MetricsServerTest, ServesComplianceAsJsonAndHtml) {
  for (const char* target : {"/compliance.json", "/compliance?format=json"}) {
    SCOPED_TRACE(target);
    auto response = get(target);
    EXPECT_EQ(response.status, 200);
    EXPECT_THAT(response.headers, HasSubstr("Content-Type: application/json"));
    EXPECT_THAT(response.body, StartsWith("{\n"));
    EXPECT_THAT(response.body, HasSubstr("\"block_share\": 1"));
    EXPECT_THAT(response.body, HasSubstr("\"name\": \"malware.example\", \"list\": \"urlhaus\""));
  }
  for (const char* target : {"/compliance", "/compliance?format=html"}) {
    SCOPED_TRACE(target);
    auto response = get(target);
    EXPECT_EQ(response.status, 200);
    EXPECT_THAT(response.headers, HasSubstr("Content-Type: text/html"));
    EXPECT_THAT(response.body, HasSubstr("<td>malware.example</td><td>urlhaus</td>"));
  }
}

TEST_F(MetricsServerTest, UnknownPathIsNotFound) {
  EXPECT_EQ(get("/").status, 404);
  EXPECT_EQ(get("/metrics/extra").status, 404);
  EXPECT_EQ(get("/etc/passwd").status, 404);
}

TEST(MetricsServerListenTest, ServesOnIpv6Loopback) {
  Metrics metrics(1);
  MetricsServer server("[::1]:0", metrics);
  auto response = http_get("::1", server.port(), "/healthz");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok\n");
}

TEST(MetricsServerListenTest, BusyPortAndBadAddressesAreErrors) {
  Metrics metrics(1);
  MetricsServer first("127.0.0.1:0", metrics);
  try {
    MetricsServer second("127.0.0.1:" + std::to_string(first.port()), metrics);
    FAIL() << "bound a busy port";
  } catch (const MetricsServerError& error) {
    EXPECT_THAT(error.what(), HasSubstr("Address already in use"));
  }
  for (const char* listen : {"not-an-address", "127.0.0.1", "[::1]", "::1", "127.0.0.1:99999",
                             "localhost:9153", ""}) {
    SCOPED_TRACE(listen);
    EXPECT_THROW(MetricsServer(listen, metrics), MetricsServerError);
  }
}

}  // namespace
}  // namespace dnsvagt
