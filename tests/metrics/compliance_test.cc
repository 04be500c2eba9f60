#include "metrics/compliance.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dnsvagt {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using std::chrono::hours;
using std::chrono::minutes;

const WallTime kStart = WallTime(std::chrono::seconds(1714564800));  // 2024-05-01T12:00:00Z

ListStatus block_list(std::string name, uint64_t entries, std::optional<WallTime> last_success) {
  ListStatus list;
  list.name = name;
  list.source = "https://feeds.example/" + name + ".txt";
  list.format = "hosts";
  list.refresh = hours(1);
  list.entries = entries;
  list.last_success = last_success;
  list.last_attempt = last_success;
  return list;
}

// A healthy instance three hours after start: validating with a loaded root anchor, two
// fresh block lists.
MetricsSnapshot healthy() {
  MetricsSnapshot data;
  data.started_at = kStart;
  data.taken_at = kStart + hours(3);
  data.version = "1.2.3";
  data.validation_enabled = true;
  data.trust_anchors = {{".", "/var/lib/dnsvagt/root.key", true}};
  data.lists = {block_list("urlhaus", 5000, kStart + hours(3) - minutes(10)),
                block_list("phishing", 800, kStart + hours(2) + minutes(30))};
  data.totals.dnssec = {60, 30, 5, 5};
  data.totals.queries = {180, 20};
  data.totals.blocked[0] = 8;
  data.totals.blocked[1] = 2;
  return data;
}

TEST(ComplianceTest, HealthyInstanceMeetsBothRequirements) {
  ComplianceReport report = build_compliance_report(healthy());
  EXPECT_TRUE(report.validation.met);
  EXPECT_THAT(report.validation.reasons, IsEmpty());
  EXPECT_TRUE(report.blocking.met);
  EXPECT_THAT(report.blocking.reasons, IsEmpty());
  ASSERT_TRUE(report.validated_share.has_value());
  EXPECT_DOUBLE_EQ(*report.validated_share, 0.6);
  ASSERT_TRUE(report.block_share.has_value());
  EXPECT_DOUBLE_EQ(*report.block_share, 0.05);
}

TEST(ComplianceTest, SharesAreUnknownBeforeAnyTraffic) {
  MetricsSnapshot data = healthy();
  data.totals = {};
  ComplianceReport report = build_compliance_report(data);
  EXPECT_FALSE(report.validated_share.has_value());
  EXPECT_FALSE(report.block_share.has_value());
  EXPECT_THAT(to_json(report), HasSubstr("\"validated_share\": null"));
  EXPECT_THAT(to_json(report), HasSubstr("\"block_share\": null"));
}

TEST(ComplianceTest, ValidationOffIsAtRisk) {
  MetricsSnapshot data = healthy();
  data.validation_enabled = false;
  ComplianceReport report = build_compliance_report(data);
  EXPECT_FALSE(report.validation.met);
  EXPECT_THAT(report.validation.reasons, ElementsAre(HasSubstr("validation is disabled")));
  EXPECT_TRUE(report.blocking.met);
}

TEST(ComplianceTest, NoTrustAnchorIsAtRisk) {
  MetricsSnapshot data = healthy();
  data.trust_anchors.clear();
  ComplianceReport report = build_compliance_report(data);
  EXPECT_FALSE(report.validation.met);
  EXPECT_THAT(report.validation.reasons, ElementsAre(HasSubstr("no DNSSEC trust anchor")));
}

TEST(ComplianceTest, AnchorThatDidNotLoadIsAtRisk) {
  MetricsSnapshot data = healthy();
  data.trust_anchors.push_back({"corp.example.dk", "/etc/dnsvagt/corp.ds", false});
  ComplianceReport report = build_compliance_report(data);
  EXPECT_FALSE(report.validation.met);
  EXPECT_THAT(report.validation.reasons,
              ElementsAre(HasSubstr("\"corp.example.dk\" from /etc/dnsvagt/corp.ds is not loaded")));
}

