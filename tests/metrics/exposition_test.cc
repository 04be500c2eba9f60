#include "metrics/exposition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "version.h"

namespace dnsvagt {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using std::chrono::hours;

struct ContractFamily {
  std::string name;
  std::string type;
  std::set<std::string> labels;
};

// The rows of the "Metrics contract" table of DESIGN.md: | `name` | type | `label` (values) |
std::vector<ContractFamily> contract_families() {
  const char* source_dir = std::getenv("DNSVAGT_SOURCE_DIR");
  std::ifstream design(std::string(source_dir ? source_dir : ".") + "/DESIGN.md");
  EXPECT_TRUE(design.good()) << "DESIGN.md not found; set DNSVAGT_SOURCE_DIR";
  std::vector<ContractFamily> families;
  std::regex row(R"(^\| `(dnsvagt_[a-z_]+)` \| (counter|gauge|histogram) \| (.*) \|$)");
  std::regex label(R"(`([a-z_]+)`)");
  std::string line;
  while (std::getline(design, line)) {
    std::smatch match;
    if (!std::regex_match(line, match, row)) continue;
    ContractFamily family{match[1], match[2], {}};
    std::string labels = match[3];
    for (std::sregex_iterator it(labels.begin(), labels.end(), label), end; it != end; ++it) {
      family.labels.insert((*it)[1]);
    }
    families.push_back(family);
  }
  return families;
}

// What a text exposition says about each family: its TYPE and the label names of its samples.
struct ExposedFamily {
  std::string type;
  std::set<std::string> labels;
  size_t samples = 0;
};

std::map<std::string, ExposedFamily> parse_exposition(const std::string& text) {
  std::map<std::string, ExposedFamily> families;
  std::istringstream lines(text);
  std::string line;
  std::regex type_line(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) ([a-z]+)$)");
  std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? \S+$)");
  std::regex label(R"(([a-zA-Z_][a-zA-Z0-9_]*)=\")");
  while (std::getline(lines, line)) {
    std::smatch match;
    if (std::regex_match(line, match, type_line)) {
      families[match[1]].type = match[2];
    } else if (std::regex_match(line, match, sample)) {
      std::string name = match[1];
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        std::string base = name.substr(0, name.size() - std::string(suffix).size());
        if (name.ends_with(suffix) && families.count(base) && families[base].type == "histogram") {
          name = base;
        }
      }
      ExposedFamily& family = families[name];
      ++family.samples;
      std::string labels = match[3];
      for (std::sregex_iterator it(labels.begin(), labels.end(), label), end; it != end; ++it) {
        if ((*it)[1] != "le") family.labels.insert((*it)[1]);
      }
    }
  }
  return families;
}

std::string scrape(const Metrics& metrics) {
  return exposition_text(metric_families(metrics.snapshot()));
}

// An audit of one domain with a verdict per requirement: 17 met, 18 not met, the rest cannot tell.
std::shared_ptr<const AuditReport> audit_report() {
  auto report = std::make_shared<AuditReport>();
  report->finished_at = WallTime(std::chrono::seconds(1714564800));
  DomainResult& domain = report->domains.emplace_back();
  domain.domain = "example.dk";
  for (int requirement : kAuditedRequirements) {
    Verdict verdict = requirement == 17   ? Verdict::met
                      : requirement == 18 ? Verdict::not_met
                                          : Verdict::cannot_tell;
    domain.requirements.push_back({requirement, verdict, {{verdict, "subject", "evidence"}}});
  }
  return report;
}

