#include "resolver/in_flight.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tests/resolver/wire_test_util.h"

namespace dnsvagt {
namespace {

using wiretest::ClientQuery;

ReplyTarget udp_target(const char* ipv4, uint16_t port) {
  ReplyTarget target;
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, ipv4, &address.sin_addr);
  memcpy(&target.address, &address, sizeof address);
  target.address_length = sizeof address;
  return target;
}

class InFlightTest : public testing::Test {
 protected:
  InFlightTest()
      : base_(event_base_new()),
        table_(base_,
               InFlight::Handlers{
                   [this](InFlight::Entry& entry, const UpstreamReply& reply) {
                     answered_.push_back(&entry);
                     answer_rcode_ = reply.rcode;
                   },
                   [this](InFlight::Entry& entry) { late_.push_back(&entry); }},
               std::chrono::milliseconds(1)) {}
  ~InFlightTest() override {
    table_.clear();  // its timers before their loop
    event_base_free(base_);
  }
  // Runs the loop until the timers due within `ms` have fired.
  void run_for(int ms) {
    const timeval limit = {0, ms * 1000};
    event_base_loopexit(base_, &limit);
    event_base_dispatch(base_);
  }

  event_base* base_;
  InFlight table_;
  std::vector<InFlight::Entry*> answered_;
  std::vector<InFlight::Entry*> late_;
  int answer_rcode_ = -1;
};

TEST_F(InFlightTest, IdenticalQueriesShareOneResolutionAndKeepTheirOwnQuery) {
  ClientQuery first("example.com", 1, true);
  ClientQuery second("EXAMPLE.com", 1, true);
  second.packet[0] = 0x12;  // another ID
  parse_query(second.packet, second.query);
  auto [entry, started] = table_.join(first.packet, first.query, nullptr, 0);
  EXPECT_TRUE(started);
  const ReplyTarget a = udp_target("192.0.2.1", 1000), b = udp_target("192.0.2.2", 2000);
  auto [same, started_again] = table_.join(first.packet, first.query, &a, 10);
  auto [third, started_third] = table_.join(second.packet, second.query, &b, 20);
  EXPECT_EQ(same, entry);
  EXPECT_EQ(third, entry);
  EXPECT_FALSE(started_again);
  EXPECT_FALSE(started_third);
  ASSERT_EQ(entry->waiters.size(), 2u);
  // Each waiter's query was parsed from its own packet, which it keeps.
  const InFlight::Waiter& w = entry->waiters[1];
  EXPECT_EQ(w.query.id, 0x12cd);
  EXPECT_EQ(w.received_ns, 20);
  EXPECT_EQ(w.query.qname.data(), w.packet.data() + 12);
  EXPECT_EQ(w.query.qname[1], 'E');  // the case as asked
  EXPECT_EQ(reinterpret_cast<const sockaddr_in&>(w.target.address).sin_port, htons(2000));
  EXPECT_EQ(entry->query.qname.data(), entry->packet.data() + 12);
  EXPECT_EQ(table_.find(second.query), entry);
}

TEST_F(InFlightTest, WaitersKeepTheirParsedQueryWhenTheTableGrows) {
  ClientQuery query("example.com", 28, false);
  const ReplyTarget target = udp_target("192.0.2.1", 53);
  InFlight::Entry* entry = table_.join(query.packet, query.query, &target, 0).first;
  for (int i = 0; i < 100; ++i) table_.join(query.packet, query.query, &target, i);
  for (const InFlight::Waiter& waiter : entry->waiters) {
    ASSERT_EQ(waiter.query.qname.data(), waiter.packet.data() + 12);
    EXPECT_EQ(waiter.query.qtype, 28);
  }
}

TEST_F(InFlightTest, AnswersDifferByTypeDoAndCd) {
  ClientQuery a("example.com", 1, true);
  ClientQuery aaaa("example.com", 28, true);
  ClientQuery dnssec("example.com", 1, true, true);
  ClientQuery checking_disabled("example.com", 1, true, false, 0x10);
  for (const ClientQuery* query : {&a, &aaaa, &dnssec, &checking_disabled}) {
    EXPECT_TRUE(table_.join(query->packet, query->query, nullptr, 0).second);
  }
}

TEST_F(InFlightTest, APrefetchOwesNoOneAnAnswer) {
  ClientQuery query("example.com", 1, true);
  InFlight::Entry* entry = table_.join(query.packet, query.query, nullptr, 0).first;
  EXPECT_TRUE(entry->waiters.empty());
  EXPECT_FALSE(table_.answers_owed());
  const ReplyTarget target = udp_target("192.0.2.1", 53);
  table_.join(query.packet, query.query, &target, 0);
  EXPECT_TRUE(table_.answers_owed());
}

TEST_F(InFlightTest, DeliverHandsTheAnswerToTheHandler) {
  ClientQuery query("example.com", 1, true);
  InFlight::Entry* entry = table_.join(query.packet, query.query, nullptr, 0).first;
  UpstreamReply reply;
  reply.rcode = 2;
  InFlight::deliver(entry, reply);
  ASSERT_EQ(answered_.size(), 1u);
  EXPECT_EQ(answered_[0], entry);
  EXPECT_EQ(answer_rcode_, 2);
}

TEST_F(InFlightTest, RemovedEntryLetsTheNextQueryStartAgain) {
  ClientQuery query("example.com", 1, true);
  InFlight::Entry* entry = table_.join(query.packet, query.query, nullptr, 0).first;
  std::unique_ptr<InFlight::Entry> taken = table_.remove(entry);
  EXPECT_EQ(taken.get(), entry);
  EXPECT_EQ(table_.find(query.query), nullptr);
  EXPECT_TRUE(table_.join(query.packet, query.query, nullptr, 0).second);
}

TEST_F(InFlightTest, AnswerTimerHandsOverEntriesWithClientsWhileTheyStayInFlight) {
  ClientQuery query("example.com", 1, true);
  const ReplyTarget target = udp_target("192.0.2.1", 53);
  InFlight::Entry* entry = table_.join(query.packet, query.query, &target, 0).first;
  table_.join(query.packet, query.query, &target, 0);  // shares the running timer
  ClientQuery prefetch("example.org", 1, true);
  table_.join(prefetch.packet, prefetch.query, nullptr, 0);  // no one to answer: no timer
  run_for(50);
  ASSERT_EQ(late_.size(), 1u);
  EXPECT_EQ(late_[0], entry);
  EXPECT_EQ(table_.find(query.query), entry);
  EXPECT_EQ(entry->waiters.size(), 2u);
}

TEST_F(InFlightTest, AClientJoiningAfterTheTimerFiredGetsATimerOfItsOwn) {
  ClientQuery query("example.com", 1, true);
  const ReplyTarget target = udp_target("192.0.2.1", 53);
  InFlight::Entry* entry = table_.join(query.packet, query.query, &target, 0).first;
  run_for(50);
  ASSERT_EQ(late_.size(), 1u);
  entry->waiters.clear();  // as the handler answers them
  table_.join(query.packet, query.query, &target, 0);
  run_for(50);
  ASSERT_EQ(late_.size(), 2u);
  EXPECT_EQ(late_[1], entry);
}

TEST_F(InFlightTest, ARemovedEntrysAnswerTimerNeverFires) {
  ClientQuery query("example.com", 1, true);
  const ReplyTarget target = udp_target("192.0.2.1", 53);
  InFlight::Entry* entry = table_.join(query.packet, query.query, &target, 0).first;
  table_.remove(entry).reset();
  run_for(50);
  EXPECT_TRUE(late_.empty());
}

}  // namespace
}  // namespace dnsvagt
