#include "blocklists/rpz_parser.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>

#include <cstdio>
#include <algorithm>
#include <cstring>
#include <optional>
#include <memory>
#include <string>

#include "dns/domain_text.h"

namespace dnsvagt {
namespace {

// Relative names of a zone file without $ORIGIN get this origin; the parser strips it again.
constexpr const char* kImplicitOrigin = "rpz.invalid.";

struct RdfDeleter {
  void operator()(ldns_rdf* rdf) const { ldns_rdf_deep_free(rdf); }
};
struct RrDeleter {
  void operator()(ldns_rr* rr) const { ldns_rr_free(rr); }
};
struct FileCloser {
  void operator()(FILE* file) const { std::fclose(file); }
};
using RdfPtr = std::unique_ptr<ldns_rdf, RdfDeleter>;
using RrPtr = std::unique_ptr<ldns_rr, RrDeleter>;

// Lowercase text of a domain name, with the trailing dot ("a.example.").
std::string dname_text(const ldns_rdf* name) {
  char* text = ldns_rdf2str(name);
  std::string result = text ? text : "";
  std::free(text);
  for (char& c : result) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  return result;
}

// `name` relative to `apex` (both as dname_text gives them): "" for the apex itself, nullopt
// if `name` is not in the zone.
std::optional<std::string> relative_to(const std::string& name, const std::string& apex) {
  if (name == apex) return std::string();
  if (apex == ".") return name.substr(0, name.size() - 1);
  if (name.size() > apex.size() && name.compare(name.size() - apex.size(), apex.size(), apex) == 0 &&
      name[name.size() - apex.size() - 1] == '.') {
    return name.substr(0, name.size() - apex.size() - 1);
  }
  return std::nullopt;
}

// The last label of a relative owner name.
std::string_view last_label(std::string_view name) {
  size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

// The text of the line a problem is reported on, read back from the zone file when it is
// asked for: ldns reads one record per call, and a record's line is the last line of the
// bytes that call read that is not blank or a comment. The zone is never held whole.
class ProblemLine {
 public:
  explicit ProblemLine(FILE* zone) : zone_(zone) {}

  // Before each ldns call.
  void call_starts() {
    start_ = std::ftell(zone_);
    read_ = false;
  }

  // The line's text, "" if the call read nothing but blanks and comments.
  std::string_view text() {
    if (read_) return text_;
    read_ = true;
    text_.clear();
    // A record's bytes: one line, a few with parentheses. Longer runs are comment lines.
    constexpr long kMostBytes = 1 << 16;
    const long end = std::ftell(zone_);
    if (start_ < 0 || end <= start_) return text_;
    const long from = std::max(start_, end - kMostBytes);
    std::string bytes(static_cast<size_t>(end - from), '\0');
    if (std::fseek(zone_, from, SEEK_SET) == 0) {
      bytes.resize(std::fread(bytes.data(), 1, bytes.size(), zone_));
    } else {
      bytes.clear();
    }
    std::fseek(zone_, end, SEEK_SET);  // where ldns goes on; it was there a moment ago
    for_each_line(bytes, [this](size_t, std::string_view line) {
      line = trim_blanks(line);
      if (!line.empty() && line.front() != ';') text_ = line;
    });
    return text_;
  }

 private:
  FILE* zone_;
  long start_ = -1;
  bool read_ = false;
  std::string text_;
};

class RpzReader {
 public:
  RpzReader(FILE* zone, ListCollector& collector) : collector_(collector), problem_(zone) {}

  void read(FILE* file) {
    uint32_t default_ttl = 3600;
    ldns_rdf* origin = ldns_dname_new_frm_str(kImplicitOrigin);
    ldns_rdf* previous = nullptr;
    apex_ = origin_ = dname_text(origin);
    int line_number = 0;
    while (!std::feof(file)) {
      ldns_rr* parsed = nullptr;
      problem_.call_starts();
      ldns_status status =
          ldns_rr_new_frm_fp_l(&parsed, file, &default_ttl, &origin, &previous, &line_number);
      RrPtr rr(parsed);
      switch (status) {
        case LDNS_STATUS_OK:
          // A record's line is its last one: ldns reads comment lines before it in the same call.
          record(rr.get(), static_cast<size_t>(line_number));
          break;
        case LDNS_STATUS_SYNTAX_EMPTY:
        case LDNS_STATUS_SYNTAX_TTL:
          break;
        case LDNS_STATUS_SYNTAX_ORIGIN:
          origin_ = dname_text(origin);
          if (!apex_from_zone_) apex_ = origin_;
          apex_from_zone_ = true;
          break;
        default:
          // An error that hits end of file reports the line after the last one.
          if (std::feof(file) && problem_.text().empty()) break;
          collector_.invalid(static_cast<size_t>(line_number), problem_.text(),
                             ldns_get_errorstr_by_id(status));
      }
    }
    ldns_rdf_deep_free(origin);
    ldns_rdf_deep_free(previous);
  }

 private:
  void record(const ldns_rr* rr, size_t line) {
    std::string owner = dname_text(ldns_rr_owner(rr));
    // ldns reads "TYPE98777600" into its enum unchecked: a value no ldns_rr_type can hold, so
    // the number is copied out as the integer it is, not loaded as the enum.
    uint32_t type = 0;
    static_assert(sizeof rr->_rr_type == sizeof type);
    std::memcpy(&type, &rr->_rr_type, sizeof type);
    if (type > 0xFFFF) {
      return collector_.invalid(line, problem_.text(),
                                "type TYPE" + std::to_string(type) + " is over 65535");
    }
    if (type == LDNS_RR_TYPE_SOA && !soa_seen_) {
      soa_seen_ = true;
      apex_ = owner;
      apex_from_zone_ = true;
      return;
    }
    if (type == LDNS_RR_TYPE_SOA || type == LDNS_RR_TYPE_NS) return;

    std::optional<std::string> trigger = relative_to(owner, apex_);
    if (!trigger) {
      return collector_.invalid(line, problem_.text(), "owner outside the zone " + apex_);
    }
    if (trigger->empty()) {
      return collector_.invalid(line, problem_.text(), "policy record at the zone apex");
    }
    std::string_view name = *trigger;
    EntryScope scope = EntryScope::name;
    if (name.substr(0, 2) == "*.") {
      name.remove_prefix(2);
      scope = EntryScope::below;
    }
    std::string_view suffix = last_label(name);
    if (suffix == "rpz-ip" || suffix == "rpz-nsdname" || suffix == "rpz-client-ip" ||
        suffix == "rpz-nsip") {
      return collector_.unsupported(line, problem_.text(), std::string(suffix) + " trigger");
    }

    EntryKind kind = EntryKind::block;
    EntryAction action = EntryAction::list_default;
    LocalAddress address;
    if (type == LDNS_RR_TYPE_CNAME) {
      if (!cname_action(ldns_rr_rdf(rr, 0), kind, action, line)) return;
    } else if (type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA) {
      const ldns_rdf* rdata = ldns_rr_rdf(rr, 0);
      address.family = type == LDNS_RR_TYPE_A ? AF_INET : AF_INET6;
      std::memcpy(address.bytes.data(), ldns_rdf_data(rdata),
                  std::min<size_t>(ldns_rdf_size(rdata), address.bytes.size()));
      action = EntryAction::local_data;
    } else {
      char* type_name = ldns_rr_type2str(static_cast<ldns_rr_type>(type));
      std::string reason = std::string("local data of type ") + (type_name ? type_name : "?");
      std::free(type_name);
      return collector_.unsupported(line, problem_.text(), reason);
    }

    std::string normalized;
    switch (normalize_domain(name, normalized)) {
      case NameStatus::ok:
        if (action == EntryAction::local_data) {
          return collector_.add_local_data(line, problem_.text(), normalized, scope, address);
        }
        return collector_.add(normalized, scope, kind, action);
      case NameStatus::reserved_name:
      case NameStatus::ip_address:
        return collector_.ignored();
      case NameStatus::invalid:
        return collector_.invalid(line, problem_.text(), normalized);
    }
  }

  // Sets the action of a `CNAME target` policy; false (and counted) if not supported.
  bool cname_action(const ldns_rdf* target_rdf, EntryKind& kind, EntryAction& action,
                    size_t line) {
    std::string target = dname_text(target_rdf);
    // A target written without its trailing dot got the origin appended; take it off again.
    if (std::optional<std::string> relative = relative_to(target, origin_);
        relative && !relative->empty()) {
      target = *relative + ".";
    }
    if (target == ".") {
      action = EntryAction::nxdomain;
    } else if (target == "*.") {
      action = EntryAction::nodata;
    } else if (target == "rpz-drop.") {
      action = EntryAction::drop;
    } else if (target == "rpz-passthru.") {
      kind = EntryKind::allow;
    } else if (target == "rpz-tcp-only.") {
      collector_.unsupported(line, problem_.text(), "rpz-tcp-only action");
      return false;
    } else {
      collector_.unsupported(line, problem_.text(), "CNAME rewrite to " + target);
      return false;
    }
    return true;
  }

  ListCollector& collector_;
  ProblemLine problem_;
  std::string apex_;
  std::string origin_;  // the current $ORIGIN
  bool apex_from_zone_ = false;  // from the first SOA or $ORIGIN, not the implicit origin
  bool soa_seen_ = false;
};

}  // namespace

void parse_rpz(FILE* zone, ListCollector& collector) {
  const long start = std::ftell(zone);
  char bom[3] = {};
  if (std::fread(bom, 1, 3, zone) != 3 || std::memcmp(bom, "\xEF\xBB\xBF", 3) != 0) {
    std::fseek(zone, start, SEEK_SET);
  }
  RpzReader(zone, collector).read(zone);
}

uint64_t parse_rpz(std::string_view content, ListCollector& collector) {
  uint64_t lines = for_each_line(content, [](size_t, std::string_view) {});
  if (content.empty()) return lines;
  std::unique_ptr<FILE, FileCloser> file(
      fmemopen(const_cast<char*>(content.data()), content.size(), "r"));
  if (!file) {
    collector.invalid(0, "", std::string("cannot read the zone text: ") + std::strerror(errno));
    return lines;
  }
  parse_rpz(file.get(), collector);
  return lines;
}

}  // namespace dnsvagt