TEST(ExpositionTest, EveryContractFamilyHasItsTypeAndLabels) {
  Metrics metrics(1);  // fresh: no counts, no lists
  metrics.set_lists({{.name = "urlhaus", .source = "https://example.org/h", .format = "hosts"}});
  // The one family without samples from the start: its domains appear with their first audit.
  metrics.set_domain_audit(audit_report());
  std::map<std::string, ExposedFamily> exposed = parse_exposition(scrape(metrics));
  std::vector<ContractFamily> contract = contract_families();
  ASSERT_EQ(contract.size(), 14u) << "the DESIGN.md metrics table changed shape";
  for (const ContractFamily& family : contract) {
    SCOPED_TRACE(family.name);
    ASSERT_TRUE(exposed.count(family.name));
    EXPECT_EQ(exposed[family.name].type, family.type);
    EXPECT_EQ(exposed[family.name].labels, family.labels);
    EXPECT_GT(exposed[family.name].samples, 0u) << "exported from the start";
  }
  const std::map<std::string, std::string> extras = {
      {"dnsvagt_cache_entries", "gauge"},   {"dnsvagt_cache_bytes", "gauge"},
      {"dnsvagt_tcp_connections", "gauge"}, {"dnsvagt_workers", "gauge"},
      {"process_start_time_seconds", "gauge"}, {"dnsvagt_query_log_dropped_total", "counter"},
      {"dnsvagt_rate_limited_total", "counter"},
      {"dnsvagt_tcp_connections_dropped_total", "counter"},
      {"dnsvagt_proxy_headers_refused_total", "counter"},
      {"dnsvagt_doh_errors_total", "counter"},
      {"dnsvagt_internal_errors_total", "counter"},
      {"dnsvagt_list_last_attempt_timestamp_seconds", "gauge"},
      {"dnsvagt_list_refresh_interval_seconds", "gauge"}, {"dnsvagt_list_info", "gauge"}};
  for (const auto& [name, type] : extras) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(exposed.count(name));
    EXPECT_EQ(exposed[name].type, type);
  }
  EXPECT_EQ(exposed.size(), contract.size() + extras.size()) << "an undocumented family";
}

TEST(ExpositionTest, ZeroCountersOfEveryKnownLabelValueFromTheStart) {
  Metrics metrics(2);
  metrics.set_lists(
      {{.name = "urlhaus", .source = "https://example.org/h", .format = "hosts"},
       {.name = "exceptions", .allow = true, .source = "/etc/allow.txt", .format = "domains"}});
  std::string text = scrape(metrics);
  for (const char* sample :
       {"dnsvagt_queries_total{transport=\"udp\"} 0", "dnsvagt_queries_total{transport=\"tcp\"} 0",
        "dnsvagt_responses_total{rcode=\"NOERROR\"} 0",
        "dnsvagt_responses_total{rcode=\"NXDOMAIN\"} 0",
        "dnsvagt_responses_total{rcode=\"SERVFAIL\"} 0",
        "dnsvagt_responses_total{rcode=\"REFUSED\"} 0",
        "dnsvagt_responses_total{rcode=\"FORMERR\"} 0",
        "dnsvagt_responses_total{rcode=\"NOTIMP\"} 0",
        "dnsvagt_responses_total{rcode=\"BADVERS\"} 0",
        "dnsvagt_dnssec_answers_total{status=\"secure\"} 0",
        "dnsvagt_dnssec_answers_total{status=\"insecure\"} 0",
        "dnsvagt_dnssec_answers_total{status=\"bogus\"} 0",
        "dnsvagt_dnssec_answers_total{status=\"indeterminate\"} 0",
        "dnsvagt_blocked_queries_total{list=\"urlhaus\"} 0",
        "dnsvagt_cache_lookups_total{result=\"hit\"} 0",
        "dnsvagt_cache_lookups_total{result=\"miss\"} 0",
        "dnsvagt_upstream_errors_total{reason=\"timeout\"} 0",
        "dnsvagt_list_update_failures_total{list=\"urlhaus\",reason=\"connect\"} 0",
        "dnsvagt_list_update_failures_total{list=\"exceptions\",reason=\"shrink\"} 0",
        "dnsvagt_list_last_success_timestamp_seconds{list=\"urlhaus\"} 0",
        "dnsvagt_query_duration_seconds_bucket{le=\"5e-05\"} 0",
        "dnsvagt_query_duration_seconds_bucket{le=\"+Inf\"} 0",
        "dnsvagt_query_duration_seconds_count 0", "dnsvagt_query_log_dropped_total 0",
        "dnsvagt_rate_limited_total{transport=\"udp\"} 0",
        "dnsvagt_rate_limited_total{transport=\"tcp\"} 0",
        "dnsvagt_tcp_connections_dropped_total{reason=\"acl\"} 0",
        "dnsvagt_tcp_connections_dropped_total{reason=\"write_timeout\"} 0",
        "dnsvagt_proxy_headers_refused_total{transport=\"udp\",reason=\"untrusted\"} 0",
        "dnsvagt_proxy_headers_refused_total{transport=\"tcp\",reason=\"invalid\"} 0",
        "dnsvagt_internal_errors_total 0"}) {
    EXPECT_THAT(text, HasSubstr(std::string("\n") + sample + "\n"));
  }
  // An allow list blocks nothing, and unassigned rcodes appear only once seen.
  EXPECT_THAT(text, Not(HasSubstr("dnsvagt_blocked_queries_total{list=\"exceptions\"}")));
  EXPECT_THAT(text, Not(HasSubstr("RCODE12")));
  EXPECT_THAT(text, HasSubstr("dnsvagt_list_info{list=\"exceptions\",kind=\"allow\"} 1\n"));
}

