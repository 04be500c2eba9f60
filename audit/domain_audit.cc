#include "audit/domain_audit.h"

#include <algorithm>
#include <map>
#include <optional>
#include <sstream>

#include "audit/dmarc.h"
#include "audit/spf.h"
#include "dns/ascii_text.h"

namespace dnsvagt {
namespace {

const char* security_text(Security security) {
  switch (security) {
    case Security::secure:
      return "secure";
    case Security::insecure:
      return "insecure";
    case Security::unknown:
      return "not validated";
  }
  return "?";
}

// A record's text shortened for evidence (DKIM keys run to hundreds of characters).
std::string shortened(const std::string& text) {
  constexpr size_t kMax = 120;
  return text.size() <= kMax ? text : text.substr(0, kMax) + "...";
}

// Secure data proves what a requirement needing DNSSEC asks; insecure data disproves it;
// unvalidated data (dnssec.validate: false) tells nothing.
Verdict verdict_of(Security security) {
  switch (security) {
    case Security::secure:
      return Verdict::met;
    case Security::insecure:
      return Verdict::not_met;
    case Security::unknown:
      return Verdict::cannot_tell;
  }
  return Verdict::cannot_tell;
}

// The verdict of a lookup that gave no answer: a bogus one is a fault seen (validating
// receivers get SERVFAIL), a failure or a timeout is no answer seen. nullopt: it answered.
std::optional<Verdict> unanswered(const LookupResult& result) {
  switch (result.outcome) {
    case LookupOutcome::bogus:
      return Verdict::not_met;
    case LookupOutcome::failed:
    case LookupOutcome::timeout:
      return Verdict::cannot_tell;
    default:
      return std::nullopt;
  }
}

bool is_negative(const LookupResult& result) {
  return result.outcome == LookupOutcome::nodata || result.outcome == LookupOutcome::nxdomain;
}

const char* type_text(uint16_t type) {
  switch (type) {
    case rr_type::kA: return "A";
    case rr_type::kSoa: return "SOA";
    case rr_type::kMx: return "MX";
    case rr_type::kTxt: return "TXT";
    case rr_type::kAaaa: return "AAAA";
    case rr_type::kDs: return "DS";
    case rr_type::kTlsa: return "TLSA";
  }
  return "?";
}

// The lookups of one audit run, each asked once (an MX target's A serves 19 for every name
// that points to it, a TXT both SPF and an include).
class Lookups {
 public:
  explicit Lookups(DnsLookup& dns) : dns_(dns) {}
  const LookupResult& operator()(const std::string& name, uint16_t type) {
    auto key = std::make_pair(name, type);
    auto found = results_.find(key);
    if (found == results_.end()) found = results_.emplace(key, dns_.lookup(name, type)).first;
    return found->second;
  }

 private:
  DnsLookup& dns_;
  std::map<std::pair<std::string, uint16_t>, LookupResult> results_;
};

// The checks of one requirement as they are found.
class Findings {
 public:
  void add(Verdict verdict, std::string subject, std::string evidence) {
    checks_.push_back({verdict, std::move(subject), std::move(evidence)});
  }
  // Adds the check of a lookup that gave no answer and returns true; false if it answered.
  bool add_unanswered(const std::string& subject, const LookupResult& result) {
    std::optional<Verdict> verdict = unanswered(result);
    if (verdict) add(*verdict, subject, describe(result));
    return verdict.has_value();
  }
  RequirementResult result(int requirement) && {
    RequirementResult result{requirement, combined_verdict(checks_), std::move(checks_)};
    return result;
  }

 private:
  std::vector<Check> checks_;
};

std::string subject(const std::string& name, uint16_t type) {
  return name + " " + type_text(type);
}

// The TXT records of a lookup that are of one kind (SPF, DMARC).
std::vector<std::string> records_where(const LookupResult& result,
                                       bool (*is_kind)(std::string_view)) {
  std::vector<std::string> matching;
  if (result.outcome != LookupOutcome::data) return matching;
  for (const std::string& record : result.records) {
    if (is_kind(record)) matching.push_back(record);
  }
  return matching;
}

class DomainAudit {
 public:
  DomainAudit(const AuditDomain& domain, DnsLookup& dns) : domain_(domain), lookup_(dns) {
    names_.push_back(domain.name);
    mail_flow_names_.push_back(domain.name);
    for (const AuditSubdomain& subdomain : domain.subdomains) {
      names_.push_back(subdomain.name);
      if (subdomain.mail_flow) mail_flow_names_.push_back(subdomain.name);
    }
  }

