// PeriodicAudit: the server's audit of audit.domains on a thread of its own, once at start and
// then every audit.interval; each finished run goes to `publish` (the metrics and compliance page).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "audit/audit_report.h"
#include "audit/dns_lookup.h"
#include "config/config.h"

namespace dnsvagt {

class PeriodicAudit {
 public:
  // Makes the lookup of one run on the audit thread; its lookups must give up once `stopping`
  // is set. Returns null when it cannot (the run is skipped; the factory says why).
  using LookupFactory =
      std::function<std::unique_ptr<DnsLookup>(const std::atomic<bool>& stopping)>;
  using Publish = std::function<void(AuditReport report)>;

  // Starts the thread; `interval` > 0.
  PeriodicAudit(std::vector<AuditDomain> domains, std::chrono::seconds interval,
                LookupFactory make_lookup, Publish publish);
  // Stops: a run in progress ends at its next lookup and is not published.
  ~PeriodicAudit();
  PeriodicAudit(const PeriodicAudit&) = delete;
  PeriodicAudit& operator=(const PeriodicAudit&) = delete;

 private:
  void run();

  const std::vector<AuditDomain> domains_;
  const std::chrono::seconds interval_;
  const LookupFactory make_lookup_;
  const Publish publish_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;  // last: starts once the members above are set
};

}  // namespace dnsvagt
