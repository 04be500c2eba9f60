#include "blocklists/lookup_report.h"

#include "dns/domain_text.h"

namespace dnsvagt {
namespace {

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string list_label(const PolicyList& list) {
  return std::string(list.allow_list ? "allow list " : "list ") + quoted(list.name);
}

// "client 192.0.2.1: group "guests": block lists "a", "b"; allow lists none; answer nxdomain"
std::string client_line(const Policy& policy, const LookupClient& client) {
  const PolicyGroup& group = policy.groups()[client.group];
  std::string line = "client " + client.name + ": ";
  if (client.group == Policy::kDefaultGroup) {
    line += "in no client group: every list applies";
  } else {
    line += "group " + quoted(group.name);
    for (bool allow_lists : {false, true}) {
      std::string names;
      for (size_t i = 0; i < policy.lists().size(); ++i) {
        const PolicyList& list = policy.lists()[i];
        if (list.allow_list == allow_lists && group.lists[i]) {
          names += (names.empty() ? "" : ", ") + quoted(list.name);
        }
      }
      line += std::string(allow_lists ? "; allow lists " : ": block lists ") +
              (names.empty() ? "none" : names);
    }
  }
  return line + "; answer " + to_string(group.action) + "\n";
}

}  // namespace

LookupReport lookup_report(const Policy& policy, std::string_view name,
                           const std::optional<LookupClient>& client) {
  const size_t group = client ? client->group : Policy::kDefaultGroup;
  LookupReport report;
  std::string canonical;
  NameStatus status = normalize_domain(name, canonical);
  if (status != NameStatus::ok) {
    report.valid = false;
    report.text = quoted(name) + " is not a domain name that lists can match";
    if (status == NameStatus::invalid) report.text += ": " + canonical;
    report.text += "\n";
    return report;
  }

  std::string& out = report.text;
  for (const PolicyList& list : policy.lists()) {
    if (!list.error.empty()) {
      out += "warning: " + list_label(list) + " not loaded: " + list.error + "\n";
    }
    if (!list.note.empty()) out += "note: " + list_label(list) + ": " + list.note + "\n";
  }
  if (client) out += client_line(policy, *client);
  out += canonical + (canonical != name ? " (as given: " + std::string(name) + ")" : "") + "\n";

  std::vector<Policy::Match> matches = policy.all_matches(canonical, group);
  size_t applying = 0;
  for (const Policy::Match& match : matches) {
    const PolicyList& list = policy.lists()[match.list];
    out += "  " + list_label(list) + ": " + (match.kind == EntryKind::allow ? "allow" : "block") +
           " entry " + quoted(policy.entry_rule(match.entry));
    if (match.kind == EntryKind::block) out += std::string(", answer ") + to_string(match.action);
    if (!match.applies) out += " (the list does not apply to this client)";
    out += "\n";
    applying += match.applies;
  }

  PolicyVerdict verdict = policy.check(canonical, group);
  report.blocked = verdict.blocked;
  if (matches.empty()) {
    out += "result: not blocked, no list matches\n";
  } else if (applying == 0) {
    out += "result: not blocked, no list that applies to this client matches\n";
  } else if (verdict.allowed) {
    out += "result: not blocked, allow entry " + quoted(policy.entry_rule(verdict.entry)) +
           " of " + list_label(policy.lists()[verdict.list]) + " wins";
    size_t blocks = 0;
    for (const Policy::Match& match : matches) {
      blocks += match.applies && match.kind == EntryKind::block;
    }
    if (blocks > 0) {
      out += " over " + std::to_string(blocks) + (blocks == 1 ? " block entry" : " block entries");
    }
    out += "\n";
  } else {
    out += "result: blocked by " + list_label(policy.lists()[verdict.list]) + ", entry " +
           quoted(policy.entry_rule(verdict.entry)) + ", answer " + to_string(verdict.action);
    for (const LocalAddress& address : verdict.local_data) out += " " + address.to_string();
    out += "\n";
  }
  return report;
}

LookupReport lookup_report(const Config& config, std::string_view name,
                           const std::optional<LookupClient>& client) {
  return lookup_report(*build_policy(config.blocking, config.clients), name, client);
}

}  // namespace dnsvagt
