// Server: the running dnsvagt process. Binds the listening sockets, drops root, runs one
// Worker per thread and the periodic own-domain audit, and handles signals: SIGTERM/SIGINT
// drain and stop, SIGHUP reloads the config by starting fresh workers on the same sockets.
// Talks to systemd via sd_notify.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "audit/periodic_audit.h"
#include "blocklists/list_updater.h"
#include "config/config.h"
#include "resolver/telemetry.h"
#include "resolver/worker.h"

namespace dnsvagt {

class Server {
 public:
  // `config_path` is re-read on SIGHUP; "" means the built-in defaults.
  Server(Config config, std::string config_path);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves until SIGTERM or SIGINT, then returns 0. Throws std::runtime_error when it cannot
  // start (cannot bind, no such user, trust anchor not loadable): exit code 2.
  int run();

 private:
  // One config's workers; a reload starts a new generation before stopping the old one.
  struct Generation {
    std::shared_ptr<WorkerShared> shared;
    std::vector<std::unique_ptr<Worker>> workers;
    // Keeps shared->policy current; declared last so it stops first.
    std::unique_ptr<ListUpdater> lists;
    size_t counter_base = 0;  // its workers use counter slots counter_base + i
  };

  void bind_sockets();
  void prepare_trust_anchor();
  void drop_privileges();
  std::unique_ptr<Generation> start_generation(const Config& config);
  // Loads every list (cache, local files) into `target` and starts their background updates.
  std::unique_ptr<ListUpdater> start_list_updater(const Config& config, PublishedPolicy& target);
  static void stop_generation(Generation& generation);
  // Hands the running generation's open connections time to end (Worker::stop with
  // keep_connections) while the next generation serves everything new.
  void retire_generation();
  // Frees the retired generation once its workers have ended; with `now`, drains and frees
  // it at once (a reload's new workers take its counter slots, a stop ends everything).
  void finish_retired(bool now);
  void reload();
  void feed_watchdog();
  // Replaces the periodic audit with one of `config` (none without audit.domains or with
  // audit.interval 0); the results shown stay until its first run unless the domains changed.
  void start_audit(const Config& config);

  Config config_;
  std::string config_path_;
  unsigned threads_ = 1;
  std::vector<WorkerSockets> sockets_;  // one set per worker thread
  bool anchor_directory_created_ = false;
  TcpSlots tcp_slots_;
  std::unique_ptr<Telemetry> telemetry_;  // outlives every generation
  std::unique_ptr<Generation> generation_;
  std::unique_ptr<Generation> retired_;  // a reload's old workers, serving their connections
  std::unique_ptr<PeriodicAudit> audit_;  // publishes to telemetry_: declared after it
  std::vector<AuditDomain> audited_domains_;
  uint64_t watchdog_usec_ = 0;
  bool watchdog_warned_ = false;
};

}  // namespace dnsvagt
