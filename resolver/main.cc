// The dnsvagt command line (DESIGN.md "CLI contract"): run the server, check a config, look a
// name up in the blocklists, audit own domains, print the version. Exit codes: 0 ok, 1 bad
// config or input, 2 runtime failure; audit: 3 a requirement not met, 4 some cannot tell.
#include <malloc.h>
#include <unbound.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "audit/domain_audit.h"
#include "blocklists/lookup_report.h"
#include "config/config.h"
#include "metrics/compliance.h"
#include "resolver/audit_resolver.h"
#include "resolver/client_groups.h"
#include "resolver/logging.h"
#include "resolver/server.h"
#include "version.h"

namespace {

constexpr const char* kDefaultConfigPath = "/etc/dnsvagt/dnsvagt.yaml";

constexpr const char* kUsage =
    "usage: dnsvagt [-c FILE]              run the server (foreground)\n"
    "       dnsvagt check-config [-c FILE] validate the config, print the effective config\n"
    "       dnsvagt lookup NAME [-c FILE] [--client ADDR] [--subject DN]\n"
    "                                      which list and rule would block NAME (for a\n"
    "                                      client at ADDR or with a TLS client certificate\n"
    "                                      for DN: under its client group's policy)\n"
    "       dnsvagt audit [DOMAIN...] [-c FILE] [--format table|json|html]\n"
    "                                      check requirements 17-20, 23 of own domains\n"
    "                                      (default: audit.domains of the config)\n"
    "       dnsvagt version\n";

int usage_error(const std::string& message) {
  fprintf(stderr, "dnsvagt: %s\n%s", message.c_str(), kUsage);
  return 1;
}

// `dnsvagt audit`: the named domains (with their settings from audit.domains, if there) or
// else every one of audit.domains, through the validating resolver the server would use.
int audit(const dnsvagt::Config& config, const std::vector<std::string>& names,
          const std::string& format) {
  std::vector<dnsvagt::AuditDomain> domains;
  for (const std::string& text : names) {
    dnsvagt::AuditDomain domain;
    try {
      domain.name = dnsvagt::normalize_domain_name(text);
    } catch (const std::invalid_argument& error) {
      return usage_error(error.what());
    }
    for (const dnsvagt::AuditDomain& configured : config.audit.domains) {
      if (configured.name == domain.name) domain = configured;
    }
    domains.push_back(domain);
  }
  if (names.empty()) domains = config.audit.domains;
  if (domains.empty()) return usage_error("audit needs a DOMAIN, or audit.domains in the config");
  dnsvagt::AuditReport report;
  try {
    dnsvagt::AuditResolver resolver(dnsvagt::with_read_only_root_anchor(config));
    report = dnsvagt::audit_domains(domains, resolver);
  } catch (const std::exception& error) {
    fprintf(stderr, "dnsvagt: cannot start the resolver: %s\n", error.what());
    return 2;
  }
  std::string text = format == "json"   ? dnsvagt::audit_json(report)
                     : format == "html" ? dnsvagt::audit_html(report)
                                        : dnsvagt::to_text_table(report);
  fputs(text.c_str(), stdout);
  return report.all_met() ? 0 : report.any_not_met() ? 3 : 4;
}

// The client `lookup --client ADDR --subject DN` asks for, in the group the server would
// give it: its certificate subject's, else its address's.
dnsvagt::LookupClient lookup_client_of(const dnsvagt::Config& config,
                                       const std::optional<dnsvagt::IpAddress>& address,
                                       const std::optional<std::string>& subject) {
  const dnsvagt::ClientGroups groups(config.clients);
  dnsvagt::LookupClient client;
  client.group = subject ? groups.group_of_subject(*subject) : dnsvagt::Policy::kDefaultGroup;
  if (address) {
    client.name = address->to_string();
    client.group = groups.group_of(*address, client.group);
  }
  if (subject) client.name += (address ? " " : "") + ("with certificate \"" + *subject + "\"");
  return client;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command = "serve";
  if (!args.empty() && (args[0] == "check-config" || args[0] == "lookup" || args[0] == "audit" ||
                        args[0] == "version")) {
    command = args[0];
    args.erase(args.begin());
  }
  std::optional<std::string> config_file;
  std::string format = "table";
  std::optional<dnsvagt::IpAddress> client;
  std::optional<std::string> subject;
  std::vector<std::string> operands;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-c" || args[i] == "--config") {
      if (i + 1 == args.size()) return usage_error(args[i] + " needs a FILE");
      config_file = args[++i];
    } else if (command == "audit" && (args[i] == "--format" || args[i].starts_with("--format="))) {
      if (args[i] == "--format" && i + 1 == args.size()) {
        return usage_error("--format needs a value");
      }
      format = args[i] == "--format" ? args[++i] : args[i].substr(9);
      if (format != "table" && format != "json" && format != "html") {
        return usage_error("--format must be table, json or html, not " + format);
      }
    } else if (command == "lookup" && args[i] == "--client") {
      if (i + 1 == args.size()) return usage_error("--client needs an ADDR");
      try {
        client = dnsvagt::parse_address(args[++i]);
      } catch (const std::invalid_argument& error) {
        return usage_error("--client: " + std::string(error.what()));
      }
    } else if (command == "lookup" && args[i] == "--subject") {
      if (i + 1 == args.size() || args[i + 1].empty()) {
        return usage_error("--subject needs a DN, like \"CN=laptop7,OU=guests,O=Example\"");
      }
      subject = args[++i];
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
  if (command != "audit" && operands.size() != expected_operands) {
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
  if (command == "audit") {
    dnsvagt::set_log_level(config.logging.level);
    return audit(config, operands, format);
  }
  if (command == "lookup") {
    try {
      std::optional<dnsvagt::LookupClient> lookup_client;
      if (client || subject) lookup_client = lookup_client_of(config, client, subject);
      dnsvagt::LookupReport report =
          dnsvagt::lookup_report(config, operands.front(), lookup_client);
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