TEST(ExpositionTest, ExactValuesAfterKnownIncrements) {
  WallTime start = WallTime(std::chrono::seconds(1700000000));
  Metrics metrics(2, start);
  metrics.set_validation_enabled(true);
  metrics.set_lists({{.name = "urlhaus", .source = "https://example.org/h", .format = "hosts"}});
  metrics.list_update_succeeded("urlhaus", 4321, WallTime(std::chrono::seconds(1700000100)));
  metrics.list_update_failed("urlhaus", UpdateFailure::http_status,
                             WallTime(std::chrono::seconds(1700003700)));
  metrics.set_cache_usage_source([] { return CacheUsage{12, 34567}; });
  uint32_t urlhaus = metrics.list_index("urlhaus");
  for (int i = 0; i < 7; ++i) metrics.worker(0).query(Transport::udp);
  for (int i = 0; i < 3; ++i) metrics.worker(1).query(Transport::tcp);
  metrics.worker(0).response(0);
  metrics.worker(1).response(3);
  metrics.worker(1).response(12);
  metrics.worker(0).dnssec(DnssecOutcome::secure);
  metrics.worker(1).dnssec(DnssecOutcome::secure);
  metrics.worker(1).dnssec(DnssecOutcome::bogus);
  metrics.worker(0).blocked(urlhaus);
  metrics.worker(1).blocked(urlhaus);
  metrics.worker(1).blocked(kOverflowListIndex);
  metrics.worker(0).cache_lookup(true);
  metrics.worker(0).cache_lookup(false);
  metrics.worker(0).upstream_error(UpstreamErrorReason::network);
  metrics.worker(0).query_duration(0.0002);
  metrics.worker(1).query_duration(0.003);
  metrics.worker(1).tcp_connection_opened();
  metrics.worker(1).tcp_connection_opened();
  metrics.worker(0).tcp_connection_opened();
  metrics.worker(1).tcp_connection_closed();

  std::string text = scrape(metrics);
  for (const char* sample :
       {"dnsvagt_queries_total{transport=\"udp\"} 7", "dnsvagt_queries_total{transport=\"tcp\"} 3",
        "dnsvagt_responses_total{rcode=\"NOERROR\"} 1",
        "dnsvagt_responses_total{rcode=\"NXDOMAIN\"} 1",
        "dnsvagt_responses_total{rcode=\"RCODE12\"} 1",
        "dnsvagt_dnssec_answers_total{status=\"secure\"} 2",
        "dnsvagt_dnssec_answers_total{status=\"bogus\"} 1",
        "dnsvagt_blocked_queries_total{list=\"urlhaus\"} 2",
        "dnsvagt_blocked_queries_total{list=\"_overflow\"} 1",
        "dnsvagt_cache_lookups_total{result=\"hit\"} 1",
        "dnsvagt_cache_lookups_total{result=\"miss\"} 1",
        "dnsvagt_upstream_errors_total{reason=\"network\"} 1",
        "dnsvagt_query_duration_seconds_bucket{le=\"0.0001\"} 0",
        "dnsvagt_query_duration_seconds_bucket{le=\"0.00025\"} 1",
        "dnsvagt_query_duration_seconds_bucket{le=\"0.0025\"} 1",
        "dnsvagt_query_duration_seconds_bucket{le=\"0.005\"} 2",
        "dnsvagt_query_duration_seconds_bucket{le=\"+Inf\"} 2",
        "dnsvagt_query_duration_seconds_count 2", "dnsvagt_query_duration_seconds_sum 0.0032",
        "dnsvagt_list_entries{list=\"urlhaus\"} 4321",
        "dnsvagt_list_last_success_timestamp_seconds{list=\"urlhaus\"} 1700000100",
        "dnsvagt_list_last_attempt_timestamp_seconds{list=\"urlhaus\"} 1700003700",
        "dnsvagt_list_refresh_interval_seconds{list=\"urlhaus\"} 3600",
        "dnsvagt_list_update_failures_total{list=\"urlhaus\",reason=\"http_status\"} 1",
        "dnsvagt_dnssec_validation_enabled 1", "dnsvagt_cache_entries 12",
        "dnsvagt_cache_bytes 34567", "dnsvagt_tcp_connections 2", "dnsvagt_workers 2",
        "process_start_time_seconds 1700000000"}) {
    EXPECT_THAT(text, HasSubstr(std::string("\n") + sample + "\n"));
  }
  EXPECT_THAT(text, HasSubstr("dnsvagt_build_info{version=\"" DNSVAGT_VERSION "\"} 1\n"));
}

