// The dnsvagt command line (DESIGN.md "CLI contract"): run the server, check a config, look a
// name up in the blocklists, print the version. Exit codes: 0 ok, 1 bad config or input,
// 2 runtime failure.
#include <malloc.h>
#include <unbound.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "blocklists/lookup_report.h"
#include "config/config.h"
#include "resolver/logging.h"
#include "resolver/server.h"
#include "version.h"

namespace {

constexpr const char* kDefaultConfigPath = "/etc/dnsvagt/dnsvagt.yaml";

constexpr const char* kUsage =
    "usage: dnsvagt [-c FILE]              run the server (foreground)\n"
    "       dnsvagt check-config [-c FILE] validate the config, print the effective config\n"
    "       dnsvagt lookup NAME [-c FILE]  which list and rule would block NAME\n"
    "       dnsvagt version\n";

int usage_error(const std::string& message) {
  fprintf(stderr, "dnsvagt: %s\n%s", message.c_str(), kUsage);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command = "serve";
  if (!args.empty() && (args[0] == "check-config" || args[0] == "lookup" || args[0] == "version")) {
    command = args[0];
    args.erase(args.begin());
  }
  std::optional<std::string> config_file;
  std::vector<std::string> operands;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-c" || args[i] == "--config") {
      if (i + 1 == args.size()) return usage_error(args[i] + " needs a FILE");
      config_file = args[++i];
    } else if (args[i] == "-h" || args[i] == "--help") {
      fputs(kUsage, stdout);
      return 0;
    } else if (args[i].starts_with("-")) {
      return usage_error("unknown option " + args[i]);
    } else {
      operands.push_back(args[i]);
    }
  }
  size_t expected_operands = command == "lookup" ? 1 : 0;
  if (operands.size() != expected_operands) {
    return usage_error(command == "lookup" ? "lookup needs exactly one NAME"
                                           : "unexpected argument " + operands.front());
  }
  if (command == "version") {
    printf("dnsvagt %s (libunbound %s)\n", DNSVAGT_VERSION, ub_version());
    return 0;
  }

  // -c must name a readable file; without it the default file is used if there is one.
  std::string config_path = config_file.value_or(
      access(kDefaultConfigPath, F_OK) == 0 ? kDefaultConfigPath : "");
  dnsvagt::Config config;
  try {
    config = config_path.empty() ? dnsvagt::default_config() : dnsvagt::load_config(config_path);
  } catch (const dnsvagt::ConfigError& error) {
    fprintf(stderr, "dnsvagt: %s\n", error.what());
    return 1;
  }

  if (command == "check-config") {
    fputs(dnsvagt::to_yaml(config).c_str(), stdout);
    return 0;
  }
  if (command == "lookup") {
    try {
      dnsvagt::LookupReport report = dnsvagt::lookup_report(config, operands.front());
      fputs(report.text.c_str(), report.valid ? stdout : stderr);
      return report.valid ? 0 : 1;
    } catch (const std::exception& error) {
      fprintf(stderr, "dnsvagt: cannot load the lists: %s\n", error.what());
      return 1;
    }
  }
  // Buffers of a MiB or more (a new list version's text while its gates judge it, the hash
  // table that counts its entries) get mappings of their own, which go back to the system when
  // freed. glibc otherwise raises this threshold after the first such free, and later ones
  // stay resident in the list updater's heap (measured: 27 to 32 MiB after a 1M-list update).
  if (mallopt(M_MMAP_THRESHOLD, 1 << 20) != 1) {
    dnsvagt::log_warning("%s", "cannot set the malloc mmap threshold: freed list buffers may stay resident");
  }
  try {
    dnsvagt::Server server(std::move(config), config_path);
    return server.run();
  } catch (const std::exception& error) {
    dnsvagt::log_error("%s", error.what());
    return 2;
  }
}
