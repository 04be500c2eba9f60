#include "resolver/upstream.h"

#include <event2/event.h>
#include <gtest/gtest.h>

namespace dnsvagt {
namespace {

// Reasons as libunbound 1.17 (val-log-level 2) words them.
TEST(UpstreamTest, BogusReasonsMapToTheirEdeCodes) {
  EXPECT_EQ(ede_code_for_bogus("validation failure <a.example. A IN>: signature expired from "
                               "127.0.0.1 for key example. while building chain of trust"),
            7);
  EXPECT_EQ(ede_code_for_bogus("validation failure <a.example. A IN>: signature before "
                               "inception date from 127.0.0.1"),
            8);
  EXPECT_EQ(ede_code_for_bogus("validation failure <a.example. A IN>: no DNSKEY rrset for "
                               "trust anchor example."),
            9);
  // A DS in the parent over an unsigned child: the Unbound daemon answers EDE 9 for it.
  EXPECT_EQ(ede_code_for_bogus("validation failure <www.unsigned-ds.world.test. A IN>: No DNSKEY "
                               "record for key unsigned-ds.world.test. while building chain of "
                               "trust"),
            9);
  EXPECT_EQ(ede_code_for_bogus("validation failure <a.example. A IN>: no signatures from "
                               "127.0.0.1"),
            10);
  EXPECT_EQ(ede_code_for_bogus("validation failure <b.example. A IN>: no NSEC records"), 12);
  EXPECT_EQ(ede_code_for_bogus("validation failure <a.example. A IN>: signature crypto failed"),
            6);
  EXPECT_EQ(ede_code_for_bogus(""), 6);
}

TEST(UpstreamTest, FailuresMapToReachabilityEdeCodes) {
  EXPECT_EQ(ede_code_for_failure(2), 22);
  EXPECT_EQ(ede_code_for_failure(5), 23);
}

TEST(UpstreamTest, ContextsStartWithoutRootAnchorAndAnswerLocalData) {
  Config config = default_config();
  config.dnssec.root_trust_anchor_file = "";
  event_base* base = event_base_new();
  {
    Upstream upstream(base, config, 2);
    struct Result {
      bool called = false;
      UpstreamReply reply;
    } result;
    // localhost. is answered from libunbound's built-in local zone, before resolve() returns.
    ASSERT_TRUE(upstream.resolve("localhost.", 1, 1, false, false,
                                 [](void* r, const UpstreamReply& reply) {
                                   static_cast<Result*>(r)->called = true;
                                   static_cast<Result*>(r)->reply = reply;
                                 },
                                 &result));
    EXPECT_TRUE(result.called);
    EXPECT_EQ(result.reply.rcode, 0);
    EXPECT_EQ(result.reply.status, DnssecStatus::insecure);
  }
  event_base_free(base);
}

TEST(UpstreamTest, UnreadableTrustAnchorFileFailsAtConstruction) {
  Config config = default_config();
  config.dnssec.root_trust_anchor_file = "";
  config.dnssec.trust_anchor_files = {"/nonexistent/dnsvagt-test.key"};
  event_base* base = event_base_new();
  EXPECT_THROW(Upstream(base, config, 2), std::runtime_error);
  event_base_free(base);
}

}  // namespace
}  // namespace dnsvagt