TEST(ComplianceTest, ListOlderThanTwiceItsRefreshIsAtRisk) {
  MetricsSnapshot data = healthy();
  data.lists[1].last_success = data.taken_at - hours(2) - minutes(1);
  ComplianceReport report = build_compliance_report(data);
  EXPECT_FALSE(report.blocking.met);
  EXPECT_THAT(report.blocking.reasons,
              ElementsAre(AllOf(HasSubstr("\"phishing\""), HasSubstr("2024-05-01T12:59:00Z"),
                                HasSubstr("(1h)"))));

  // Exactly twice the interval is still fresh.
  data.lists[1].last_success = data.taken_at - hours(2);
  EXPECT_TRUE(build_compliance_report(data).blocking.met);
}

TEST(ComplianceTest, ListThatNeverLoadedIsStaleOnlyAfterTwiceItsRefreshSinceStart) {
  MetricsSnapshot data = healthy();
  data.lists[1] = block_list("phishing", 0, std::nullopt);
  data.taken_at = kStart + minutes(90);
  data.lists[0].last_success = data.taken_at;
  EXPECT_TRUE(build_compliance_report(data).blocking.met);

  data.taken_at = kStart + hours(2) + minutes(1);
  data.lists[0].last_success = data.taken_at;
  ComplianceReport report = build_compliance_report(data);
  EXPECT_FALSE(report.blocking.met);
  EXPECT_THAT(report.blocking.reasons,
              ElementsAre(HasSubstr("\"phishing\" has not loaded since the start")));
}

TEST(ComplianceTest, AllListsFailingOrEmptyIsAtRisk) {
  MetricsSnapshot data = healthy();
  data.lists[0].entries = 0;
  // One still has entries but its last update failed.
  data.lists[1].last_failure = data.taken_at - minutes(1);
  data.lists[1].last_failure_reason = UpdateFailure::connect;
  data.lists[1].failures[0] = 1;
  ComplianceReport report = build_compliance_report(data);
  EXPECT_FALSE(report.blocking.met);
  EXPECT_THAT(report.blocking.reasons, ElementsAre(HasSubstr("every block list is empty")));

  // One good list is enough.
  data.lists[1].last_success = data.taken_at;
  EXPECT_TRUE(build_compliance_report(data).blocking.met);
}

TEST(ComplianceTest, NoBlockListsIsAtRiskAndAllowListsDoNotCount) {
  MetricsSnapshot data = healthy();
  data.lists.clear();
  ComplianceReport report = build_compliance_report(data);
  EXPECT_FALSE(report.blocking.met);
  EXPECT_THAT(report.blocking.reasons, ElementsAre(HasSubstr("no block lists")));

  ListStatus allow = block_list("exceptions", 3, data.taken_at);
  allow.allow = true;
  data.lists.push_back(allow);
  EXPECT_THAT(build_compliance_report(data).blocking.reasons,
              ElementsAre(HasSubstr("no block lists")));
}

