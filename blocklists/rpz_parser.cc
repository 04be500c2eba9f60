#include "blocklists/rpz_parser.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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
struct BufferDeleter {
  void operator()(ldns_buffer* buffer) const { ldns_buffer_free(buffer); }
};
struct FileCloser {
  void operator()(FILE* file) const { std::fclose(file); }
};
using RdfPtr = std::unique_ptr<ldns_rdf, RdfDeleter>;
using RrPtr = std::unique_ptr<ldns_rr, RrDeleter>;

// The token sizes ldns_rr_new_frm_str reads a TTL and a class or type with (its
// LDNS_TTL_DATALEN and LDNS_SYNTAX_DATALEN, which it keeps to itself).
constexpr size_t kLdnsTtlTokenLength = 21;
constexpr size_t kLdnsSyntaxTokenLength = 16;
// ldns_bget_token can write two bytes past the limit it is given (a newline inside
// parentheses is copied unchecked, then the closing NUL); every buffer it fills has that room.
// ldns's line reader leaves no newline in a line, but the buffers are on this stack.
constexpr size_t kLdnsTokenOverrun = 2;

bool blank(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// ldns_strip_ws, which ldns keeps to itself: blanks off both ends of `line`, in place, where
// the last one is not escaped.
char* strip_blanks(char* line) {
  char* start = line;
  while (*start && blank(*start)) ++start;
  char* end = start + std::strlen(start);
  while (end > start + 2 && blank(end[-1]) && end[-2] != '\\') --end;
  *end = '\0';
  return start;
}

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
    std::vector<char> line(LDNS_MAX_LINELEN + 1);
    while (!std::feof(file)) {
      RrPtr rr;
      problem_.call_starts();
      // ldns's reader of zone files: one record per read, parentheses joined, comments gone.
      const ssize_t size = ldns_fget_token_l(file, line.data(), LDNS_PARSE_SKIP_SPACE,
                                             LDNS_MAX_LINELEN, &line_number);
      ldns_status status = size < 0    ? LDNS_STATUS_SYNTAX_ERR
                           : size == 0 ? LDNS_STATUS_SYNTAX_EMPTY
                                       : parse_line(line.data(), rr, default_ttl, origin, previous);
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
  // One line of the zone as ldns_rr_new_frm_fp_l reads it (directives, then a record), except
  // that ldns parses the data of a record only for the types dnsvagt reads: its parsers of
  // other types are not all safe with hostile text (a CERT record of certificate type 0 leaks
  // in libldns 1.8.3), and their data would be discarded anyway.
  ldns_status parse_line(char* line, RrPtr& rr, uint32_t& default_ttl, ldns_rdf*& origin,
                         ldns_rdf*& previous) {
    if (std::strncmp(line, "$ORIGIN", 7) == 0 && blank(line[7])) {
      ldns_rdf_deep_free(origin);
      origin = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_DNAME, strip_blanks(line + 8));
      return origin ? LDNS_STATUS_SYNTAX_ORIGIN : LDNS_STATUS_SYNTAX_DNAME_ERR;
    }
    if (std::strncmp(line, "$TTL", 4) == 0 && blank(line[4])) {
      const char* end = nullptr;
      default_ttl = ldns_str2period(strip_blanks(line + 5), &end);
      return LDNS_STATUS_SYNTAX_TTL;
    }
    if (std::strncmp(line, "$INCLUDE", 8) == 0) return LDNS_STATUS_SYNTAX_INCLUDE;
    if (*strip_blanks(line) == '\0') return LDNS_STATUS_SYNTAX_EMPTY;

    ldns_rr* parsed = nullptr;
    const std::optional<size_t> head = record_head(line);
    if (head) {
      // Owner, TTL, class and type only: the owner is checked and becomes the previous one.
      const char first_of_data = line[*head];
      line[*head] = '\0';
      ldns_status status = ldns_rr_new_question_frm_str(&parsed, line, origin, &previous);
      line[*head] = first_of_data;
      rr.reset(parsed);
      if (status != LDNS_STATUS_OK) return status;
      const uint32_t type = type_number(rr.get());
      if (type == 0) return LDNS_STATUS_SYNTAX_TYPE_ERR;  // a name ldns does not know
      if (!is_read_type(type)) return LDNS_STATUS_OK;
      rr.reset();
      parsed = nullptr;
    }
    ldns_status status = ldns_rr_new_frm_str(&parsed, line, default_ttl, origin, &previous);
    rr.reset(parsed);
    return status;
  }

  // Where the data of the record `line` starts (its owner, TTL, class and type split as
  // ldns_rr_new_frm_str splits them), or nothing if it is of a type whose data is read or
  // ldns would fail before the data.
  static std::optional<size_t> record_head(const char* line) {
    const size_t length = std::strlen(line);
    std::unique_ptr<ldns_buffer, BufferDeleter> text(ldns_buffer_new(length));
    if (!text) return std::nullopt;
    ldns_buffer_write(text.get(), line, length);
    ldns_buffer_flip(text.get());
    constexpr const char* kBlanks = "\t\n ";
    char owner[LDNS_MAX_DOMAINLEN + kLdnsTokenOverrun];
    char ttl_or_class[kLdnsTtlTokenLength + kLdnsTokenOverrun];
    char class_or_type[kLdnsSyntaxTokenLength + kLdnsTokenOverrun];
    char type[kLdnsSyntaxTokenLength + kLdnsTokenOverrun];
    if (ldns_bget_token(text.get(), owner, kBlanks, LDNS_MAX_DOMAINLEN) == -1 ||
        ldns_bget_token(text.get(), ttl_or_class, kBlanks, kLdnsTtlTokenLength) == -1) {
      return std::nullopt;
    }
    const char* type_name = nullptr;
    if (ttl_or_class[0] != '\0' && !std::isdigit(static_cast<unsigned char>(ttl_or_class[0]))) {
      if (ldns_get_rr_class_by_name(ttl_or_class) == 0) type_name = ttl_or_class;
    } else {
      if (ldns_bget_token(text.get(), class_or_type, kBlanks, kLdnsSyntaxTokenLength) == -1) {
        return std::nullopt;
      }
      if (ldns_get_rr_class_by_name(class_or_type) == 0) type_name = class_or_type;
    }
    if (!type_name) {
      if (ldns_bget_token(text.get(), type, kBlanks, kLdnsSyntaxTokenLength) == -1) {
        return std::nullopt;
      }
      type_name = type;
    }
    for (const char* read : {"A", "AAAA", "CNAME", "SOA", "NS"}) {
      if (strcasecmp(type_name, read) == 0) return std::nullopt;
    }
    return ldns_buffer_position(text.get());
  }

  static bool is_read_type(uint32_t type) {
    return type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA || type == LDNS_RR_TYPE_CNAME ||
           type == LDNS_RR_TYPE_SOA || type == LDNS_RR_TYPE_NS;
  }

  // ldns reads "TYPE98777600" into its enum unchecked: a value no ldns_rr_type can hold, so
  // the number is copied out as the integer it is, not loaded as the enum.
  static uint32_t type_number(const ldns_rr* rr) {
    uint32_t type = 0;
    static_assert(sizeof rr->_rr_type == sizeof type);
    std::memcpy(&type, &rr->_rr_type, sizeof type);
    return type;
  }

  void record(const ldns_rr* rr, size_t line) {
    std::string owner = dname_text(ldns_rr_owner(rr));
    const uint32_t type = type_number(rr);
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
