#include "audit/dmarc.h"

#include "dns/ascii_text.h"

namespace dnsvagt {
namespace {

bool is_policy(const std::string& value) {
  return value == "none" || value == "quarantine" || value == "reject";
}

}  // namespace

std::map<std::string, std::string> parse_tag_list(std::string_view text, std::string* problem) {
  std::map<std::string, std::string> tags;
  while (!text.empty()) {
    size_t end = text.find(';');
    std::string_view part = ascii_trimmed(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (part.empty()) continue;
    size_t equals = part.find('=');
    if (equals == std::string_view::npos) {
      if (problem) *problem = "a tag without a value: \"" + std::string(part) + "\"";
      continue;
    }
    tags.emplace(ascii_lowercase(ascii_trimmed(part.substr(0, equals))),
                 std::string(ascii_trimmed(part.substr(equals + 1))));
  }
  return tags;
}

bool is_dmarc_record(std::string_view txt) {
  std::string_view first = ascii_trimmed(txt.substr(0, txt.find(';')));
  size_t equals = first.find('=');
  if (equals == std::string_view::npos) return false;
  // The version tag and value are case-sensitive (RFC 7489 6.4: "v=DMARC1").
  return ascii_trimmed(first.substr(0, equals)) == "v" && ascii_trimmed(first.substr(equals + 1)) == "DMARC1";
}

DmarcRecord parse_dmarc(std::string_view txt) {
  DmarcRecord record;
  if (!is_dmarc_record(txt)) {
    record.problem = "not a DMARC record (expected \"v=DMARC1; p=...\")";
    return record;
  }
  record.tags = parse_tag_list(txt, &record.problem);
  auto tag = [&](const char* name) {
    auto found = record.tags.find(name);
    return found == record.tags.end() ? std::string() : ascii_lowercase(found->second);
  };
  record.policy = tag("p");
  record.subdomain_policy = record.tags.count("sp") ? tag("sp") : record.policy;
  if (!record.problem.empty()) {
    // A syntax error already: receivers discard the record.
  } else if (record.policy.empty()) {
    record.problem = "no p= tag";
  } else if (!is_policy(record.policy)) {
    record.problem = "p=" + record.policy + " is not none, quarantine or reject";
  } else if (!is_policy(record.subdomain_policy)) {
    record.problem = "sp=" + record.subdomain_policy + " is not none, quarantine or reject";
  }
  return record;
}

}  // namespace dnsvagt
