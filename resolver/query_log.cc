#include "resolver/query_log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "dns/dns_name.h"
#include "metrics/json_text.h"
#include "metrics/worker_counters.h"
#include "resolver/answer.h"
#include "resolver/logging.h"

namespace dnsvagt {
namespace {

constexpr int64_t kNsPerDay = 86400ll * 1000000000;
constexpr int64_t kRetentionCheckNs = 3600ll * 1000000000;

int64_t epoch_ns(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

// Floor division: days before 1970 stay on the right day.
int64_t utc_day(int64_t ns) { return ns >= 0 ? ns / kNsPerDay : (ns + 1) / kNsPerDay - 1; }

std::string day_text(int64_t day) {
  time_t seconds = static_cast<time_t>(day * 86400);
  tm utc;
  gmtime_r(&seconds, &utc);
  char text[16];
  strftime(text, sizeof text, "%Y-%m-%d", &utc);
  return text;
}

std::string type_text(uint16_t qtype) {
  const ldns_rr_descriptor* descriptor = ldns_rr_descript(qtype);
  if (descriptor && descriptor->_name) return descriptor->_name;
  return "TYPE" + std::to_string(qtype);
}

// Copies what fits of `text` into `field`; returns the length copied.
template <size_t N>
uint8_t cut_copy(std::string_view text, char (&field)[N]) {
  static_assert(N <= UINT8_MAX);
  const size_t length = std::min(text.size(), N);
  if (length > 0) memcpy(field, text.data(), length);
  return static_cast<uint8_t>(length);
}

// A JSON string, or null for "".
void append_json_string_or_null(std::string_view text, std::string& out) {
  if (text.empty()) {
    out += "null";
  } else {
    append_json_string(text, out);
  }
}

}  // namespace

void QueryLogEntry::set_client(const sockaddr* client) {
  family = static_cast<uint8_t>(client->sa_family);
  if (client->sa_family == AF_INET) {
    memcpy(address, &reinterpret_cast<const sockaddr_in*>(client)->sin_addr, 4);
  } else if (client->sa_family == AF_INET6) {
    memcpy(address, &reinterpret_cast<const sockaddr_in6*>(client)->sin6_addr, 16);
  }
}

void QueryLogEntry::set_name(std::span<const uint8_t> wire_name) {
  name_length = static_cast<uint8_t>(std::min(wire_name.size(), kMaxName));
  if (name_length > 0) memcpy(name, wire_name.data(), name_length);  // data() may be null
}

void QueryLogEntry::set_list(std::string_view list_name) {
  list_length = cut_copy(list_name, list);
}

void QueryLogEntry::set_group(std::string_view group_name) {
  group_length = cut_copy(group_name, group);
}

void append_query_log_line(const QueryLogEntry& entry, std::string& out) {
  time_t seconds = static_cast<time_t>(entry.time_ns / 1000000000);
  int millis = static_cast<int>(entry.time_ns / 1000000 % 1000);
  tm utc;
  gmtime_r(&seconds, &utc);
  char time[40];
  size_t length = strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(time + length, sizeof time - length, ".%03dZ", millis);

  char client[INET6_ADDRSTRLEN] = "";
  if (entry.family == AF_INET || entry.family == AF_INET6) {
    inet_ntop(entry.family, entry.address, client, sizeof client);
  }

  out += "{\"time\":\"";
  out += time;
  out += "\",\"client\":\"";
  out += client;
  out += "\",\"transport\":\"";
  out += to_string(entry.transport);
  out += "\",\"name\":";
  if (entry.name_length) {
    append_json_string(name_text({entry.name, entry.name_length}), out);
    out += ",\"type\":";
    append_json_string(type_text(entry.qtype), out);
  } else {
    out += "null,\"type\":null";
  }
  out += ",\"rcode\":\"";
  out += entry.rcode == QueryLogEntry::kDropped
             ? std::string("DROPPED")
             : rcode_label(std::min<size_t>(entry.rcode, kRcodeSlots - 1));
  out += "\",\"dnssec\":";
  if (entry.dnssec == QueryLogEntry::kNoDnssec) {
    out += "null";
  } else {
    out += '"';
    out += to_string(static_cast<DnssecStatus>(entry.dnssec));
    out += '"';
  }
  out += ",\"list\":";
  append_json_string_or_null({entry.list, entry.list_length}, out);
  out += ",\"group\":";
  append_json_string_or_null({entry.group, entry.group_length}, out);
  out += entry.cache_hit ? ",\"cache_hit\":true" : ",\"cache_hit\":false";
  out += ",\"latency_us\":";
  out += std::to_string(entry.latency_us);
  out += "}\n";
}

QueryLogQueue::QueryLogQueue(size_t capacity)
    : entries_(std::make_unique<QueryLogEntry[]>(capacity)), capacity_(capacity) {}

bool QueryLogQueue::push(const QueryLogEntry& entry) {
  uint64_t head = head_.load(std::memory_order_relaxed);
  if (head - tail_.load(std::memory_order_acquire) >= capacity_) return false;
  entries_[head % capacity_] = entry;
  head_.store(head + 1, std::memory_order_release);
  return true;
}

size_t QueryLogQueue::drain(const std::function<void(const QueryLogEntry&)>& take) {
  uint64_t tail = tail_.load(std::memory_order_relaxed);
  uint64_t head = head_.load(std::memory_order_acquire);
  for (uint64_t at = tail; at < head; ++at) take(entries_[at % capacity_]);
  tail_.store(head, std::memory_order_release);
  return head - tail;
}

QueryLogOptions QueryLogOptions::from_config(const LoggingConfig& config) {
  QueryLogOptions options;
  options.path = config.query_log;
  options.rotation = config.query_log_rotate;
  options.retention = config.query_log_retention;
  return options;
}

QueryLog::QueryLog(QueryLogOptions options, size_t queues, Metrics* metrics)
    : metrics_(metrics), options_(std::move(options)) {
  for (size_t i = 0; i < queues; ++i) {
    queues_.push_back(std::make_unique<QueryLogQueue>(options_.queue_capacity));
  }
  {
    std::lock_guard lock(writer_mutex_);
    open_file();
    delete_expired();
  }
  thread_ = std::thread([this] { run(); });
}

QueryLog::~QueryLog() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_wake_.notify_all();
  thread_.join();
  write_pending();
  std::lock_guard lock(writer_mutex_);
  if (fd_ >= 0) close(fd_);
}

void QueryLog::run() {
  std::unique_lock lock(stop_mutex_);
  while (!stopping_) {
    std::chrono::milliseconds interval;
    {
      std::lock_guard writer_lock(writer_mutex_);
      interval = options_.write_interval;
    }
    if (stop_wake_.wait_for(lock, interval, [this] { return stopping_; })) break;
    lock.unlock();
    write_pending();
    lock.lock();
  }
}

void QueryLog::reconfigure(QueryLogOptions options) {
  std::lock_guard lock(writer_mutex_);
  int old_fd = fd_;
  QueryLogOptions old_options = std::move(options_);
  options_ = std::move(options);
  try {
    open_file();
  } catch (...) {
    options_ = std::move(old_options);
    fd_ = old_fd;
    throw;
  }
  if (old_fd >= 0) close(old_fd);
  delete_expired();
}

void QueryLog::open_file() {
  int fd = open(options_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    throw std::runtime_error("cannot open the query log " + options_.path + ": " +
                             strerror(errno));
  }
  struct stat status;
  fstat(fd, &status);
  fd_ = fd;
  size_ = static_cast<uint64_t>(status.st_size);
  // A file continued from before a restart belongs to the day of its last line.
  int64_t now_day = utc_day(epoch_ns(options_.clock()));
  period_day_ = size_ > 0 ? utc_day(int64_t{status.st_mtim.tv_sec} * 1000000000) : now_day;
  write_failing_ = false;
}

std::string QueryLog::rotated_name(const std::string& path, int64_t day, unsigned n) {
  return path + "." + day_text(day) + "." + std::to_string(n);
}

void QueryLog::rotate() {
  close(fd_);
  fd_ = -1;
  unsigned n = 1;
  struct stat status;
  while (stat(rotated_name(options_.path, period_day_, n).c_str(), &status) == 0) ++n;
  std::string rotated = rotated_name(options_.path, period_day_, n);
  if (rename(options_.path.c_str(), rotated.c_str()) != 0) {
    log_error("query log: cannot rename %s to %s: %s", options_.path.c_str(), rotated.c_str(),
              strerror(errno));
  }
  try {
    open_file();
  } catch (const std::exception& error) {
    log_error("query log: %s; query lines are lost until SIGHUP", error.what());
  }
  delete_expired();
}

// Rotated files are "<name>.YYYY-MM-DD.N" next to the log; those not written to within the
// retention period are deleted.
void QueryLog::delete_expired() {
  int64_t now_ns = epoch_ns(options_.clock());
  retention_checked_ns_ = now_ns;
  size_t slash = options_.path.rfind('/');
  std::string directory = slash == std::string::npos ? "." : options_.path.substr(0, slash + 1);
  std::string prefix =
      (slash == std::string::npos ? options_.path : options_.path.substr(slash + 1)) + ".";
  DIR* dir = opendir(directory.c_str());
  if (!dir) return;
  int64_t oldest_kept_ns = now_ns - int64_t{options_.retention.count()} * 1000000000;
  while (dirent* file = readdir(dir)) {
    std::string_view name = file->d_name;
    if (!name.starts_with(prefix)) continue;
    std::string_view suffix = name.substr(prefix.size());  // "2026-11-28.1"
    if (suffix.size() < 12 || suffix[4] != '-' || suffix[7] != '-' || suffix[10] != '.') continue;
    if (!std::all_of(suffix.begin() + 11, suffix.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    std::string path = (slash == std::string::npos ? "" : directory) + std::string(name);
    struct stat status;
    if (stat(path.c_str(), &status) != 0) continue;
    int64_t modified_ns = int64_t{status.st_mtim.tv_sec} * 1000000000 + status.st_mtim.tv_nsec;
    if (modified_ns >= oldest_kept_ns) continue;
    if (unlink(path.c_str()) == 0) {
      log_info("query log: deleted %s (older than the retention period)", path.c_str());
    } else {
      log_warning("query log: cannot delete %s: %s", path.c_str(), strerror(errno));
    }
  }
  closedir(dir);
}

void QueryLog::flush(std::string& buffer) {
  if (buffer.empty()) return;
  size_t written = 0;
  int error = 0;
  while (fd_ >= 0 && written < buffer.size()) {
    ssize_t n = write(fd_, buffer.data() + written, buffer.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : ENOSPC;
      break;
    }
    written += static_cast<size_t>(n);
  }
  if (fd_ >= 0 && written == buffer.size()) {
    if (write_failing_) log_info("query log: writing %s again", options_.path.c_str());
    write_failing_ = false;
    size_ += written;
    buffer.clear();
    return;
  }
  // A line cut off by a full disk would run into the next one: take the piece back, so the
  // file only ever holds whole lines, and count every line of this buffer as lost.
  if (fd_ >= 0 && written > 0 && ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
    size_ += written;  // the piece stays; end it so the next line starts on a line of its own
    if (::write(fd_, "\n", 1) == 1) ++size_;
  }
  const auto lost = static_cast<uint64_t>(std::count(buffer.begin(), buffer.end(), '\n'));
  if (metrics_) metrics_->query_log_lines_lost(lost);
  if (!write_failing_) {
    log_error("query log: cannot write %s: %s; lines are lost (counted in "
              "dnsvagt_query_log_dropped_total) until it can",
              options_.path.c_str(), fd_ >= 0 ? strerror(error) : "the file is not open");
  }
  write_failing_ = true;
  buffer.clear();
}

size_t QueryLog::write_pending() {
  std::lock_guard lock(writer_mutex_);
  std::string buffer;
  std::string line;
  size_t lines = 0;
  int64_t now_ns = epoch_ns(options_.clock());
  int64_t today = utc_day(now_ns);
  auto take = [&](const QueryLogEntry& entry) {
    line.clear();
    append_query_log_line(entry, line);
    bool full = !options_.rotation.daily() &&
                size_ + buffer.size() + line.size() > options_.rotation.max_bytes;
    bool new_day = options_.rotation.daily() && today != period_day_;
    if ((full || new_day) && size_ + buffer.size() > 0) {
      flush(buffer);
      rotate();
    }
    if (new_day) period_day_ = today;
    buffer += line;
    ++lines;
  };
  for (auto& queue : queues_) queue->drain(take);
  // Daily rotation also happens in a quiet night, so a day's file is complete the day after.
  if (options_.rotation.daily() && today != period_day_ && size_ + buffer.size() > 0) {
    flush(buffer);
    rotate();
    period_day_ = today;
  }
  flush(buffer);
  if (now_ns - retention_checked_ns_ >= kRetentionCheckNs) delete_expired();
  return lines;
}

}  // namespace dnsvagt
