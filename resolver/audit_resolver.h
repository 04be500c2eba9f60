// AuditResolver: the own-domain audit's DnsLookup on dnsvagt's own validating resolver (an
// Upstream with the server's forwarders and trust anchors), one lookup at a time with a deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "audit/dns_lookup.h"
#include "config/config.h"

struct event_base;

namespace dnsvagt {

class Upstream;
struct UpstreamReply;

class AuditResolver : public DnsLookup {
 public:
  // Starts libunbound as the workers do (trust anchors loaded now). A lookup not answered
  // within audit.timeout, or asked once `stopping` is set, is a timeout. Throws
  // std::runtime_error naming what failed (a trust anchor that cannot be loaded, say).
  explicit AuditResolver(const Config& config, const std::atomic<bool>* stopping = nullptr);
  ~AuditResolver() override;
  AuditResolver(const AuditResolver&) = delete;
  AuditResolver& operator=(const AuditResolver&) = delete;

  LookupResult lookup(const std::string& name, uint16_t type) override;

 private:
  struct Pending;
  static void on_reply(void* pending, const UpstreamReply& reply);

  event_base* base_ = nullptr;
  std::unique_ptr<Upstream> upstream_;
  const std::chrono::milliseconds timeout_;
  const std::atomic<bool>* stopping_;
  // Every lookup's state until the end: a late reply to one that timed out lands in its own.
  std::vector<std::unique_ptr<Pending>> pending_;
};

// `config` for a one-off audit by another process than the server (`dnsvagt audit`): the root
// trust anchor file is read as plain anchors rather than kept up to date (RFC 5011), so that
// the command, run as root, never rewrites the server's file; an unreadable or missing file
// gives way to the built-in root keys.
Config with_read_only_root_anchor(Config config);

}  // namespace dnsvagt
