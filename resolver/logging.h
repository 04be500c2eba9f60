// Leveled log lines on stderr (journald adds the time when run under systemd): one line per
// start, stop, reload, config problem or upstream trouble; never one per query.
#pragma once

#include "config/config.h"

namespace dnsvagt {

void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);

void log_error(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace dnsvagt
