#include "metrics/metrics_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "config/config.h"
#include "tests/eventually.h"
#include "tests/metrics/http_get.h"

namespace dnsvagt {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::get_request;
using testing::http_get;
using testing::parse_response;
using testing::TcpConnection;
using namespace std::chrono_literals;

// A GET of /healthz answered with 200 (false if refused or failed).
bool healthy(uint16_t port) {
  try {
    return http_get("127.0.0.1", port, "/healthz").status == 200;
  } catch (const std::runtime_error&) {
    return false;
  }
}

class MetricsServerTest : public ::testing::Test {
 protected:
  MetricsServerTest() : metrics_(2), server_(Endpoint{"127.0.0.1", 0}, metrics_) {
    metrics_.set_validation_enabled(true);
    metrics_.set_trust_anchors({{".", "/var/lib/dnsvagt/root.key", true}});
    metrics_.set_lists(
        {{.name = "urlhaus", .source = "https://example.org/h", .format = "hosts"}});
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
  MetricsServer server(Endpoint{"::1", 0}, metrics);
  auto response = http_get("::1", server.port(), "/healthz");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok\n");
}

TEST(MetricsServerListenTest, BusyPortAndBadAddressesAreErrors) {
  Metrics metrics(1);
  MetricsServer first(Endpoint{"127.0.0.1", 0}, metrics);
  try {
    MetricsServer second(Endpoint{"127.0.0.1", first.port()}, metrics);
    FAIL() << "bound a busy port";
  } catch (const MetricsServerError& error) {
    EXPECT_THAT(error.what(), HasSubstr("metrics.listen \"127.0.0.1:"));
    EXPECT_THAT(error.what(), HasSubstr("Address already in use"));
  }
  // The config loader admits numeric addresses only (ConfigLoad tests); an endpoint built by
  // hand with a name is an error, not a lookup.
  for (const char* address : {"localhost", "not-an-address", ""}) {
    SCOPED_TRACE(address);
    EXPECT_THROW(MetricsServer(Endpoint{address, 9153}, metrics), MetricsServerError);
  }
}

// Headers past the limit get an error status or a closed connection, never a page; the
// server goes on answering others.
TEST(MetricsServerLimitsTest, OversizeRequestHeadersAreRefusedAndTheServerKeepsAnswering) {
  Metrics metrics(1);
  MetricsServer server(Endpoint{"127.0.0.1", 0}, metrics);
  for (size_t padding : {size_t{20000}, size_t{1} << 20}) {
    SCOPED_TRACE(padding);
    TcpConnection connection("127.0.0.1", server.port());
    // The server may close before it has read everything: the send may fail.
    connection.send_all("GET /metrics HTTP/1.0\r\nHost: localhost\r\nX-Padding: " +
                        std::string(padding, 'a') + "\r\n\r\n");
    const std::string raw = connection.receive_all();
    if (!raw.empty()) {
      EXPECT_GE(parse_response(raw).status, 400) << raw.substr(0, 80);
    }
    EXPECT_EQ(raw.find("dnsvagt_"), std::string::npos);
    EXPECT_TRUE(healthy(server.port()));
  }
}

TEST(MetricsServerLimitsTest, RequestWithABodyIsRefused) {
  Metrics metrics(1);
  MetricsServer server(Endpoint{"127.0.0.1", 0}, metrics);
  TcpConnection connection("127.0.0.1", server.port());
  connection.send_all("GET /metrics HTTP/1.0\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n" +
                      std::string(100000, 'a'));
  const std::string raw = connection.receive_all();
  if (!raw.empty()) {
    EXPECT_GE(parse_response(raw).status, 400) << raw.substr(0, 80);
  }
  EXPECT_EQ(raw.find("dnsvagt_"), std::string::npos);
  EXPECT_TRUE(healthy(server.port()));
}

TEST(MetricsServerLimitsTest, ConnectionsOverTheCapAreClosedUnansweredWhileOthersKeepWorking) {
  Metrics metrics(1);
  MetricsServerLimits limits;
  limits.max_connections = 3;
  MetricsServer server(Endpoint{"127.0.0.1", 0}, metrics, limits);
  std::vector<std::unique_ptr<TcpConnection>> held;
  for (size_t i = 0; i < limits.max_connections; ++i) {
    held.push_back(std::make_unique<TcpConnection>("127.0.0.1", server.port()));
  }
  // Accepted after the held ones (in the order they connected), so over the cap.
  TcpConnection over("127.0.0.1", server.port());
  over.send_all(get_request("/healthz"));  // may find the connection closed already
  EXPECT_EQ(over.receive_all(), "");

  ASSERT_TRUE(held[0]->send_all(get_request("/healthz")));
  EXPECT_EQ(parse_response(held[0]->receive_all()).status, 200);
  held.clear();
  EXPECT_TRUE(eventually([&] { return healthy(server.port()); }));
}

// A connection kept open between requests (HTTP/1.1) holds its place.
TEST(MetricsServerLimitsTest, KeptAliveConnectionHoldsItsPlaceBetweenRequests) {
  Metrics metrics(1);
  MetricsServerLimits limits;
  limits.max_connections = 1;
  MetricsServer server(Endpoint{"127.0.0.1", 0}, metrics, limits);
  TcpConnection kept("127.0.0.1", server.port());
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
  ASSERT_TRUE(kept.send_all(request));
  EXPECT_EQ(parse_response(kept.receive_one()).status, 200);
  EXPECT_FALSE(healthy(server.port()));
  ASSERT_TRUE(kept.send_all(request));
  EXPECT_EQ(parse_response(kept.receive_one()).status, 200);
}

// Every closed connection frees its place: a refused one, one closed by the client, one that
// was answered.
TEST(MetricsServerLimitsTest, ClosedConnectionsFreeTheirPlace) {
  Metrics metrics(1);
  MetricsServerLimits limits;
  limits.max_connections = 2;
  MetricsServer server(Endpoint{"127.0.0.1", 0}, metrics, limits);
  for (int i = 0; i < 20; ++i) {
    SCOPED_TRACE(i);
    { TcpConnection closed_unused("127.0.0.1", server.port()); }
    ASSERT_TRUE(eventually([&] { return healthy(server.port()); }));
  }
}

TEST(MetricsServerLimitsTest, IdleConnectionIsClosedAfterTheTimeout) {
  Metrics metrics(1);
  MetricsServerLimits limits;
  limits.timeout = 1s;
  MetricsServer server(Endpoint{"127.0.0.1", 0}, metrics, limits);
  TcpConnection idle("127.0.0.1", server.port());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(idle.receive_all(), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  EXPECT_TRUE(healthy(server.port()));
}

}  // namespace
}  // namespace dnsvagt
