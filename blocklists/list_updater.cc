#include "blocklists/list_updater.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "blocklists/incoming_file.h"
#include "blocklists/list_gates.h"
#include "blocklists/list_parser.h"
#include "blocklists/list_source.h"

namespace dnsvagt {
namespace {

constexpr int kUpdaterNice = 10;

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

std::string describe(const ListSource& source) {
  return "list " + source.name + " (" + (source.url.empty() ? source.file : source.url) + ")";
}

// Copies the local file at `path` into `copy` 64 KiB at a time; false (and `error` set) if it
// cannot be read or copied. The copy, not the file an operator may change meanwhile, is what
// is judged, stored and compiled.
bool copy_local_file(const std::string& path, IncomingFile& copy, std::string& error) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rbe"), &std::fclose);
  if (!file) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  char buffer[1 << 16];
  while (size_t got = std::fread(buffer, 1, sizeof buffer, file.get())) {
    if (!copy.append(std::string_view(buffer, got))) {
      error = copy.too_large() ? "grew past max_size while read" : copy.error();
      return false;
    }
  }
  if (std::ferror(file.get())) {
    error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  if (!copy.finish()) {
    error = copy.error();
    return false;
  }
  return true;
}

// Removes a new version's file however its update ends: once the store has taken the file
// (renamed it) there is nothing left to remove.
class IncomingCleanup {
 public:
  explicit IncomingCleanup(std::string path) : path_(std::move(path)) {}
  ~IncomingCleanup() { ::unlink(path_.c_str()); }
  IncomingCleanup(const IncomingCleanup&) = delete;
  IncomingCleanup& operator=(const IncomingCleanup&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

ListUpdater::ListUpdater(BlockingConfig config, UpdaterOptions options, UpdaterHooks hooks)
    : config_(std::move(config)),
      options_(options),
      hooks_(std::move(hooks)),
      random_(std::random_device{}()) {
  for (bool allow : {false, true}) {
    for (const ListSource& source : allow ? config_.allow : config_.lists) {
      auto list = std::make_unique<List>();
      list->source = source;
      list->allow = allow;
      list->status = configured_status(source, allow);
      lists_.push_back(std::move(list));
    }
  }
}

ListUpdater::~ListUpdater() { stop(); }

void ListUpdater::start() {
  store_ = std::make_unique<ListStore>(config_.cache_dir);
  store_->remove_temp_files();
  for (const auto& list : lists_) {
    load_cached(*list);
    if (!list->source.file.empty()) update_file(*list);
  }
  publish();
  for (auto& list : lists_) {
    List* target = list.get();
    list->thread = std::thread([this, target] { run(*target); });
  }
}

void ListUpdater::stop() {
  {
    std::lock_guard lock(wait_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& list : lists_) {
    if (list->thread.joinable()) list->thread.join();
  }
}

std::vector<ListStatus> ListUpdater::statuses() const {
  std::lock_guard lock(status_mutex_);
  std::vector<ListStatus> statuses;
  for (const auto& list : lists_) statuses.push_back(list->status);
  return statuses;
}

std::optional<StoredListInfo> ListUpdater::version_in_use(size_t index) const {
  std::lock_guard lock(status_mutex_);
  return lists_.at(index)->in_use;
}

ListStore::Loaded ListUpdater::check_stored(const List& list) {
  try {
    return store_->check(list.source.name);
  } catch (const StoreError& error) {
    ListStore::Loaded damaged;
    damaged.status = ListStore::LoadStatus::damaged;
    damaged.problem = error.what();
    return damaged;
  }
}

bool ListUpdater::load_cached(List& list) {
  ListStore::Loaded loaded = check_stored(list);
  if (loaded.status == ListStore::LoadStatus::missing) return false;
  if (loaded.status == ListStore::LoadStatus::damaged) {
    record_failure(list, UpdateFailure::io, "cached copy unusable: " + loaded.problem,
                   WallClock::now());
    return false;
  }
  const std::string& source = list.source.url.empty() ? list.source.file : list.source.url;
  std::string outdated;
  if (loaded.info.source != source) {
    outdated = "is from " + loaded.info.source;
  } else if (!list.source.sha256.empty() && loaded.info.sha256 != list.source.sha256) {
    outdated = "is not the pinned sha256";
  }
  if (!outdated.empty()) {
    // The config now names another source or content: serve this copy until that one is
    // fetched, at once and unconditionally (a 304 would confirm this copy).
    log(LogLevel::info, describe(list.source) + ": cached copy " + outdated);
    loaded.info.validators = {};
    loaded.info.checked_at = {};
  }
  list.good = loaded.info;
  record_success(list, loaded.info.checked_at);
  return true;
}

void ListUpdater::run(List& list) {
  // Parsing and building a million-entry policy takes a core for about a second: at a lower
  // priority than the workers it never delays a query, even where both share one core.
  // (On Linux a nice value is per thread; 0 = this thread.) Failing to lower it only costs
  // that guarantee, so the result is not checked.
  (void)setpriority(PRIO_PROCESS, 0, kUpdaterNice);
  const bool remote = !list.source.url.empty();
  SteadyClock::time_point due =
      remote ? first_fetch_due(list) : SteadyClock::now() + options_.file_poll_interval;
  for (;;) {
    {
      std::unique_lock lock(wait_mutex_);
      wake_.wait_until(lock, due, [&] { return stopping_.load() || list.refetch.load(); });
    }
    if (stopping_) return;
    if (list.refetch.exchange(false)) {
      list.good.reset();
      list.file_seen.reset();
    }
    milliseconds delay = options_.file_poll_interval;
    if (remote) {
      const milliseconds refresh = list.source.refresh;
      if (update_feed(list)) {
        list.failures_in_row = 0;
        delay = jittered(refresh);
      } else if (!stopping_) {
        milliseconds backoff = options_.first_retry;
        for (unsigned i = 0; i < list.failures_in_row && backoff < refresh; ++i) backoff *= 2;
        ++list.failures_in_row;
        delay = jittered(std::min(backoff, refresh));
      }
    } else if (update_file(list)) {
      publish_update();
    }
    due = SteadyClock::now() + delay;
  }
}

SteadyClock::time_point ListUpdater::first_fetch_due(const List& list) {
  const SteadyClock::time_point now = SteadyClock::now();
  if (!list.good) return now;
  // A restart does not re-fetch a feed that was checked less than a refresh ago.
  auto age = std::chrono::duration_cast<milliseconds>(WallClock::now() - list.good->checked_at);
  milliseconds wait = jittered(list.source.refresh) - age;
  return wait > milliseconds(0) ? now + wait : now;
}

bool ListUpdater::update_feed(List& list) {
  const WallClock::time_point now = WallClock::now();
  record_attempt(list, now);
  FetchLimits limits;
  limits.connect_timeout = options_.connect_timeout;
  limits.total_timeout = options_.total_timeout;
  limits.low_speed_bytes = options_.low_speed_bytes;
  limits.low_speed_time = options_.low_speed_time;
  limits.max_size = list.source.max_size;
  limits.ca_file = list.source.ca_file;
  limits.sha256 = list.source.sha256;
  // The download goes to disk, never whole into memory: a new version that arrives while
  // another list's policy is being built adds nothing to that build's peak.
  const IncomingCleanup incoming(store_->incoming_path(list.source.name));
  FetchResult result = fetch_feed(list.source.url, list.good ? list.good->validators : Validators{},
                                  limits, incoming.path(), &stopping_);
  if (stopping_) return false;
  switch (result.outcome) {
    case FetchResult::Outcome::failed:
      record_failure(list, result.failure, result.error, now);
      return false;
    case FetchResult::Outcome::not_modified:
      if (!list.good) {
        record_failure(list, UpdateFailure::http_status, "304 Not Modified to an unconditional request",
                       now);
        return false;
      }
      confirm_unchanged(list, result.validators, now);
      return true;
    case FetchResult::Outcome::fetched:
      break;
  }
  if (list.good && result.sha256 == list.good->sha256) {
    confirm_unchanged(list, result.validators, now);
    return true;
  }
  if (!offer(list, incoming.path(), result.size, result.sha256, result.validators, now)) {
    return false;
  }
  publish_update();
  return true;
}

bool ListUpdater::update_file(List& list) {
  const FileSignature seen = stat_file(list.source.file);
  if (list.file_seen && *list.file_seen == seen) return false;
  list.file_seen = seen;
  const WallClock::time_point now = WallClock::now();
  record_attempt(list, now);
  if (seen.exists && seen.size > list.source.max_size) {
    record_failure(list, UpdateFailure::too_large,
                   std::to_string(seen.size) + " bytes, more than max_size", now);
    return false;
  }
  if (!seen.exists) {
    record_failure(list, UpdateFailure::io, "no such file", now);
    return false;
  }
  const IncomingCleanup incoming(store_->incoming_path(list.source.name));
  IncomingFile copy(incoming.path(), list.source.max_size);
  std::string error;
  if (!copy_local_file(list.source.file, copy, error)) {
    if (!copy.too_large()) list.file_seen.reset();  // an I/O failure (disk full): poll again
    record_failure(list, copy.too_large() ? UpdateFailure::too_large : UpdateFailure::io, error,
                   now);
    return false;
  }
  if (list.good && copy.sha256() == list.good->sha256) {
    confirm_unchanged(list, {}, now);
    return false;
  }
  return offer(list, incoming.path(), copy.size(), copy.sha256(), {}, now);
}

bool ListUpdater::offer(List& list, const std::string& file, uint64_t size,
                        const std::string& sha256, const Validators& validators,
                        WallClock::time_point when) {
  // Judged by a count of its entries (no names kept), read from the file a piece at a time
  // while no policy is being built: the counter is freed before this version is compiled
  // from the store.
  std::lock_guard publish_lock(publish_mutex_);
  std::optional<uint64_t> last_entries;
  if (list.good) last_entries = list.good->entries;
  EntryCounter counter(list.good ? list.good->entries : size / 16);
  ParseStats stats;
  try {
    stats = parse_list_file(file, list.source.format, counter);
  } catch (const std::runtime_error& error) {
    list.file_seen.reset();  // not judged: a local file's next poll tries this version again
    record_failure(list, UpdateFailure::io, error.what(), when);
    return false;
  }
  GateVerdict verdict = check_list_gates(stats, list.source, last_entries);
  if (!verdict.accepted()) {
    std::string kept;
    try {
      store_->keep_rejected(list.source.name, file);
      kept = "; kept as " + store_->rejected_path(list.source.name);
    } catch (const StoreError& error) {
      kept = "; not kept: " + std::string(error.what());
    }
    record_failure(list, *verdict.failure, "rejected: " + verdict.detail + kept, when);
    return false;
  }
  StoredListInfo info;
  info.source = list.source.url.empty() ? list.source.file : list.source.url;
  info.validators = validators;
  info.fetched_at = when;
  info.checked_at = when;
  info.entries = stats.entries;
  info.size = size;
  info.sha256 = sha256;
  try {
    store_->save_file(list.source.name, file, info);
    list.good = info;
  } catch (const StoreError& error) {
    list.file_seen.reset();  // good but not stored (disk full): the next poll tries again
    record_failure(list, UpdateFailure::io, std::string("cannot store: ") + error.what(), when);
    return false;
  }
  log(LogLevel::info, describe(list.source) + " updated: " + stats.summary());
  record_success(list, when);
  return true;
}

void ListUpdater::confirm_unchanged(List& list, const Validators& validators,
                                    WallClock::time_point when) {
  if (!validators.empty()) list.good->validators = validators;
  list.good->checked_at = when;
  try {
    store_->save_info(list.source.name, *list.good);
  } catch (const StoreError& error) {
    // The check itself succeeded; only its time is not kept across a restart.
    log(LogLevel::warning, describe(list.source) + ": cannot store check time: " + error.what());
  }
  log(LogLevel::debug, describe(list.source) + " unchanged");
  record_success(list, when);
}

void ListUpdater::publish_update() {
  {
    std::lock_guard lock(pending_mutex_);
    publish_pending_ = true;
  }
  // Updates accepted while a policy is being built are published together by the next
  // build: N lists fetched at once cost one or two builds, not N.
  std::lock_guard lock(publish_mutex_);
  {
    std::lock_guard pending_lock(pending_mutex_);
    if (!publish_pending_) return;
    publish_pending_ = false;
  }
  publish_locked();
}

void ListUpdater::publish() {
  std::lock_guard lock(publish_mutex_);
  publish_locked();
}

void ListUpdater::publish_locked() {
  std::vector<PolicyList> lists(lists_.size());
  uint64_t entries = 0;
  for (size_t i = 0; i < lists_.size(); ++i) {
    List& list = *lists_[i];
    PolicyList& published = lists[i];
    published.name = list.source.name;
    published.allow_list = list.allow;
    published.format = list.source.format;
    published.path = list.source.url.empty() ? list.source.file
                                             : list_cache_path(config_.cache_dir, list.source.name);
    published.note = "no good version yet";
    {
      std::lock_guard status_lock(status_mutex_);
      if (!list.in_use) continue;  // no good version: nothing on disk to use
    }
    // Every list is compiled from its stored copy, verified here and parsed by the publisher a
    // piece at a time: between updates only the policy itself holds the entries.
    const ListStore::Loaded checked = check_stored(list);
    if (checked.status == ListStore::LoadStatus::ok) {
      published.path = store_->list_path(list.source.name);
      published.note.clear();
      entries += checked.info.entries;
    } else if (checked.status == ListStore::LoadStatus::damaged) {
      {
        std::lock_guard status_lock(status_mutex_);
        list.in_use.reset();
      }
      record_failure(list, UpdateFailure::io, "cached copy unusable: " + checked.problem,
                     WallClock::now());
      {
        std::lock_guard wait_lock(wait_mutex_);  // so run() cannot miss the flag
        list.refetch = true;
      }
      wake_.notify_all();
    }
  }
  try {
    hooks_.publish(std::move(lists), entries);
  } catch (const std::exception& error) {
    log(LogLevel::error, std::string("cannot publish the lists, the previous policy stays: ") +
                             error.what());
  }
}

void ListUpdater::record_attempt(List& list, WallClock::time_point when) {
  std::lock_guard lock(status_mutex_);
  list.status.last_attempt = when;
}

void ListUpdater::record_success(List& list, WallClock::time_point when) {
  {
    std::lock_guard lock(status_mutex_);
    list.status.succeeded(list.good->entries, when);
    list.in_use = list.good;
  }
  if (hooks_.succeeded) hooks_.succeeded(list.source.name, list.good->entries, when);
}

void ListUpdater::record_failure(List& list, UpdateFailure reason, const std::string& error,
                                 WallClock::time_point when) {
  bool in_use = false;
  {
    std::lock_guard lock(status_mutex_);
    list.status.failed(reason, when);
    in_use = list.in_use.has_value();
  }
  log(LogLevel::warning, describe(list.source) + ": update failed (" + to_string(reason) +
                             "): " + error +
                             (in_use ? "; the last good version stays in use" : "; no version in use"));
  if (hooks_.failed) hooks_.failed(list.source.name, reason, when);
}

ListUpdater::FileSignature ListUpdater::stat_file(const std::string& path) {
  FileSignature signature;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return signature;
  signature.exists = true;
  signature.device = info.st_dev;
  signature.inode = info.st_ino;
  signature.size = static_cast<uint64_t>(info.st_size);
  signature.mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
  return signature;
}

milliseconds ListUpdater::jittered(milliseconds delay) {
  std::lock_guard lock(random_mutex_);
  std::uniform_real_distribution<double> factor(1.0 - options_.jitter, 1.0 + options_.jitter);
  return milliseconds(static_cast<int64_t>(static_cast<double>(delay.count()) * factor(random_)));
}

void ListUpdater::log(LogLevel level, const std::string& message) const {
  if (hooks_.log) {
    hooks_.log(level, message);
  } else {
    std::fprintf(stderr, "dnsvagt: %s: %s\n", to_string(level), message.c_str());
  }
}

std::function<void(std::vector<PolicyList>&&, uint64_t)> policy_publisher(
    PublishedPolicy& target, const BlockingConfig& config,
    const std::vector<ClientGroup>& groups) {
  return [&target, action = config.action, groups](std::vector<PolicyList>&& lists,
                                                   uint64_t entries) {
    PolicyBuilder builder(action);
    builder.set_client_groups(groups);
    builder.reserve(entries);
    for (PolicyList& list : lists) builder.add_list_file(std::move(list));
    release_when_unused(target.publish(std::move(builder).build()), std::chrono::seconds(2));
  };
}

}  // namespace dnsvagt
