// feed_probe: runs the list updater of a dnsvagt config on its own, for test_feeds.py, until
// SIGTERM; writes what it sees (list statuses, what the published policy blocks) as JSON.
//
//   feed_probe CONFIG STATE_FILE [--check NAME]... [--connect-timeout S] [--total-timeout S]
//              [--low-speed-time S] [--first-retry-ms MS] [--poll-ms MS]
//
// STATE_FILE is rewritten (atomically) every 50 ms: {"pid", "publishes", "checks": {NAME:
// LIST or null}, "policy_entries": {LIST: entries in the published policy}, "lists": [{"name",
// "available", "entries", "sha256", "etag", "last_modified" (of the version in use),
// "successes", "last_success", "last_attempt", "last_failure_reason", "failures": {REASON: N}}]}.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "blocklists/list_updater.h"
#include "config/config.h"

namespace {

using namespace dnsvagt;

std::atomic<bool> g_stop{false};

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

double seconds(const std::optional<WallClock::time_point>& time) {
  if (!time) return 0;
  return std::chrono::duration<double>(time->time_since_epoch()).count();
}

std::string state_json(const ListUpdater& updater, int publishes,
                       const std::vector<std::string>& checks, const Policy& policy,
                       const std::vector<uint64_t>& successes) {
  std::string out = "{\"pid\": " + std::to_string(getpid()) +
                    ", \"publishes\": " + std::to_string(publishes) + ", \"checks\": {";
  for (size_t i = 0; i < checks.size(); ++i) {
    PolicyVerdict verdict = policy.check(checks[i]);
    out += (i ? ", " : "") + json_string(checks[i]) + ": " +
           (verdict.blocked ? json_string(policy.lists()[verdict.list].name) : "null");
  }
  out += "}, \"policy_entries\": {";
  for (size_t i = 0; i < policy.lists().size(); ++i) {
    const PolicyList& list = policy.lists()[i];
    out += (i ? ", " : "") + json_string(list.name) + ": " + std::to_string(list.stats.entries);
  }
  out += "}, \"lists\": [";
  const std::vector<ListStatus> statuses = updater.statuses();
  for (size_t i = 0; i < statuses.size(); ++i) {
    const ListStatus& s = statuses[i];
    const std::optional<StoredListInfo> version = updater.version_in_use(i);
    const StoredListInfo in_use = version.value_or(StoredListInfo{});
    out += i ? ", " : "";
    out += "{\"name\": " + json_string(s.name) +
           ", \"available\": " + (version ? "true" : "false") +
           ", \"entries\": " + std::to_string(s.entries) +
           ", \"sha256\": " + json_string(in_use.sha256) +
           ", \"etag\": " + json_string(in_use.validators.etag) +
           ", \"last_modified\": " + json_string(in_use.validators.last_modified) +
           ", \"successes\": " + std::to_string(successes[i]) +
           ", \"last_success\": " + std::to_string(seconds(s.last_success)) +
           ", \"last_attempt\": " + std::to_string(seconds(s.last_attempt)) +
           ", \"last_failure_reason\": " +
           (s.last_failure ? json_string(to_string(s.last_failure_reason)) : "null") +
           ", \"failures\": {";
    for (size_t r = 0; r < kUpdateFailureCount; ++r) {
      out += (r ? ", " : "") + json_string(to_string(static_cast<UpdateFailure>(r))) + ": " +
             std::to_string(s.failures[r]);
    }
    out += "}}";
  }
  return out + "]}\n";
}

void write_atomically(const std::string& path, const std::string& data) {
  const std::string temp = path + ".part";
  std::ofstream(temp, std::ios::binary | std::ios::trunc) << data;
  std::rename(temp.c_str(), path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: feed_probe CONFIG STATE_FILE [options]\n");
    return 1;
  }
  const std::string state_file = argv[2];
  UpdaterOptions options;
  std::vector<std::string> checks;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const long value = flag == "--check" ? 0 : std::stol(argv[i + 1]);
    if (flag == "--check") checks.push_back(argv[i + 1]);
    else if (flag == "--connect-timeout") options.connect_timeout = std::chrono::seconds(value);
    else if (flag == "--total-timeout") options.total_timeout = std::chrono::seconds(value);
    else if (flag == "--low-speed-time") options.low_speed_time = std::chrono::seconds(value);
    else if (flag == "--first-retry-ms") options.first_retry = std::chrono::milliseconds(value);
    else if (flag == "--poll-ms") options.file_poll_interval = std::chrono::milliseconds(value);
    else {
      std::fprintf(stderr, "feed_probe: unknown option %s\n", flag.c_str());
      return 1;
    }
  }
  Config config;
  try {
    config = load_config(argv[1]);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "feed_probe: %s\n", error.what());
    return 1;
  }
  signal(SIGTERM, [](int) { g_stop = true; });
  signal(SIGINT, [](int) { g_stop = true; });

  PublishedPolicy policy;
  std::atomic<int> publishes{0};
  std::mutex successes_mutex;
  std::vector<std::string> names;
  for (const auto* lists : {&config.blocking.lists, &config.blocking.allow}) {
    for (const ListSource& list : *lists) names.push_back(list.name);
  }
  std::vector<uint64_t> successes(names.size());
  UpdaterHooks hooks;
  auto publish = policy_publisher(policy, config.blocking);
  hooks.publish = [&](std::vector<PolicyList>&& lists, uint64_t entries) {
    publish(std::move(lists), entries);
    ++publishes;
  };
  hooks.succeeded = [&](const std::string& name, uint64_t, WallClock::time_point) {
    std::lock_guard lock(successes_mutex);
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) ++successes[i];
    }
  };
  ListUpdater updater(config.blocking, options, hooks);
  updater.start();
  while (!g_stop) {
    std::vector<uint64_t> counts;
    {
      std::lock_guard lock(successes_mutex);
      counts = successes;
    }
    write_atomically(state_file, state_json(updater, publishes, checks,
                                            *policy.current(), counts));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  updater.stop();
  return 0;
}
