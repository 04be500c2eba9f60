#include "metrics/compliance.h"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "metrics/json_text.h"

namespace dnsvagt {

namespace {

const char* kAtRisk = "at risk";
const char* kMet = "met";

// "90s", "5m", "1h", "2d": the config's duration syntax.
std::string duration_text(std::chrono::seconds duration) {
  auto seconds = duration.count();
  if (seconds % 86400 == 0 && seconds != 0) return std::to_string(seconds / 86400) + "d";
  if (seconds % 3600 == 0 && seconds != 0) return std::to_string(seconds / 3600) + "h";
  if (seconds % 60 == 0 && seconds != 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

RequirementVerdict judge_validation(const MetricsSnapshot& data) {
  RequirementVerdict verdict;
  if (!data.validation_enabled) {
    verdict.reasons.push_back("DNSSEC validation is disabled (dnssec.validate: false)");
  }
  if (data.trust_anchors.empty()) {
    verdict.reasons.push_back("no DNSSEC trust anchor is configured");
  }
  for (const TrustAnchorInfo& anchor : data.trust_anchors) {
    if (!anchor.loaded) {
      verdict.reasons.push_back("trust anchor for \"" + anchor.zone + "\" from " + anchor.source +
                                " is not loaded");
    }
  }
  verdict.met = verdict.reasons.empty();
  return verdict;
}

RequirementVerdict judge_blocking(const MetricsSnapshot& data) {
  RequirementVerdict verdict;
  bool any_block_list = false;
  bool all_failing_or_empty = true;
  for (const ListStatus& list : data.lists) {
    if (list.allow) continue;
    any_block_list = true;
    if (list.entries > 0 && !list.failing()) all_failing_or_empty = false;
    auto refresh = list.refresh;
    if (refresh.count() <= 0) continue;
    // A list that never loaded is judged from the process start.
    WallTime since = list.last_success.value_or(data.started_at);
    if (data.taken_at - since > 2 * refresh) {
      std::string what = list.last_success
                             ? "was last updated at " + rfc3339_utc(*list.last_success)
                             : "has not loaded since the start at " + rfc3339_utc(data.started_at);
      verdict.reasons.push_back("block list \"" + list.name + "\" " + what +
                                ", more than twice its refresh interval (" +
                                duration_text(refresh) + ") ago");
    }
  }
  if (!any_block_list) {
    verdict.reasons.push_back("no block lists are configured");
  } else if (all_failing_or_empty) {
    verdict.reasons.push_back("every block list is empty or its last update failed");
  }
  verdict.met = verdict.reasons.empty();
  return verdict;
}

std::optional<double> share(uint64_t part, uint64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

std::string number_text(double value) {
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string json_share(const std::optional<double>& value) {
  return value ? number_text(*value) : "null";
}

std::string json_time(const std::optional<WallTime>& time) {
  return time ? json_string(rfc3339_utc(*time)) : "null";
}

std::string json_verdict(const RequirementVerdict& verdict) {
  std::string out = "\"verdict\": " + json_string(verdict.met ? kMet : kAtRisk) + ", \"reasons\": [";
  for (size_t i = 0; i < verdict.reasons.size(); ++i) {
    out += (i ? ", " : "") + json_string(verdict.reasons[i]);
  }
  return out + "]";
}

std::string json_events(const std::vector<RecentEvent>& events, const char* detail_key) {
  std::string out = "[";
  for (size_t i = 0; i < events.size(); ++i) {
    out += std::string(i ? ",\n      " : "\n      ") + "{\"time\": " +
           json_string(rfc3339_utc(events[i].time)) + ", \"name\": " + json_string(events[i].name) +
           ", \"" + detail_key + "\": " + json_string(events[i].detail) + "}";
  }
  return out + (events.empty() ? "]" : "\n    ]");
}

// Escapes for HTML text and attribute values; bytes >= 0x80 become numeric references so the
// page stays valid UTF-8 whatever a query name holds.
// ["a", "b"]
std::string json_strings(const std::vector<std::string>& texts) {
  std::string out = "[";
  for (size_t i = 0; i < texts.size(); ++i) out += (i ? ", " : "") + json_string(texts[i]);
  return out + "]";
}

std::string json_client_groups(const std::vector<ClientGroup>& groups) {
  std::string out = "[";
  for (size_t i = 0; i < groups.size(); ++i) {
    const ClientGroup& group = groups[i];
    out += std::string(i ? "," : "") + "\n      {\"name\": " + json_string(group.name) +
           ", \"networks\": " + json_strings(prefix_texts(group.networks)) +
           ", \"certificate_subjects\": " + json_strings(group.certificate_subjects) +
           ", \"lists\": " + json_strings(group.lists) +
           ", \"allow\": " + json_strings(group.allow) +
           ", \"action\": " + json_string(to_string(group.action)) + "}";
  }
  return out + (groups.empty() ? "]" : "\n    ]");
}

std::string html(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += "&#" + std::to_string(c) + ";";
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

// The head of a page and its <body> up to the <h1> with `title`.
std::string html_page_start(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         html(title) +
         "</title>\n<style>\n"
         "body{font-family:sans-serif;margin:2em;max-width:70em;color:#222}\n"
         "table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
         "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}\n"
         "th{background:#eee}td.n{text-align:right}\n"
         ".met{color:#fff;background:#2a7d2e;padding:0 .4em}\n"
         ".risk{color:#fff;background:#b3261e;padding:0 .4em}\n"
         ".unknown{color:#fff;background:#8a6d00;padding:0 .4em}\n"
         ".reasons li{color:#b3261e}\n"
         "</style>\n</head>\n<body>\n<h1>" +
         html(title) + "</h1>\n";
}

// The audit as JSON, each line after the first indented by `indent`.
std::string audit_json_object(const AuditReport& report, const std::string& indent) {
  std::string out = "{\n" + indent + "  \"audited_at\": " +
                    json_string(rfc3339_utc(report.finished_at)) + ",\n" + indent +
                    "  \"all_met\": " + (report.all_met() ? "true" : "false") + ",\n" + indent +
                    "  \"domains\": [";
  for (size_t d = 0; d < report.domains.size(); ++d) {
    const DomainResult& domain = report.domains[d];
    out += std::string(d ? "," : "") + "\n" + indent + "    {\"domain\": " +
           json_string(domain.domain) + ", \"requirements\": [";
    for (size_t r = 0; r < domain.requirements.size(); ++r) {
      const RequirementResult& result = domain.requirements[r];
      out += std::string(r ? "," : "") + "\n" + indent + "      {\"requirement\": " +
             std::to_string(result.requirement) +
             ", \"title\": " + json_string(requirement_title(result.requirement)) +
             ", \"verdict\": " + json_string(to_string(result.verdict)) + ", \"checks\": [";
      for (size_t c = 0; c < result.checks.size(); ++c) {
        const Check& check = result.checks[c];
        out += std::string(c ? "," : "") + "\n" + indent + "        {\"verdict\": " +
               json_string(to_string(check.verdict)) + ", \"subject\": " +
               json_string(check.subject) + ", \"evidence\": " + json_string(check.evidence) +
               "}";
      }
      out += "]}";
    }
    out += "]}";
  }
  return out + (report.domains.empty() ? "]\n" : "\n" + indent + "  ]\n") + indent + "}";
}

std::string html_audit_verdict(Verdict verdict) {
  switch (verdict) {
    case Verdict::met:
      return "<span class=\"met\">met</span>";
    case Verdict::not_met:
      return "<span class=\"risk\">not met</span>";
    case Verdict::cannot_tell:
      return "<span class=\"unknown\">cannot tell</span>";
  }
  return "?";
}

// A table with a row per domain and a column per requirement, then each domain's checks.
std::string html_audit(const AuditReport& report) {
  std::string out = "<p>Audited " + rfc3339_utc(report.finished_at) +
                    " (UTC) through dnsvagt's validating resolver. \"Cannot tell\" means no "
                    "answer was seen (SERVFAIL that is not bogus, timeout, unreachable); it is "
                    "never counted as met.</p>\n<table>\n<tr><th>domain</th>";
  for (int requirement : kAuditedRequirements) {
    out += "<th>" + std::to_string(requirement) + ": " + html(requirement_title(requirement)) +
           "</th>";
  }
  out += "</tr>\n";
  for (const DomainResult& domain : report.domains) {
    out += "<tr><td>" + html(domain.domain) + "</td>";
    for (const RequirementResult& result : domain.requirements) {
      out += "<td>" + html_audit_verdict(result.verdict) + "</td>";
    }
    out += "</tr>\n";
  }
  out += "</table>\n";
  for (const DomainResult& domain : report.domains) {
    out += "<h4>" + html(domain.domain) + "</h4>\n<table>\n<tr><th>requirement</th>"
           "<th>check</th><th>result</th><th>evidence</th></tr>\n";
    for (const RequirementResult& result : domain.requirements) {
      for (const Check& check : result.checks) {
        out += "<tr><td>" + std::to_string(result.requirement) + "</td><td>" +
               html(check.subject) + "</td><td>" + html_audit_verdict(check.verdict) +
               "</td><td>" + html(check.evidence) + "</td></tr>\n";
      }
    }
    out += "</table>\n";
  }
  return out;
}

std::string html_time(const std::optional<WallTime>& time) {
  return time ? rfc3339_utc(*time) : "never";
}

std::string html_share(const std::optional<double>& value, const char* when_empty) {
  if (!value) return when_empty;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f %%", *value * 100);
  return buffer;
}

std::string html_verdict(const char* title, const RequirementVerdict& verdict) {
  std::string out = "<h2>" + std::string(title) + ": <span class=\"" +
                    (verdict.met ? "met\">met" : "risk\">at risk") + "</span></h2>\n";
  if (!verdict.reasons.empty()) {
    out += "<ul class=\"reasons\">\n";
    for (const std::string& reason : verdict.reasons) out += "<li>" + html(reason) + "</li>\n";
    out += "</ul>\n";
  }
  return out;
}

// "a, b", or `when_empty`.
std::string html_names(const std::vector<std::string>& names, const char* when_empty) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + html(name);
  return out.empty() ? when_empty : out;
}

std::string html_client_groups(const std::vector<ClientGroup>& groups) {
  std::string out =
      "<h3>Client groups</h3>\n<p>A client gets the lists and action of the group whose "
      "certificate subject its TLS client certificate has (or is below), else of the group "
      "with the longest network holding its address; a client in no group gets every list "
      "and blocking.action.</p>\n";
  if (groups.empty()) return out + "<p>None configured.</p>\n";
  out += "<table>\n<tr><th>group</th><th>networks</th><th>certificate subjects</th>"
         "<th>block lists</th><th>allow lists</th><th>action</th></tr>\n";
  for (const ClientGroup& group : groups) {
    out += "<tr><td>" + html(group.name) + "</td><td>" +
           html_names(prefix_texts(group.networks), "") + "</td><td>" +
           html_names(group.certificate_subjects, "") + "</td><td>" +
           html_names(group.lists, "none") + "</td><td>" + html_names(group.allow, "none") +
           "</td><td>" + to_string(group.action) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string html_events(const std::vector<RecentEvent>& events, const char* detail_title) {
  if (events.empty()) return "<p>None since the start.</p>\n";
  std::string out = "<table>\n<tr><th>time (UTC)</th><th>name</th><th>" +
                    std::string(detail_title) + "</th></tr>\n";
  for (const RecentEvent& event : events) {
    out += "<tr><td>" + rfc3339_utc(event.time) + "</td><td>" + html(event.name) + "</td><td>" +
           html(event.detail) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

}  // namespace

std::string rfc3339_utc(WallTime time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

ComplianceReport build_compliance_report(MetricsSnapshot snapshot) {
  ComplianceReport report;
  report.validation = judge_validation(snapshot);
  report.blocking = judge_blocking(snapshot);
  const CounterTotals& totals = snapshot.totals;
  report.validated_share =
      share(totals.dnssec[static_cast<size_t>(DnssecOutcome::secure)], totals.total_dnssec());
  report.block_share = share(totals.total_blocked(), totals.total_queries());
  report.data = std::move(snapshot);
  return report;
}

std::string to_json(const ComplianceReport& report) {
  const MetricsSnapshot& data = report.data;
  const CounterTotals& totals = data.totals;
  std::string out = "{\n";
  out += "  \"generated_at\": " + json_string(rfc3339_utc(data.taken_at)) + ",\n";
  out += "  \"started_at\": " + json_string(rfc3339_utc(data.started_at)) + ",\n";
  out += "  \"version\": " + json_string(data.version) + ",\n";

  out += "  \"requirement_21_dnssec_validation\": {\n    " + json_verdict(report.validation) + ",\n";
  out += "    \"validation_enabled\": " + std::string(data.validation_enabled ? "true" : "false") +
         ",\n    \"trust_anchors\": [";
  for (size_t i = 0; i < data.trust_anchors.size(); ++i) {
    const TrustAnchorInfo& anchor = data.trust_anchors[i];
    out += std::string(i ? ", " : "") + "{\"zone\": " + json_string(anchor.zone) +
           ", \"source\": " + json_string(anchor.source) +
           ", \"loaded\": " + (anchor.loaded ? "true" : "false") + "}";
  }
  out += "],\n    \"answers\": {";
  for (size_t i = 0; i < kDnssecOutcomeCount; ++i) {
    out += std::string(i ? ", " : "") + json_string(to_string(static_cast<DnssecOutcome>(i))) +
           ": " + std::to_string(totals.dnssec[i]);
  }
  out += "},\n    \"validated_share\": " + json_share(report.validated_share) + ",\n";
  out += "    \"recent_bogus\": " + json_events(data.recent_bogus, "reason") + "\n  },\n";

  out += "  \"requirement_22_blocking\": {\n    " + json_verdict(report.blocking) + ",\n";
  out += "    \"lists\": [";
  for (size_t i = 0; i < data.lists.size(); ++i) {
    const ListStatus& list = data.lists[i];
    out += std::string(i ? "," : "") + "\n      {\"name\": " + json_string(list.name) +
           ", \"kind\": " + json_string(list.allow ? "allow" : "block") +
           ", \"source\": " + json_string(list.source) +
           ", \"format\": " + json_string(list.format) +
           ", \"refresh_seconds\": " + std::to_string(list.refresh.count()) +
           ", \"last_success\": " + json_time(list.last_success) +
           ", \"last_attempt\": " + json_time(list.last_attempt) +
           ", \"entries\": " + std::to_string(list.entries) +
           ", \"failures\": " + std::to_string(list.total_failures()) +
           ", \"last_failure\": " + json_time(list.last_failure) +
           ", \"last_failure_reason\": " +
           (list.last_failure ? json_string(to_string(list.last_failure_reason)) : "null") +
           ", \"failing\": " + (list.failing() ? "true" : "false") +
           ", \"blocked\": " + std::to_string(list.blocked) + "}";
  }
  out += data.lists.empty() ? "],\n" : "\n    ],\n";
  out += "    \"client_groups\": " + json_client_groups(data.client_groups) + ",\n";
  out += "    \"queries\": " + std::to_string(totals.total_queries()) + ",\n";
  out += "    \"blocked\": " + std::to_string(totals.total_blocked()) + ",\n";
  out += "    \"block_share\": " + json_share(report.block_share) + ",\n";
  out += "    \"recent_blocks\": " + json_events(data.recent_blocks, "list") + "\n  },\n";
  out += "  \"requirements_17_to_20_and_23_own_domains\": " +
         (data.domain_audit ? audit_json_object(*data.domain_audit, "  ") : "null") + "\n}\n";
  return out;
}

std::string to_html(const ComplianceReport& report) {
  const MetricsSnapshot& data = report.data;
  const CounterTotals& totals = data.totals;
  std::string out = html_page_start("dnsvagt compliance summary");
  out += "<p>Generated " + rfc3339_utc(data.taken_at) + " (UTC) by dnsvagt " + html(data.version) +
         ", running since " + rfc3339_utc(data.started_at) +
         ". Figures count since that start. Machine-readable: <a href=\"/compliance.json\">"
         "/compliance.json</a>.</p>\n";

  out += html_verdict("Requirement 21: DNSSEC answers are validated", report.validation);
  out += "<table>\n<tr><th>DNSSEC validation</th><td>" +
         std::string(data.validation_enabled ? "enabled" : "disabled") + "</td></tr>\n";
  out += "<tr><th>validated share (secure / all answers)</th><td>" +
         html_share(report.validated_share, "n/a (no answers yet)") + "</td></tr>\n";
  for (size_t i = 0; i < kDnssecOutcomeCount; ++i) {
    out += "<tr><th>answers " + std::string(to_string(static_cast<DnssecOutcome>(i))) +
           "</th><td class=\"n\">" + std::to_string(totals.dnssec[i]) + "</td></tr>\n";
  }
  out += "</table>\n<h3>Trust anchors</h3>\n";
  if (data.trust_anchors.empty()) {
    out += "<p>None configured.</p>\n";
  } else {
    out += "<table>\n<tr><th>zone</th><th>source</th><th>state</th></tr>\n";
    for (const TrustAnchorInfo& anchor : data.trust_anchors) {
      out += "<tr><td>" + html(anchor.zone) + "</td><td>" + html(anchor.source) + "</td><td>" +
             (anchor.loaded ? "loaded" : "NOT loaded") + "</td></tr>\n";
    }
    out += "</table>\n";
  }
  out += "<h3>Recent bogus answers (answered SERVFAIL)</h3>\n";
  out += html_events(data.recent_bogus, "validation failure");

  out += html_verdict("Requirement 22: malicious domains are blocked by updated lists",
                      report.blocking);
  out += "<table>\n<tr><th>queries</th><td class=\"n\">" + std::to_string(totals.total_queries()) +
         "</td></tr>\n<tr><th>blocked</th><td class=\"n\">" +
         std::to_string(totals.total_blocked()) + "</td></tr>\n<tr><th>blocked share</th><td>" +
         html_share(report.block_share, "n/a (no queries yet)") +
         "</td></tr>\n</table>\n<h3>Lists</h3>\n";
  if (data.lists.empty()) {
    out += "<p>None configured.</p>\n";
  } else {
    out += "<table>\n<tr><th>name</th><th>kind</th><th>source</th><th>format</th>"
           "<th>refresh</th><th>last successful update (UTC)</th><th>entries</th>"
           "<th>failed updates</th><th>last failure</th><th>blocked queries</th></tr>\n";
    for (const ListStatus& list : data.lists) {
      std::string last_failure =
          list.last_failure
              ? rfc3339_utc(*list.last_failure) + " (" + to_string(list.last_failure_reason) +
                    (list.failing() ? ", still failing)" : ")")
              : "none";
      out += "<tr><td>" + html(list.name) + "</td><td>" +
             (list.allow ? "allow" : "block") + "</td><td>" +
             html(list.source) + "</td><td>" + html(list.format) +
             "</td><td>" + duration_text(list.refresh) + "</td><td>" +
             html_time(list.last_success) + "</td><td class=\"n\">" +
             std::to_string(list.entries) + "</td><td class=\"n\">" +
             std::to_string(list.total_failures()) + "</td><td>" + last_failure +
             "</td><td class=\"n\">" + std::to_string(list.blocked) + "</td></tr>\n";
    }
    out += "</table>\n";
  }
  out += html_client_groups(data.client_groups);
  out += "<h3>Recent blocked queries</h3>\n";
  out += html_events(data.recent_blocks, "list");

  out += "<h2>Requirements 17-20 and 23: the authority's own domains</h2>\n";
  out += data.domain_audit ? html_audit(*data.domain_audit)
                           : "<p>No audit yet (audit.domains is empty, or the first audit has "
                             "not finished).</p>\n";
  out += "</body>\n</html>\n";
  return out;
}

std::string audit_json(const AuditReport& report) { return audit_json_object(report, "") + "\n"; }

std::string audit_html(const AuditReport& report) {
  return html_page_start("dnsvagt own-domain audit") + html_audit(report) + "</body>\n</html>\n";
}

}  // namespace dnsvagt