  DomainResult run() {
    DomainResult result{domain_.name, {}};
    result.requirements.push_back(requirement_17());
    result.requirements.push_back(requirement_18());
    auto [gateways_signed, gateways_dane] = requirements_19_20();
    result.requirements.push_back(std::move(gateways_signed));
    result.requirements.push_back(std::move(gateways_dane));
    result.requirements.push_back(requirement_23());
    return result;
  }

 private:
  RequirementResult requirement_17() {
    Findings findings;
    const std::string& name = domain_.name;
    if (name == "dk" || name.ends_with(".dk")) {
      findings.add(Verdict::met, "domain name", name + " is under .dk");
    } else if (domain_.foreign_cooperation) {
      findings.add(Verdict::met, "domain name",
                   name + " is not under .dk; exception: a service run with foreign or "
                          "international institutions (foreign_cooperation: true)");
    } else {
      findings.add(Verdict::not_met, "domain name",
                   name + " is not under .dk, and no foreign-cooperation exception is "
                          "configured");
    }
    return std::move(findings).result(17);
  }

  // A secure chain for each name; a DS at the parent for each that is a zone of its own.
  RequirementResult requirement_18() {
    Findings findings;
    for (const std::string& name : names_) {
      const LookupResult& soa = lookup_(name, rr_type::kSoa);
      if (findings.add_unanswered(subject(name, rr_type::kSoa), soa)) continue;
      if (soa.outcome == LookupOutcome::nxdomain) {
        findings.add(Verdict::not_met, name, "the name does not exist: " + describe(soa));
      } else if (soa.outcome == LookupOutcome::nodata) {
        // No zone cut here: the name is secure when the zone it is in is.
        findings.add(verdict_of(soa.security), subject(name, rr_type::kSoa),
                     std::string("not a delegated zone; the zone it is in is ") +
                         security_text(soa.security) + ": " + describe(soa));
      } else {
        findings.add(verdict_of(soa.security), subject(name, rr_type::kSoa),
                     std::string("zone apex, chain of trust ") + security_text(soa.security) +
                         ": " + describe(soa));
        const LookupResult& ds = lookup_(name, rr_type::kDs);
        if (findings.add_unanswered(subject(name, rr_type::kDs), ds)) continue;
        if (is_negative(ds)) {
          findings.add(Verdict::not_met, subject(name, rr_type::kDs),
                       "no DS at the parent (unsigned delegation): " + describe(ds));
        } else {
          findings.add(verdict_of(ds.security), subject(name, rr_type::kDs),
                       "DS at the parent: " + describe(ds));
        }
      }
    }
    return std::move(findings).result(18);
  }

