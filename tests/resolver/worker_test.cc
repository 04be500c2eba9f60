#include "resolver/worker.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <vector>

#include "blocklists/list_parser.h"
#include "resolver/listen_socket.h"
#include "resolver/wire.h"
#include "tests/resolver/loopback_client.h"
#include "tests/resolver/wire_test_util.h"

namespace dnsvagt {
namespace {

using wiretest::ClientQuery;
using namespace loopback;

// A worker on loopback sockets of its own, forwarding to a UDP socket that never answers, so
// nothing but local data and the client timer can answer it.
class WorkerTest : public testing::Test {
 protected:
  WorkerTest() : metrics_(1) {
    black_hole_ = open_udp_socket(Endpoint{"127.0.0.1", 0});
    config_ = default_config();
    config_.dnssec.root_trust_anchor_file = "";
    config_.upstream.mode = UpstreamMode::forward;
    config_.upstream.servers = {UpstreamServer{Endpoint{"127.0.0.1", bound_port(black_hole_)}, ""}};
    config_.upstream.timeout = std::chrono::milliseconds(200);
    config_.logging.level = LogLevel::error;
  }
  ~WorkerTest() override {
    worker_.reset();
    for (int fd : {udp_, tcp_, black_hole_}) {
      if (fd >= 0) ::close(fd);
    }
  }
  void start(std::shared_ptr<const Policy> policy = nullptr) {
    udp_ = open_udp_socket(Endpoint{"127.0.0.1", 0});
    tcp_ = open_tcp_listener(Endpoint{"127.0.0.1", 0});
    auto shared = std::make_shared<WorkerShared>(config_, &tcp_slots_);
    if (policy) shared->policy.publish(std::move(policy));
    worker_ = std::make_unique<Worker>(shared, WorkerSockets{{udp_}, {tcp_}, {}, {}}, 1, metrics_, 0,
                                       nullptr);
    worker_->start();
  }
  std::vector<uint8_t> ask_udp(const std::vector<uint8_t>& query) {
    return loopback::ask_udp(bound_port(udp_), query);
  }
  int connect_tcp() { return loopback::connect_tcp(bound_port(tcp_)); }
  CounterTotals totals() const { return metrics_.snapshot().totals; }

  Config config_;
  Metrics metrics_;
  TcpSlots tcp_slots_;
  int black_hole_ = -1, udp_ = -1, tcp_ = -1;
  std::unique_ptr<Worker> worker_;
};

TEST_F(WorkerTest, AnswersUdpFromLocalDataAndCountsTheReply) {
  start();
  ClientQuery query("localhost", kTypeA, true);
  const std::vector<uint8_t> reply = ask_udp(query.packet);
  ASSERT_GE(reply.size(), kHeaderSize);
  EXPECT_EQ(reply[0], 0xab);  // the client's ID
  EXPECT_EQ(rcode_of(reply), int{kRcodeNoError});
  EXPECT_EQ(reply[7], 1);  // one answer record: 127.0.0.1
  worker_->stop();
  worker_->join();
  const CounterTotals t = totals();
  EXPECT_EQ(t.queries[static_cast<size_t>(Transport::udp)], 1u);
  EXPECT_EQ(t.responses[kRcodeNoError], 1u);
}

// localhost. is answered inside the call to upstream: the connection's reply owed and given
// within one read must leave it able to read the next pipelined query.
TEST_F(WorkerTest, AnswersPipelinedTcpQueriesThatLocalDataAnswersAtOnce) {
  start();
  const int fd = connect_tcp();
  ClientQuery first("localhost", kTypeA, true);
  ClientQuery second("localhost", kTypeAaaa, true);
  ASSERT_TRUE(send_framed(fd, first.packet));
  ASSERT_TRUE(send_framed(fd, second.packet));
  const std::vector<uint8_t> a = read_framed(fd);
  const std::vector<uint8_t> b = read_framed(fd);
  ASSERT_GE(a.size(), kHeaderSize);
  ASSERT_GE(b.size(), kHeaderSize);
  EXPECT_EQ(rcode_of(a), int{kRcodeNoError});
  EXPECT_EQ(rcode_of(b), int{kRcodeNoError});
  // The connection is still served after both.
  ClientQuery third("localhost", kTypeA, false);
  ASSERT_TRUE(send_framed(fd, third.packet));
  EXPECT_EQ(rcode_of(read_framed(fd)), int{kRcodeNoError});
  ::close(fd);
  worker_->stop();
  worker_->join();
  EXPECT_EQ(totals().queries[static_cast<size_t>(Transport::tcp)], 3u);
}

TEST_F(WorkerTest, AClientWaitingOnADeadUpstreamGetsServfailWithEde22AtItsTimer) {
  start();
  ClientQuery query("www.example.com", kTypeA, true);
  const std::vector<uint8_t> reply = ask_udp(query.packet);
  ASSERT_GE(reply.size(), kHeaderSize);
  EXPECT_EQ(rcode_of(reply), int{kRcodeServFail});
  EXPECT_EQ(ede_of(reply), std::optional<uint16_t>(22));
  worker_->stop();
  worker_->join();
  EXPECT_EQ(totals().upstream_errors[static_cast<size_t>(UpstreamErrorReason::timeout)], 1u);
}

TEST_F(WorkerTest, ABlockedNameIsAnsweredWithoutAskingUpstream) {
  PolicyBuilder builder(BlockAction::nxdomain);
  PolicyList list;
  list.name = "test";
  builder.add_list(list, parse_list("ads.example\n", ListFormat::domains));
  start(std::move(builder).build());
  ClientQuery query("www.ads.example", kTypeA, true);
  const std::vector<uint8_t> reply = ask_udp(query.packet);
  ASSERT_GE(reply.size(), kHeaderSize);
  EXPECT_EQ(rcode_of(reply), int{kRcodeNxDomain});
  EXPECT_EQ(ede_of(reply), std::optional<uint16_t>(15));  // Blocked
  worker_->stop();
  worker_->join();
  EXPECT_EQ(totals().total_blocked(), 1u);
  EXPECT_EQ(totals().cache_misses, 0u);
}

// A stop reads no more queries but answers those in flight before the thread ends.
TEST_F(WorkerTest, StopAnswersTheQueriesInFlightBeforeTheThreadEnds) {
  config_.upstream.timeout = std::chrono::milliseconds(500);
  start();
  const int fd = connect_tcp();
  ClientQuery query("www.example.org", kTypeA, true);
  ASSERT_TRUE(send_framed(fd, query.packet));
  // The query is read before the stop: the worker counts it.
  for (int i = 0; i < 500 && totals().queries[static_cast<size_t>(Transport::tcp)] == 0; ++i) {
    usleep(2000);
  }
  worker_->stop();
  const std::vector<uint8_t> reply = read_framed(fd);
  ASSERT_GE(reply.size(), kHeaderSize);
  EXPECT_EQ(rcode_of(reply), int{kRcodeServFail});
  worker_->join();
  ::close(fd);
}

}  // namespace
}  // namespace dnsvagt