TEST(ComplianceTest, JsonHoldsTheFiguresAndVerdicts) {
  MetricsSnapshot data = healthy();
  data.validation_enabled = false;
  data.lists[0].blocked = 8;
  data.lists[0].failures[static_cast<size_t>(UpdateFailure::parse_budget)] = 2;
  data.lists[0].last_failure = kStart + hours(1);
  data.lists[0].last_failure_reason = UpdateFailure::parse_budget;
  data.recent_bogus = {{kStart + hours(2), "dnssec-failed.org", "signature \"expired\"", 0}};
  data.recent_blocks = {{kStart + hours(2) + minutes(5), "malware.example", "urlhaus", 0}};
  std::string json = to_json(build_compliance_report(data));
  for (const char* part : {
           "\"generated_at\": \"2024-05-01T15:00:00Z\"",
           "\"started_at\": \"2024-05-01T12:00:00Z\"",
           "\"version\": \"1.2.3\"",
           "\"verdict\": \"at risk\", \"reasons\": [\"DNSSEC validation is disabled",
           "\"validation_enabled\": false",
           "{\"zone\": \".\", \"source\": \"/var/lib/dnsvagt/root.key\", \"loaded\": true}",
           "\"answers\": {\"secure\": 60, \"insecure\": 30, \"bogus\": 5, \"indeterminate\": 5}",
           "\"validated_share\": 0.6",
           "{\"time\": \"2024-05-01T14:00:00Z\", \"name\": \"dnssec-failed.org\", "
           "\"reason\": \"signature \\\"expired\\\"\"}",
           "\"verdict\": \"met\", \"reasons\": []",
           "{\"name\": \"urlhaus\", \"kind\": \"block\", \"source\": "
           "\"https://feeds.example/urlhaus.txt\", \"format\": \"hosts\", \"refresh_seconds\": 3600, "
           "\"last_success\": \"2024-05-01T14:50:00Z\"",
           "\"entries\": 5000, \"failures\": 2, \"last_failure\": \"2024-05-01T13:00:00Z\", "
           "\"last_failure_reason\": \"parse_budget\", \"failing\": false, \"blocked\": 8}",
           "\"queries\": 200", "\"blocked\": 10", "\"block_share\": 0.05",
           "{\"time\": \"2024-05-01T14:05:00Z\", \"name\": \"malware.example\", \"list\": \"urlhaus\"}",
       }) {
    EXPECT_THAT(json, HasSubstr(part));
  }
}

TEST(ComplianceTest, JsonAndHtmlEscapeHostileNames) {
  MetricsSnapshot data = healthy();
  data.recent_blocks = {{kStart, "<script>alert(1)</script>\"\\\x01\xff.example", "urlhaus", 0}};
  ComplianceReport report = build_compliance_report(data);
  std::string json = to_json(report);
  EXPECT_THAT(json, HasSubstr("\"<script>alert(1)</script>\\\"\\\\\\u0001\\u00ff.example\""));
  std::string html = to_html(report);
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;&quot;\\&#1;&#255;.example"));
}

TEST(ComplianceTest, HtmlIsSelfContainedAndShowsVerdictsAndLists) {
  MetricsSnapshot data = healthy();
  data.trust_anchors.clear();
  data.recent_bogus = {{kStart + hours(2), "dnssec-failed.org", "signature expired", 0}};
  std::string html = to_html(build_compliance_report(data));
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("Requirement 21: DNSSEC answers are validated: <span class=\"risk\">at risk"));
  EXPECT_THAT(html, HasSubstr("no DNSSEC trust anchor is configured"));
  EXPECT_THAT(html, HasSubstr("Requirement 22: malicious domains are blocked by updated lists: "
                              "<span class=\"met\">met"));
  EXPECT_THAT(html, HasSubstr("60.00 %"));
  EXPECT_THAT(html, HasSubstr("5.00 %"));
  EXPECT_THAT(html, HasSubstr("<td>urlhaus</td><td>block</td><td>https://feeds.example/urlhaus.txt"
                              "</td><td>hosts</td><td>1h</td><td>2024-05-01T14:50:00Z</td>"));
  EXPECT_THAT(html, HasSubstr("<td>2024-05-01T14:00:00Z</td><td>dnssec-failed.org</td>"
                              "<td>signature expired</td>"));
  // No external assets: the only link is the JSON twin on the same server.
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
}