  // 19: each MX set and the zone of each MX target signed. 20: a secure TLSA record at
  // _25._tcp of each MX target.
  std::pair<RequirementResult, RequirementResult> requirements_19_20() {
    Findings signed_zones, dane;
    std::vector<std::string> targets;
    for (const std::string& name : names_) {
      const LookupResult& mx = lookup_(name, rr_type::kMx);
      std::string what = subject(name, rr_type::kMx);
      if (unanswered(mx)) {
        signed_zones.add_unanswered(what, mx);
        dane.add_unanswered(what, mx);
        continue;
      }
      if (is_negative(mx)) {
        // No gateway for this name; the absence is the evidence.
        std::string evidence = "no incoming mail gateway: " + describe(mx);
        signed_zones.add(Verdict::met, what, evidence);
        dane.add(Verdict::met, what, evidence);
        continue;
      }
      signed_zones.add(verdict_of(mx.security), what, "MX records " + describe(mx));
      for (const std::string& record : mx.records) {
        std::istringstream fields(record);
        std::string preference, target;
        fields >> preference >> target;
        if (target.ends_with('.')) target.pop_back();
        target = ascii_lowercase(target);
        if (target.empty()) {
          // RFC 7505 null MX ("0 ."): the name accepts no mail.
          dane.add(Verdict::met, what, "null MX: accepts no mail");
        } else if (std::find(targets.begin(), targets.end(), target) == targets.end()) {
          targets.push_back(target);
        }
      }
    }
    for (const std::string& target : targets) {
      const LookupResult& address = lookup_(target, rr_type::kA);
      std::string what = subject(target, rr_type::kA);
      if (!signed_zones.add_unanswered(what, address)) {
        if (address.outcome == LookupOutcome::nxdomain) {
          signed_zones.add(Verdict::not_met, what,
                           "the mail gateway's name does not exist: " + describe(address));
        } else {
          const bool proven = address.security == Security::secure;
          signed_zones.add(verdict_of(address.security), what,
                           std::string("the mail gateway's zone is ") +
                               (proven ? "signed" : "not proven signed") + ": " +
                               describe(address));
        }
      }
      const std::string tlsa_name = "_25._tcp." + target;
      const LookupResult& tlsa = lookup_(tlsa_name, rr_type::kTlsa);
      what = subject(tlsa_name, rr_type::kTlsa);
      if (dane.add_unanswered(what, tlsa)) continue;
      if (is_negative(tlsa)) {
        dane.add(Verdict::not_met, what, "no TLSA record for the gateway: " + describe(tlsa));
      } else if (tlsa.security != Security::secure) {
        dane.add(tlsa.security == Security::insecure ? Verdict::not_met : Verdict::cannot_tell,
                 what, "TLSA present but DANE needs it DNSSEC-secure: " + describe(tlsa));
      } else {
        dane.add(Verdict::met, what, describe(tlsa));
      }
    }
    return {std::move(signed_zones).result(19), std::move(dane).result(20)};
  }

  RequirementResult requirement_23() {
    Findings findings;
    dmarc(findings);
    for (const std::string& name : names_) spf(findings, name);
    dkim(findings);
    return std::move(findings).result(23);
  }

  void dmarc(Findings& findings) {
    for (const std::string& name : names_) {
      const bool domain = name == domain_.name;
      const std::string dmarc_name = "_dmarc." + name;
      const LookupResult& txt = lookup_(dmarc_name, rr_type::kTxt);
      const std::string what = subject(dmarc_name, rr_type::kTxt);
      if (findings.add_unanswered(what, txt)) continue;
      std::vector<std::string> records = records_where(txt, is_dmarc_record);
      if (records.empty()) {
        // A subdomain without a record of its own gets the domain's sp= policy.
        if (domain) {
          findings.add(Verdict::not_met, what, "no DMARC record: " + describe(txt));
        } else {
          findings.add(Verdict::met, what,
                       "no record of its own: " + domain_.name + "'s subdomain policy applies");
        }
        continue;
      }
      if (records.size() > 1) {
        findings.add(Verdict::not_met, what,
                     std::to_string(records.size()) +
                         " DMARC records: receivers apply none of them: " + describe(txt));
        continue;
      }
      DmarcRecord record = parse_dmarc(records.front());
      std::string evidence = "\"" + records.front() + "\" (" + security_text(txt.security) + ")";
      if (!record.problem.empty()) {
        findings.add(Verdict::not_met, what, record.problem + ": " + evidence);
      } else if (record.policy != "reject") {
        findings.add(Verdict::not_met, what, "p=" + record.policy + ", not reject: " + evidence);
      } else if (domain && !domain_.subdomains.empty() && record.subdomain_policy != "reject") {
        findings.add(Verdict::not_met, what,
                     "subdomain policy (sp=) " + record.subdomain_policy +
                         ", not reject, and the domain has subdomains: " + evidence);
      } else {
        findings.add(Verdict::met, what, evidence);
      }
    }
  }

  void spf(Findings& findings, const std::string& name) {
    const LookupResult& txt = lookup_(name, rr_type::kTxt);
    const std::string what = subject(name, rr_type::kTxt) + " (SPF)";
    if (findings.add_unanswered(what, txt)) return;
    std::vector<std::string> records = records_where(txt, is_spf_record);
    if (records.size() != 1) {
      findings.add(Verdict::not_met, what,
                   (records.empty() ? std::string("no SPF record")
                                    : std::to_string(records.size()) +
                                          " SPF records (exactly one is allowed)") +
                       ": " + describe(txt));
      return;
    }
    SpfEvaluation evaluation = evaluate_spf(records.front(), [this](const std::string& target) {
      return fetch_spf(target);
    });
    findings.add(evaluation.verdict, what,
                 "\"" + records.front() + "\" (" + security_text(txt.security) +
                     "): " + evaluation.evidence);
  }

