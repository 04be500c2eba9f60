#include "resolver/server.h"

#include <event2/thread.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <thread>

#include "resolver/audit_resolver.h"
#include "resolver/clock.h"
#include "resolver/logging.h"
#include "resolver/listen_socket.h"
#include "resolver/tls_context.h"
#include "resolver/trust_anchor.h"
#include "resolver/upstream.h"
#include "version.h"

namespace dnsvagt {
namespace {

std::string endpoints_text(const std::vector<Endpoint>& endpoints) {
  std::string text;
  for (const Endpoint& endpoint : endpoints) {
    if (!text.empty()) text += ", ";
    text += endpoint.to_string();
  }
  return text;
}

uint64_t monotonic_usec() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return uint64_t(now.tv_sec) * 1000000 + uint64_t(now.tv_nsec) / 1000;
}

bool needs_root_anchor(const Config& config) {
  return config.dnssec.validate && !config.dnssec.root_trust_anchor_file.empty();
}

}  // namespace

Server::Server(Config config, std::string config_path)
    : config_(std::move(config)), config_path_(std::move(config_path)) {}

Server::~Server() {
  audit_.reset();
  if (generation_) stop_generation(*generation_);
  generation_.reset();
  for (const WorkerSockets& sockets : sockets_) {
    for (int fd : sockets.udp) close(fd);
    for (int fd : sockets.tcp) close(fd);
    for (int fd : sockets.dot) close(fd);
    for (int fd : sockets.doh) close(fd);
  }
}

void Server::bind_sockets() {
  threads_ = config_.server.threads ? config_.server.threads
                                    : std::max(1u, std::thread::hardware_concurrency());
  sockets_.resize(threads_);
  for (WorkerSockets& sockets : sockets_) {
    for (const Endpoint& endpoint : config_.server.listen) {
      sockets.udp.push_back(open_udp_socket(endpoint));
      sockets.tcp.push_back(open_tcp_listener(endpoint));
    }
    for (const Endpoint& endpoint : config_.server.tls.listen) {
      sockets.dot.push_back(open_tcp_listener(endpoint));
    }
    for (const Endpoint& endpoint : config_.server.tls.doh_listen) {
      sockets.doh.push_back(open_tcp_listener(endpoint));
    }
  }
}

void Server::prepare_trust_anchor() {
  if (!needs_root_anchor(config_)) return;
  CreatedAnchor created = ensure_root_trust_anchor_file(config_.dnssec.root_trust_anchor_file);
  anchor_directory_created_ |= created.directory;
  if (created.file) {
    log_info("created root trust anchor file %s from the built-in root keys",
             config_.dnssec.root_trust_anchor_file.c_str());
  }
}

void Server::drop_privileges() {
  if (geteuid() != 0) return;
  const std::string& user = config_.server.user;
  if (user.empty()) {
    log_warning("running as root: server.user is empty");
    return;
  }
  errno = 0;
  passwd* entry = getpwnam(user.c_str());
  if (!entry) {
    throw std::runtime_error("cannot drop privileges: user \"" + user +
                             "\" (server.user) does not exist");
  }
  uid_t uid = entry->pw_uid;
  gid_t gid = entry->pw_gid;
  if (needs_root_anchor(config_)) {
    give_trust_anchor_to_user(config_.dnssec.root_trust_anchor_file, anchor_directory_created_,
                              uid, gid);
  }
  if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
    throw std::runtime_error("cannot drop privileges to user \"" + user +
                             "\": " + strerror(errno));
  }
  log_info("dropped privileges to user %s", user.c_str());
}

std::unique_ptr<Server::Generation> Server::start_generation(const Config& config) {
  auto generation = std::make_unique<Generation>();
  generation->shared = std::make_shared<WorkerShared>(config, &tcp_slots_);
  if (generation_) {
    // Sessions resume across a reload, with a new certificate too.
    for (auto context : {&WorkerShared::dot_context, &WorkerShared::doh_context}) {
      SSL_CTX* old_context = (*generation_->shared.*context).get();
      SSL_CTX* new_context = (*generation->shared.*context).get();
      if (old_context && new_context) keep_ticket_keys(old_context, new_context);
    }
  }
  const RateLimit& rate_limit = config.server.rate_limit;
  if (generation_ && generation_->shared->config.server.rate_limit == rate_limit) {
    generation->shared->rate_limiter = generation_->shared->rate_limiter;
  } else if (rate_limit.qps > 0) {
    generation->shared->rate_limiter = std::make_shared<RateLimiter>(rate_limit);
  }
  // Before the workers start: they block from their first query.
  generation->lists = start_list_updater(config, generation->shared->policy);
  // The running generation's workers answer until this one has started: use the other slots.
  generation->counter_base = generation_ && generation_->counter_base == 0 ? threads_ : 0;
  unsigned contexts = threads_ * Upstream::contexts_per_worker(config);
  for (unsigned i = 0; i < threads_; ++i) {
    size_t slot = generation->counter_base + i;
    generation->workers.push_back(std::make_unique<Worker>(
        generation->shared, sockets_[i], contexts, telemetry_->metrics(), slot,
        telemetry_->query_log_queue(slot)));
  }
  for (auto& worker : generation->workers) worker->start();
  telemetry_->generation_started(config, generation->shared);
  return generation;
}

