#include "resolver/worker.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <vector>

#include "blocklists/list_parser.h"
#include "resolver/listen_socket.h"
#include "resolver/wire.h"
#include "tests/resolver/wire_test_util.h"

namespace dnsvagt {
namespace {

using wiretest::ClientQuery;

uint16_t bound_port(int fd) {
  sockaddr_in address = {};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  return address;
}

void set_receive_timeout(int fd, int seconds) {
  const timeval timeout = {seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

uint16_t rcode_of(const std::vector<uint8_t>& reply) { return reply.at(3) & 0x0f; }

// The code of the first EDNS option of `reply`'s OPT record if it is an EDE, read with ldns.
std::optional<uint16_t> ede_of(const std::vector<uint8_t>& reply) {
  ldns_pkt* packet = nullptr;
  if (ldns_wire2pkt(&packet, reply.data(), reply.size()) != LDNS_STATUS_OK) return std::nullopt;
  std::optional<uint16_t> code;
  const ldns_rdf* options = ldns_pkt_edns_data(packet);
  if (options && ldns_rdf_size(options) >= 6 && read_u16(ldns_rdf_data(options)) == kOptionEde) {
    code = read_u16(ldns_rdf_data(options) + 4);
  }
  ldns_pkt_free(packet);
  return code;
}

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
    worker_ = std::make_unique<Worker>(shared, WorkerSockets{{udp_}, {tcp_}}, 1, metrics_, 0,
                                       nullptr);
    worker_->start();
  }
  std::vector<uint8_t> ask_udp(const std::vector<uint8_t>& query) {
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    set_receive_timeout(fd, 5);
    const sockaddr_in server = loopback(bound_port(udp_));
    sendto(fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&server),
           sizeof server);
    std::vector<uint8_t> reply(65535);
    const ssize_t n = recv(fd, reply.data(), reply.size(), 0);
    ::close(fd);
    reply.resize(n > 0 ? n : 0);
    return reply;
  }
  int connect_tcp() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    set_receive_timeout(fd, 5);
    const sockaddr_in server = loopback(bound_port(tcp_));
    EXPECT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server), 0);
    return fd;
  }
  static void send_framed(int fd, const std::vector<uint8_t>& query) {
    std::vector<uint8_t> framed = {static_cast<uint8_t>(query.size() >> 8),
                                   static_cast<uint8_t>(query.size())};
    framed.insert(framed.end(), query.begin(), query.end());
    ASSERT_EQ(send(fd, framed.data(), framed.size(), 0), static_cast<ssize_t>(framed.size()));
  }
  static std::vector<uint8_t> read_framed(int fd) {
    uint8_t prefix[2];
    if (recv(fd, prefix, 2, MSG_WAITALL) != 2) return {};
    std::vector<uint8_t> reply(prefix[0] << 8 | prefix[1]);
    if (recv(fd, reply.data(), reply.size(), MSG_WAITALL) != static_cast<ssize_t>(reply.size())) {
      return {};
    }
    return reply;
  }
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
  EXPECT_EQ(rcode_of(reply), kRcodeNoError);
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
  send_framed(fd, first.packet);
  send_framed(fd, second.packet);
  const std::vector<uint8_t> a = read_framed(fd);
  const std::vector<uint8_t> b = read_framed(fd);
  ASSERT_GE(a.size(), kHeaderSize);
  ASSERT_GE(b.size(), kHeaderSize);
  EXPECT_EQ(rcode_of(a), kRcodeNoError);
  EXPECT_EQ(rcode_of(b), kRcodeNoError);
  // The connection is still served after both.
  ClientQuery third("localhost", kTypeA, false);
  send_framed(fd, third.packet);
  EXPECT_EQ(rcode_of(read_framed(fd)), kRcodeNoError);
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
  EXPECT_EQ(rcode_of(reply), kRcodeServFail);
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
  EXPECT_EQ(rcode_of(reply), kRcodeNxDomain);
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
  send_framed(fd, query.packet);
  // The query is read before the stop: the worker counts it.
  for (int i = 0; i < 500 && totals().queries[static_cast<size_t>(Transport::tcp)] == 0; ++i) {
    usleep(2000);
  }
  worker_->stop();
  const std::vector<uint8_t> reply = read_framed(fd);
  ASSERT_GE(reply.size(), kHeaderSize);
  EXPECT_EQ(rcode_of(reply), kRcodeServFail);
  worker_->join();
  ::close(fd);
}

}  // namespace
}  // namespace dnsvagt