  SpfFetch fetch_spf(const std::string& target) {
    std::string name = target;
    if (name.ends_with('.')) name.pop_back();
    const LookupResult& txt = lookup_(name, rr_type::kTxt);
    switch (txt.outcome) {
      case LookupOutcome::bogus:
        // Validating receivers cannot read it: as good as none.
        return {SpfFetch::Result::no_record, "bogus: " + txt.why};
      case LookupOutcome::failed:
      case LookupOutcome::timeout:
        return {SpfFetch::Result::failed, describe(txt)};
      default:
        break;
    }
    std::vector<std::string> records = records_where(txt, is_spf_record);
    if (records.size() == 1) return {SpfFetch::Result::record, records.front()};
    return {SpfFetch::Result::no_record,
            records.empty() ? describe(txt) : std::to_string(records.size()) + " SPF records"};
  }

  void dkim(Findings& findings) {
    if (domain_.dkim_selectors.empty()) {
      findings.add(Verdict::cannot_tell, "DKIM",
                   "no DKIM selectors configured (audit.domains[].dkim_selectors): keys "
                   "cannot be found without them");
      return;
    }
    for (const std::string& name : mail_flow_names_) {
      for (const std::string& selector : domain_.dkim_selectors) {
        const std::string key_name = selector + "._domainkey." + name;
        const LookupResult& txt = lookup_(key_name, rr_type::kTxt);
        const std::string what = subject(key_name, rr_type::kTxt);
        if (findings.add_unanswered(what, txt)) continue;
        if (is_negative(txt)) {
          findings.add(Verdict::not_met, what, "no DKIM key at this selector: " + describe(txt));
          continue;
        }
        // A key record has a p= tag; an empty one is a revoked key (RFC 6376 3.6.1).
        std::optional<Verdict> verdict;
        std::string evidence = describe(txt);
        for (const std::string& record : txt.records) {
          auto tags = parse_tag_list(record);
          auto key = tags.find("p");
          if (key == tags.end()) continue;
          if (!key->second.empty()) {
            verdict = Verdict::met;
            break;
          }
          verdict = Verdict::not_met;
          evidence = "revoked key (empty p=): " + evidence;
        }
        if (!verdict) evidence = "no DKIM key record (no p= tag): " + evidence;
        findings.add(verdict.value_or(Verdict::not_met), what, evidence);
      }
    }
  }

  const AuditDomain& domain_;
  Lookups lookup_;
  std::vector<std::string> names_;            // the domain and its subdomains
  std::vector<std::string> mail_flow_names_;  // the domain and its mail-flow subdomains
};

}  // namespace

std::string describe(const LookupResult& result) {
  std::string status = std::string(" (") + security_text(result.security) + ")";
  switch (result.outcome) {
    case LookupOutcome::data: {
      std::string records;
      for (const std::string& record : result.records) {
        records += (records.empty() ? "" : "; ") + shortened(record);
      }
      return records + status;
    }
    case LookupOutcome::nodata:
      return "no records" + status;
    case LookupOutcome::nxdomain:
      return "NXDOMAIN" + status;
    case LookupOutcome::bogus:
      return "bogus answer (DNSSEC validation failed): " + result.why;
    case LookupOutcome::failed:
      return "no answer: " + result.why;
    case LookupOutcome::timeout:
      return "no answer within the audit timeout" + (result.why.empty() ? "" : ": " + result.why);
  }
  return "?";
}

DomainResult audit_domain(const AuditDomain& domain, DnsLookup& dns) {
  return DomainAudit(domain, dns).run();
}

AuditReport audit_domains(std::span<const AuditDomain> domains, DnsLookup& dns) {
  AuditReport report;
  for (const AuditDomain& domain : domains) report.domains.push_back(audit_domain(domain, dns));
  report.finished_at = std::chrono::system_clock::now();
  return report;
}

}  // namespace dnsvagt
