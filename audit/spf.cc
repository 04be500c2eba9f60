#include "audit/spf.h"

#include <algorithm>
#include <sstream>

#include "dns/ascii_text.h"

namespace dnsvagt {
namespace {

bool is_qualifier(char c) { return c == '+' || c == '-' || c == '~' || c == '?'; }

// Evaluates one record and, depth first, the records it includes and redirects to.
class SpfWalk {
 public:
  explicit SpfWalk(const SpfFetcher& fetch) : fetch_(fetch) {}

  // The qualifier `record` ends with; stops early once the outcome is certain.
  std::optional<char> walk(std::string_view record, const std::string& where) {
    SpfRecord parsed = parse_spf(record);
    if (!parsed.problem.empty()) {
      permerror(where + ": " + parsed.problem);
      return std::nullopt;
    }
    lookups_ += parsed.lookup_terms;
    if (over_limit()) return std::nullopt;
    for (const std::string& domain : parsed.includes) {
      if (std::optional<std::string> text = fetch(domain, "include:")) walk(*text, domain);
      if (over_limit() || !permerror_.empty()) return std::nullopt;
    }
    if (parsed.all || !parsed.redirect) return parsed.all;
    std::optional<std::string> text = fetch(*parsed.redirect, "redirect=");
    return text ? walk(*text, *parsed.redirect) : std::nullopt;
  }

  SpfEvaluation result(std::optional<char> all) const {
    SpfEvaluation evaluation;
    evaluation.lookups = lookups_;
    evaluation.all = all;
    std::string count = std::to_string(lookups_) + " of at most " +
                        std::to_string(kSpfLookupLimit) + " DNS lookups";
    if (over_limit()) {
      evaluation.verdict = Verdict::not_met;
      evaluation.evidence = "more than " + std::to_string(kSpfLookupLimit) +
                            " DNS lookups (at least " + std::to_string(lookups_) + ")";
    } else if (!permerror_.empty()) {
      evaluation.verdict = Verdict::not_met;
      evaluation.evidence = "permanent error: " + permerror_;
    } else if (!unknown_.empty()) {
      evaluation.verdict = Verdict::cannot_tell;
      evaluation.evidence = count + " so far; " + unknown_;
    } else if (all == '-' || all == '~') {
      evaluation.verdict = Verdict::met;
      evaluation.evidence = count + ", ends in " + std::string(1, *all) + "all";
    } else {
      evaluation.verdict = Verdict::not_met;
      evaluation.evidence = count + ", " +
                            (all ? "ends in " + std::string(1, *all) + "all"
                                 : std::string("has no all mechanism")) +
                            " (-all or ~all required)";
    }
    return evaluation;
  }

 private:
  bool over_limit() const { return lookups_ > kSpfLookupLimit; }
  void permerror(const std::string& what) {
    if (permerror_.empty()) permerror_ = what;
  }

  // The record of an include or redirect target, or nullopt (noted why).
  std::optional<std::string> fetch(const std::string& domain, const char* term) {
    if (domain.find('%') != std::string::npos) {
      // A macro names a domain only at evaluation time: its lookups cannot be counted here.
      if (unknown_.empty()) unknown_ = std::string(term) + domain + " uses a macro";
      return std::nullopt;
    }
    SpfFetch fetched = fetch_(domain);
    switch (fetched.result) {
      case SpfFetch::Result::record:
        return fetched.text;
      case SpfFetch::Result::no_record:
        permerror(std::string(term) + domain + " has no SPF record" +
                  (fetched.text.empty() ? "" : " (" + fetched.text + ")"));
        return std::nullopt;
      case SpfFetch::Result::failed:
        if (unknown_.empty()) unknown_ = std::string(term) + domain + ": " + fetched.text;
        return std::nullopt;
    }
    return std::nullopt;
  }

  const SpfFetcher& fetch_;
  int lookups_ = 0;
  std::string permerror_;
  std::string unknown_;  // why the count is not complete
};

}  // namespace

bool is_spf_record(std::string_view txt) {
  if (txt.size() < 6 || ascii_lowercase(txt.substr(0, 6)) != "v=spf1") return false;
  return txt.size() == 6 || txt[6] == ' ';
}

SpfRecord parse_spf(std::string_view record) {
  SpfRecord parsed;
  if (!is_spf_record(record)) {
    parsed.problem = "not an SPF record (expected \"v=spf1 ...\")";
    return parsed;
  }
  std::istringstream terms{std::string(record.substr(6))};
  std::string term;
  while (terms >> term) {
    std::string lower = ascii_lowercase(term);
    size_t equals = lower.find('=');
    size_t separator = lower.find_first_of(":/");
    if (equals != std::string::npos && equals < separator) {
      // A modifier: name=value. Only redirect= costs a lookup; unknown ones are ignored.
      std::string name = lower.substr(0, equals);
      std::string value = term.substr(equals + 1);
      if (name == "redirect") {
        if (parsed.redirect) parsed.problem = "redirect= given twice";
        if (value.empty()) parsed.problem = "redirect= without a domain";
        parsed.redirect = value;
        ++parsed.lookup_terms;
      }
      continue;
    }
    char qualifier = '+';
    if (!lower.empty() && is_qualifier(lower.front())) {
      qualifier = lower.front();
      lower.erase(0, 1);
      term.erase(0, 1);
    }
    std::string name = lower.substr(0, lower.find_first_of(":/"));
    std::string argument = name.size() < term.size() && term[name.size()] == ':'
                               ? term.substr(name.size() + 1)
                               : "";
    if (name == "all") {
      if (name.size() != lower.size()) parsed.problem = "all takes no argument: " + term;
      // Terms after all are never evaluated (RFC 7208 5.1), so the first all is the end.
      if (!parsed.all) parsed.all = qualifier;
    } else if (name == "include" || name == "exists") {
      if (argument.empty()) parsed.problem = name + " without a domain: " + term;
      if (name == "include") parsed.includes.push_back(argument);
      ++parsed.lookup_terms;
    } else if (name == "a" || name == "mx" || name == "ptr") {
      ++parsed.lookup_terms;
    } else if (name != "ip4" && name != "ip6") {
      parsed.problem = "unknown mechanism " + term;
    }
    if (!parsed.problem.empty()) return parsed;
  }
  // With an all the redirect is never followed (RFC 7208 6.1), so it costs no lookup.
  if (parsed.all && parsed.redirect) --parsed.lookup_terms;
  return parsed;
}

SpfEvaluation evaluate_spf(std::string_view record, const SpfFetcher& fetch) {
  SpfWalk walk(fetch);
  std::optional<char> all = walk.walk(record, "the record");
  return walk.result(all);
}

}  // namespace dnsvagt
