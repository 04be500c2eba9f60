#include "resolver/logging.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace dnsvagt {
namespace {

std::atomic<LogLevel> current_level{LogLevel::info};

// Under systemd (JOURNAL_STREAM set) journald stamps time and unit itself and reads the
// sd-daemon "<N>" priority prefix; on a terminal a timestamp helps.
bool to_journal() {
  static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  return journal;
}

void write_line(LogLevel level, const char* format, va_list args) {
  if (!log_enabled(level)) return;
  char message[1024];
  vsnprintf(message, sizeof message, format, args);
  static const int kSyslogPriority[] = {3, 4, 6, 7};  // err, warning, info, debug
  if (to_journal()) {
    fprintf(stderr, "<%d>%s\n", kSyslogPriority[static_cast<int>(level)], message);
    return;
  }
  char stamp[32];
  time_t now = time(nullptr);
  struct tm local;
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &local));
  fprintf(stderr, "%s dnsvagt %s: %s\n", stamp, to_string(level), message);
}

}  // namespace

void set_log_level(LogLevel level) { current_level.store(level, std::memory_order_relaxed); }

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) <= static_cast<int>(current_level.load(std::memory_order_relaxed));
}

#define DNSVAGT_LOG_FUNCTION(name, level)   \
  void name(const char* format, ...) {      \
    va_list args;                           \
    va_start(args, format);                 \
    write_line(level, format, args);        \
    va_end(args);                           \
  }

DNSVAGT_LOG_FUNCTION(log_error, LogLevel::error)
DNSVAGT_LOG_FUNCTION(log_warning, LogLevel::warning)
DNSVAGT_LOG_FUNCTION(log_info, LogLevel::info)
DNSVAGT_LOG_FUNCTION(log_debug, LogLevel::debug)

}  // namespace dnsvagt