TEST(ExpositionTest, TcpConnectionsNeverGoBelowZero) {
  MetricsSnapshot snapshot;
  snapshot.totals.tcp_opened = 4;
  snapshot.totals.tcp_closed = 5;  // a close read after an open it did not see
  EXPECT_THAT(exposition_text(metric_families(snapshot)), HasSubstr("\ndnsvagt_tcp_connections 0\n"));
}

TEST(ExpositionTest, DomainAuditVerdictsAndTime) {
  Metrics metrics(1);
  std::string before = scrape(metrics);
  EXPECT_THAT(before, HasSubstr("\ndnsvagt_domain_audit_timestamp_seconds 0\n"));
  EXPECT_THAT(before, Not(HasSubstr("dnsvagt_domain_requirement_met{")));
  metrics.set_domain_audit(audit_report());
  std::string text = scrape(metrics);
  EXPECT_THAT(text, HasSubstr("\ndnsvagt_domain_audit_timestamp_seconds 1714564800\n"));
  for (const char* sample :
       {"dnsvagt_domain_requirement_met{domain=\"example.dk\",requirement=\"17\"} 1\n",
        "dnsvagt_domain_requirement_met{domain=\"example.dk\",requirement=\"18\"} 0\n",
        "dnsvagt_domain_requirement_met{domain=\"example.dk\",requirement=\"19\"} -1\n",
        "dnsvagt_domain_requirement_met{domain=\"example.dk\",requirement=\"23\"} -1\n"}) {
    EXPECT_THAT(text, HasSubstr(sample));
  }
  metrics.set_domain_audit(nullptr);  // no domains any more
  EXPECT_THAT(scrape(metrics), Not(HasSubstr("dnsvagt_domain_requirement_met{")));
}

TEST(ExpositionTest, CollectableReadsTheLiveMetrics) {
  Metrics metrics(1);
  MetricsCollectable collectable(metrics);
  metrics.worker(0).query(Transport::udp);
  std::string text = exposition_text(collectable.Collect());
  EXPECT_THAT(text, HasSubstr("\ndnsvagt_queries_total{transport=\"udp\"} 1\n"));
}

}  // namespace
}  // namespace dnsvagt
