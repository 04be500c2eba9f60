// PeriodicAudit: a run at start published with every domain, none when the lookup cannot be
// made, and a stop that does not wait for the interval or publish a run cut short.
#include "audit/periodic_audit.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

namespace dnsvagt {
namespace {

// Every name answers SERVFAIL at once, or, when `block` is set, only once stopping is set.
class FailingLookup : public DnsLookup {
 public:
  FailingLookup(const std::atomic<bool>& stopping, bool block)
      : stopping_(stopping), block_(block) {}
  LookupResult lookup(const std::string&, uint16_t) override {
    while (block_ && !stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return {LookupOutcome::failed, Security::unknown, {}, "SERVFAIL"};
  }

 private:
  const std::atomic<bool>& stopping_;
  bool block_;
};

struct Published {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<AuditReport> reports;
  int lookups_made = 0;

  bool wait_for(size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(30),
                            [&] { return reports.size() >= count; });
  }
};

std::vector<AuditDomain> domains() {
  return {AuditDomain{"a.dk", {}, {"s1"}, false}, AuditDomain{"b.dk", {}, {}, false}};
}

std::unique_ptr<PeriodicAudit> start(Published& published, bool make_lookup, bool block) {
  return std::make_unique<PeriodicAudit>(
      domains(), std::chrono::hours(1),
      [&published, make_lookup, block](const std::atomic<bool>& stopping)
          -> std::unique_ptr<DnsLookup> {
        std::lock_guard lock(published.mutex);
        ++published.lookups_made;
        published.changed.notify_all();
        if (!make_lookup) return nullptr;
        return std::make_unique<FailingLookup>(stopping, block);
      },
      [&published](AuditReport report) {
        std::lock_guard lock(published.mutex);
        published.reports.push_back(std::move(report));
        published.changed.notify_all();
      });
}

TEST(PeriodicAudit, AuditsEveryDomainAtStart) {
  Published published;
  auto audit = start(published, true, false);
  ASSERT_TRUE(published.wait_for(1));
  audit.reset();  // stops within the hour's wait
  ASSERT_EQ(published.reports.size(), 1u);
  const AuditReport& report = published.reports[0];
  ASSERT_EQ(report.domains.size(), 2u);
  EXPECT_EQ(report.domains[0].domain, "a.dk");
  EXPECT_EQ(report.domains[0].requirements[0].verdict, Verdict::met);  // 17 needs no lookup
  EXPECT_EQ(report.domains[0].requirements[1].verdict, Verdict::cannot_tell);
  EXPECT_FALSE(report.any_not_met());
}

TEST(PeriodicAudit, NoLookupNoReport) {
  Published published;
  auto audit = start(published, false, false);
  {
    std::unique_lock lock(published.mutex);
    ASSERT_TRUE(published.changed.wait_for(lock, std::chrono::seconds(30),
                                           [&] { return published.lookups_made == 1; }));
  }
  audit.reset();
  EXPECT_TRUE(published.reports.empty());
}

TEST(PeriodicAudit, ARunCutShortByTheStopIsNotPublished) {
  Published published;
  auto audit = start(published, true, true);
  {
    std::unique_lock lock(published.mutex);
    ASSERT_TRUE(published.changed.wait_for(lock, std::chrono::seconds(30),
                                           [&] { return published.lookups_made == 1; }));
  }
  audit.reset();
  EXPECT_TRUE(published.reports.empty());
}

}  // namespace
}  // namespace dnsvagt