std::unique_ptr<ListUpdater> Server::start_list_updater(const Config& config,
                                                       PublishedPolicy& target) {
  UpdaterHooks hooks;
  hooks.publish = policy_publisher(target, config.blocking, config.clients);
  hooks.log = [](LogLevel level, const std::string& message) {
    switch (level) {
      case LogLevel::error: log_error("%s", message.c_str()); break;
      case LogLevel::warning: log_warning("%s", message.c_str()); break;
      case LogLevel::info: log_info("%s", message.c_str()); break;
      case LogLevel::debug: log_debug("%s", message.c_str()); break;
    }
  };
  telemetry_->connect(hooks);  // list entries, last success, failures by reason
  auto updater = std::make_unique<ListUpdater>(config.blocking, UpdaterOptions{}, std::move(hooks));
  updater->start();
  return updater;
}

void Server::stop_generation(Generation& generation) {
  for (auto& worker : generation.workers) worker->stop();
  for (auto& worker : generation.workers) worker->join();
}

void Server::retire_generation() {
  for (auto& worker : generation_->workers) worker->stop(/*keep_connections=*/true);
  retired_ = std::move(generation_);
}

void Server::finish_retired(bool now) {
  if (!retired_) return;
  if (now) {
    stop_generation(*retired_);
  } else {
    for (auto& worker : retired_->workers) {
      if (!worker->ended()) return;
    }
    for (auto& worker : retired_->workers) worker->join();
  }
  retired_.reset();
  // The old generation's answer cache, libunbound contexts and workers were heap memory that
  // glibc keeps unless asked: a reload left 15-23 MiB resident (bench/e2e/soak.py).
  malloc_trim(0);
}

int Server::run() {
  // Signals are taken synchronously by this thread only, and every thread started from here
  // on (telemetry, list updates, audit, workers) inherits the blocked mask: a SIGHUP that came
  // while this thread is busy reloading would otherwise go to a thread that does not block it
  // and end the process.
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, signal);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  set_log_level(config_.logging.level);
  // Workers are stopped from the signal thread with event_active(): libevent needs locking.
  if (evthread_use_pthreads() != 0) throw std::runtime_error("cannot enable libevent threads");
  bind_sockets();
  prepare_trust_anchor();
  drop_privileges();
  // After dropping privileges: the query log's rotated files must be the service user's.
  telemetry_ = std::make_unique<Telemetry>(config_, threads_);

  generation_ = start_generation(config_);
  start_audit(config_);
  log_info("dnsvagt %s serving on %s%s%s%s%s (%u threads, upstream %s, DNSSEC validation %s)",
           DNSVAGT_VERSION, endpoints_text(config_.server.listen).c_str(),
           config_.server.tls.listen.empty() ? "" : ", DNS over TLS on ",
           endpoints_text(config_.server.tls.listen).c_str(),
           config_.server.tls.doh_listen.empty() ? "" : ", DNS over HTTPS on ",
           endpoints_text(config_.server.tls.doh_listen).c_str(), threads_,
           to_string(config_.upstream.mode), config_.dnssec.validate ? "on" : "off");
  sd_notify(0, "READY=1");
  if (sd_watchdog_enabled(0, &watchdog_usec_) <= 0) watchdog_usec_ = 0;

  uint64_t tick_usec = watchdog_usec_ ? watchdog_usec_ / 2 : 1000000;
  timespec tick = {static_cast<time_t>(tick_usec / 1000000),
                   static_cast<long>(tick_usec % 1000000 * 1000)};
  for (;;) {
    siginfo_t info;
    int signal = sigtimedwait(&signals, &info, &tick);
    if (signal == SIGHUP) {
      reload();
    } else if (signal == SIGTERM || signal == SIGINT) {
      log_info("received %s: finishing queries in flight and stopping", strsignal(signal));
      break;
    }
    finish_retired(false);
    feed_watchdog();
  }
  sd_notify(0, "STOPPING=1");
  audit_.reset();
  finish_retired(true);
  stop_generation(*generation_);
  generation_.reset();
  log_info("stopped");
  return 0;
}

