// ListUpdater: keeps every configured list current in the background. Feeds are re-fetched on
// their own refresh (with jitter, backoff after failures), local files re-read when they change;
// a version that passes the gates is stored and published, a rejected one never replaces the
// last good version. A new version goes through the cache directory (downloaded or copied
// there, judged and compiled from there), never whole through memory. Start-up loads lists
// from the on-disk cache and never waits for the network.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "blocklists/feed_fetcher.h"
#include "blocklists/list_status.h"
#include "blocklists/list_store.h"
#include "blocklists/policy.h"
#include "config/config.h"

namespace dnsvagt {

struct UpdaterOptions {
  // Time limits of every download (max_size and ca_file come from each list).
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds total_timeout{600};
  uint32_t low_speed_bytes = 100;
  std::chrono::seconds low_speed_time{30};
  // How often local files are checked for a change (mtime, size, inode).
  std::chrono::milliseconds file_poll_interval{5000};
  // The first retry after a failed fetch; doubles per failure up to the list's refresh.
  std::chrono::milliseconds first_retry{30000};
  double jitter = 0.1;  // refresh and retry delays vary by up to +-this share
};

struct UpdaterHooks {
  // Required. Builds and swaps in the policy from every configured list, in config order
  // (block lists, then allow lists): each names its good version's file, or has a note that
  // it has none yet; `entries` is what their good versions had when accepted. Called on
  // start() and after each accepted update, never concurrently, never on a query thread.
  std::function<void(std::vector<PolicyList>&& lists, uint64_t entries)> publish;
  // Optional: for metrics (Metrics::list_update_succeeded / list_update_failed).
  std::function<void(const std::string& name, uint64_t entries, WallClock::time_point when)>
      succeeded;
  std::function<void(const std::string& name, UpdateFailure reason, WallClock::time_point when)>
      failed;
  // Optional: one line per event; default: stderr. Levels as config's LogLevel.
  std::function<void(LogLevel level, const std::string& message)> log;
};

class ListUpdater {
 public:
  ListUpdater(BlockingConfig config, UpdaterOptions options, UpdaterHooks hooks);
  ~ListUpdater();  // stops
  ListUpdater(const ListUpdater&) = delete;
  ListUpdater& operator=(const ListUpdater&) = delete;

  // Loads every list from the cache (and local files from disk), publishes, and starts the
  // background updates. Throws StoreError if cache_dir cannot be created.
  void start();
  // Stops the background updates, aborting downloads in flight. Idempotent.
  void stop();

  // Every list's status, in config order (block lists, then allow lists).
  std::vector<ListStatus> statuses() const;
  // The version list `index` (as in statuses()) uses; none until a good version is known.
  std::optional<StoredListInfo> version_in_use(size_t index) const;

 private:
  struct FileSignature {
    bool exists = false;
    uint64_t device = 0, inode = 0, size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileSignature&) const = default;
  };
  static FileSignature stat_file(const std::string& path);
  struct List {
    ListSource source;
    bool allow = false;
    // Set when its stored version turned out damaged: fetch it again, without validators.
    std::atomic<bool> refetch{false};
    // Owned by the list's thread after start():
    std::optional<StoredListInfo> good;  // the version in use (also on disk)
    unsigned failures_in_row = 0;
    std::optional<FileSignature> file_seen;
    std::thread thread;
    // Guarded by status_mutex_, for other threads (publishing, statuses()):
    ListStatus status;
    std::optional<StoredListInfo> in_use;  // `good` while it is usable
  };

  // Takes the list's cached version as its good one; false if there is none or it is damaged.
  bool load_cached(List& list);
  // The store's check of the list's good version, with a store that cannot be read counted as
  // a damaged version.
  ListStore::Loaded check_stored(const List& list);
  void run(List& list);
  // When a feed with a good version fetched at `checked_at` is due next.
  std::chrono::steady_clock::time_point first_fetch_due(const List& list);
  // One fetch of a feed; true if it confirmed a good version.
  bool update_feed(List& list);
  // Copies a local file into the store's incoming file if it changed; true if a new version
  // was accepted.
  bool update_file(List& list);
  // Gates the new version in `file` (the store's incoming file, `size` bytes with checksum
  // `sha256`) and hands it to the store as the good or the rejected version; true if it was
  // accepted as the list's good version.
  bool offer(List& list, const std::string& file, uint64_t size, const std::string& sha256,
             const Validators& validators, WallClock::time_point when);
  // Records that the source confirmed the version in use, and keeps that on disk.
  void confirm_unchanged(List& list, const Validators& validators, WallClock::time_point when);
  // Publishes the stored good version of every list.
  void publish();
  void publish_locked();  // publish_mutex_ held
  // Publishes after an accepted update (with any others accepted meanwhile).
  void publish_update();
  void record_success(List& list, WallClock::time_point when);
  void record_failure(List& list, UpdateFailure reason, const std::string& error,
                      WallClock::time_point when);
  void record_attempt(List& list, WallClock::time_point when);
  std::chrono::milliseconds jittered(std::chrono::milliseconds delay);
  void log(LogLevel level, const std::string& message) const;

  const BlockingConfig config_;
  const UpdaterOptions options_;
  const UpdaterHooks hooks_;
  std::unique_ptr<ListStore> store_;
  std::vector<std::unique_ptr<List>> lists_;  // block lists, then allow lists

  std::atomic<bool> stopping_{false};
  std::mutex wait_mutex_;
  std::condition_variable wake_;
  // One policy build, or gate check of a new version, at a time: peak memory old + new.
  std::mutex publish_mutex_;
  std::mutex pending_mutex_;
  bool publish_pending_ = false;  // an accepted version is not yet published
  std::mutex random_mutex_;
  std::mt19937_64 random_;

  mutable std::mutex status_mutex_;  // guards every List's status and in_use
};

// The usual UpdaterHooks::publish: compiles the lists into a Policy, parsing each file a piece
// at a time straight into it (so a swap peaks at old policy + new policy), and swaps it into
// `target`, answering for the client `groups` too.
std::function<void(std::vector<PolicyList>&&, uint64_t)> policy_publisher(
    PublishedPolicy& target, const BlockingConfig& config,
    const std::vector<ClientGroup>& groups = {});

}  // namespace dnsvagt