TEST(ComplianceTest, ClientGroupsAreShownBesideRequirement22) {
  MetricsSnapshot data = healthy();
  std::string json = to_json(build_compliance_report(data));
  EXPECT_THAT(json, HasSubstr("\"client_groups\": [],\n"));
  EXPECT_THAT(to_html(build_compliance_report(data)),
              HasSubstr("<h3>Client groups</h3>\n<p>A client gets"));
  data.client_groups = {ClientGroup{"guests",
                                    {parse_prefix("192.168.100.0/24"), parse_prefix("fd00::/64")},
                                    {"urlhaus", "adult"},
                                    {},
                                    BlockAction::refused,
                                    {"OU=guests,O=Authority"}}};
  const ComplianceReport report = build_compliance_report(data);
  EXPECT_THAT(to_json(report),
              HasSubstr("\"client_groups\": [\n      {\"name\": \"guests\", \"networks\": "
                        "[\"192.168.100.0/24\", \"fd00::/64\"], \"certificate_subjects\": "
                        "[\"OU=guests,O=Authority\"], \"lists\": [\"urlhaus\", "
                        "\"adult\"], \"allow\": [], \"action\": \"refused\"}\n    ],\n"));
  EXPECT_THAT(to_html(report),
              HasSubstr("<tr><td>guests</td><td>192.168.100.0/24, fd00::/64</td><td>OU=guests,"
                        "O=Authority</td><td>urlhaus, "
                        "adult</td><td>none</td><td>refused</td></tr>"));
}

AuditReport domain_audit() {
  AuditReport report;
  report.finished_at = kStart + hours(1);
  DomainResult& domain = report.domains.emplace_back();
  domain.domain = "example.dk";
  domain.requirements = {
      {17, Verdict::met, {{Verdict::met, "domain name", "example.dk is under .dk"}}},
      {18, Verdict::not_met, {{Verdict::not_met, "example.dk DS", "no DS <at> the parent"}}},
      {19, Verdict::cannot_tell, {{Verdict::cannot_tell, "example.dk MX", "no answer: SERVFAIL"}}},
  };
  return report;
}

TEST(ComplianceTest, OwnDomainsAreNullBeforeAnAudit) {
  std::string json = to_json(build_compliance_report(healthy()));
  EXPECT_THAT(json, HasSubstr("\"requirements_17_to_20_and_23_own_domains\": null\n}"));
  EXPECT_THAT(to_html(build_compliance_report(healthy())), HasSubstr("No audit yet"));
}

TEST(ComplianceTest, OwnDomainsBesideRequirements21And22) {
  MetricsSnapshot data = healthy();
  data.domain_audit = std::make_shared<AuditReport>(domain_audit());
  ComplianceReport report = build_compliance_report(data);
  std::string json = to_json(report);
  for (const char* part : {
           "\"requirements_17_to_20_and_23_own_domains\": {\n    \"audited_at\": "
           "\"2024-05-01T13:00:00Z\",\n    \"all_met\": false,",
           "{\"domain\": \"example.dk\", \"requirements\": [",
           "{\"requirement\": 18, \"title\": \"DNSSEC on the domain and every delegated "
           "subdomain\", \"verdict\": \"not_met\", \"checks\": [",
           "{\"verdict\": \"cannot_tell\", \"subject\": \"example.dk MX\", \"evidence\": "
           "\"no answer: SERVFAIL\"}",
       }) {
    EXPECT_THAT(json, HasSubstr(part));
  }
  std::string html = to_html(report);
  EXPECT_THAT(html, HasSubstr("<h2>Requirements 17-20 and 23: the authority's own domains</h2>"));
  EXPECT_THAT(html, HasSubstr("<tr><td>example.dk</td><td><span class=\"met\">met</span></td>"
                              "<td><span class=\"risk\">not met</span></td><td><span "
                              "class=\"unknown\">cannot tell</span></td></tr>"));
  EXPECT_THAT(html, HasSubstr("no DS &lt;at&gt; the parent"));
}

TEST(ComplianceTest, AuditAloneAsJsonAndHtml) {
  AuditReport report = domain_audit();
  std::string json = audit_json(report);
  EXPECT_THAT(json,
              HasSubstr("{\n  \"audited_at\": \"2024-05-01T13:00:00Z\",\n  \"all_met\": false,"));
  EXPECT_THAT(json, HasSubstr("\"verdict\": \"met\""));
  std::string html = audit_html(report);
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("<h1>dnsvagt own-domain audit</h1>"));
  EXPECT_THAT(html, HasSubstr("<td>example.dk MX</td>"));
}

}  // namespace
}  // namespace dnsvagt