void Server::reload() {
  std::string notify = "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec());
  sd_notify(0, notify.c_str());
  const char* source = config_path_.empty() ? "built-in defaults" : config_path_.c_str();
  log_info("SIGHUP: reloading the configuration from %s", source);
  try {
    Config next = config_path_.empty() ? default_config() : load_config(config_path_);
    // Sockets and privileges were set up as root at start; these need a restart.
    if (next.server.listen != config_.server.listen ||
        next.server.tls.listen != config_.server.tls.listen ||
        next.server.tls.doh_listen != config_.server.tls.doh_listen ||
        next.server.threads != config_.server.threads || next.server.user != config_.server.user) {
      log_warning("server.listen, server.tls.listen, server.tls.doh_listen, server.threads and "
                  "server.user changes take effect at the next restart; keeping the running "
                  "values");
      next.server.listen = config_.server.listen;
      next.server.tls.listen = config_.server.tls.listen;
      next.server.tls.doh_listen = config_.server.tls.doh_listen;
      next.server.threads = config_.server.threads;
      next.server.user = config_.server.user;
    }
    if (needs_root_anchor(next)) ensure_root_trust_anchor_file(next.dnssec.root_trust_anchor_file);
    telemetry_->reload(next);
    // The new workers serve the same sockets before the old ones stop: no query goes unread.
    // One list updater per cache_dir at a time: the old one stops first (the old workers keep
    // its last policy) and comes back if the new generation cannot start.
    generation_->lists.reset();
    finish_retired(true);
    std::unique_ptr<Generation> next_generation;
    try {
      next_generation = start_generation(next);
    } catch (...) {
      generation_->lists = start_list_updater(config_, generation_->shared->policy);
      throw;
    }
    retire_generation();
    generation_ = std::move(next_generation);
    config_ = std::move(next);
    set_log_level(config_.logging.level);
    start_audit(config_);
    log_info("reloaded the configuration (answer cache started empty)");
  } catch (const std::exception& error) {
    log_error("reload failed, still serving with the previous configuration: %s", error.what());
  }
  sd_notify(0, "READY=1");
}

void Server::start_audit(const Config& config) {
  audit_.reset();
  Metrics& metrics = telemetry_->metrics();
  if (config.audit.domains != audited_domains_) metrics.set_domain_audit(nullptr);
  audited_domains_.clear();
  if (config.audit.domains.empty() || config.audit.interval.count() == 0) return;
  audited_domains_ = config.audit.domains;
  auto make_lookup = [config](const std::atomic<bool>& stopping) -> std::unique_ptr<DnsLookup> {
    try {
      return std::make_unique<AuditResolver>(config, &stopping);
    } catch (const std::exception& error) {
      log_error("own-domain audit skipped: %s", error.what());
      return nullptr;
    }
  };
  auto publish = [&metrics](AuditReport report) {
    size_t not_met = 0, cannot_tell = 0;
    for (const DomainResult& domain : report.domains) {
      for (const RequirementResult& result : domain.requirements) {
        not_met += result.verdict == Verdict::not_met;
        cannot_tell += result.verdict == Verdict::cannot_tell;
      }
    }
    log_info("own-domain audit of %zu domains: %zu requirements not met, %zu cannot tell",
             report.domains.size(), not_met, cannot_tell);
    metrics.set_domain_audit(std::make_shared<const AuditReport>(std::move(report)));
  };
  audit_ = std::make_unique<PeriodicAudit>(config.audit.domains, config.audit.interval,
                                           std::move(make_lookup), std::move(publish));
}

// Pings systemd only while every worker's loop is turning, so a stuck worker gets us restarted.
void Server::feed_watchdog() {
  if (!watchdog_usec_) return;
  int64_t oldest_allowed = monotonic_seconds() - std::max<int64_t>(3, watchdog_usec_ / 1000000);
  for (auto& worker : generation_->workers) {
    if (worker->last_heartbeat() < oldest_allowed) {
      if (!watchdog_warned_) log_error("a worker thread stopped responding; not feeding the watchdog");
      watchdog_warned_ = true;
      return;
    }
  }
  watchdog_warned_ = false;
  sd_notify(0, "WATCHDOG=1");
}

}  // namespace dnsvagt
