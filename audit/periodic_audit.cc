#include "audit/periodic_audit.h"

#include "audit/domain_audit.h"

namespace dnsvagt {

PeriodicAudit::PeriodicAudit(std::vector<AuditDomain> domains, std::chrono::seconds interval,
                             LookupFactory make_lookup, Publish publish)
    : domains_(std::move(domains)),
      interval_(interval),
      make_lookup_(std::move(make_lookup)),
      publish_(std::move(publish)),
      thread_([this] { run(); }) {}

PeriodicAudit::~PeriodicAudit() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PeriodicAudit::run() {
  for (;;) {
    // A fresh resolver each run: the audit sees the records as they are now, not as a cache
    // kept them since the last run.
    if (std::unique_ptr<DnsLookup> lookup = make_lookup_(stopping_)) {
      AuditReport report = audit_domains(domains_, *lookup);
      if (stopping_) return;
      publish_(std::move(report));
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, interval_, [this] { return stopping_.load(); })) return;
  }
}

}  // namespace dnsvagt
