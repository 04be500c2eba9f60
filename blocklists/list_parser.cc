#include "blocklists/list_parser.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dns/domain_text.h"
#include "blocklists/rpz_parser.h"

namespace dnsvagt {
namespace {

// Splits `line` at blanks into `tokens`; returns how many.
size_t split_blanks(std::string_view line, std::vector<std::string_view>& tokens) {
  tokens.clear();
  size_t at = 0;
  while (true) {
    while (at < line.size() && is_blank(line[at])) ++at;
    if (at == line.size()) return tokens.size();
    size_t end = at;
    while (end < line.size() && !is_blank(line[end])) ++end;
    tokens.push_back(line.substr(at, end - at));
    at = end;
  }
}

// The line without a `#` comment and surrounding blanks.
std::string_view strip_hash_comment(std::string_view line) {
  return trim_blanks(line.substr(0, line.find('#')));
}

// Adds `name` (a list's spelling of a domain) with `scope` and `kind`, or counts why not.
void add_name(ListCollector& collector, size_t line, std::string_view name, EntryScope scope,
              EntryKind kind) {
  thread_local std::string normalized;
  switch (normalize_domain(name, normalized)) {
    case NameStatus::ok:
      return collector.add(normalized, scope, kind);
    case NameStatus::reserved_name:
    case NameStatus::ip_address:
      return collector.ignored();
    case NameStatus::invalid:
      return collector.invalid(line, name, normalized);
  }
}

void parse_hosts(std::string_view content, ListCollector& collector) {
  std::vector<std::string_view> tokens;
  collector.add_lines(for_each_line(content, [&](size_t number, std::string_view line) {
    line = trim_blanks(line);
    if (line.empty() || line.front() == '!') return;
    if (split_blanks(strip_hash_comment(line), tokens) == 0) return;
    if (!is_ip_address(tokens[0])) {
      collector.invalid(number, line, "a hosts line starts with an IP address");
      return;
    }
    if (tokens.size() == 1) {
      collector.invalid(number, line, "no host name after the address");
      return;
    }
    for (size_t i = 1; i < tokens.size(); ++i) {
      add_name(collector, number, tokens[i], EntryScope::name_and_below, EntryKind::block);
    }
  }, collector.lines()));
}

// Splits a leading "*." (a wildcard: names below only) off `name`.
EntryScope take_wildcard(std::string_view& name, EntryScope plain_scope) {
  if (name.substr(0, 2) != "*.") return plain_scope;
  name.remove_prefix(2);
  return EntryScope::below;
}

void parse_domains(std::string_view content, ListCollector& collector) {
  std::vector<std::string_view> tokens;
  collector.add_lines(for_each_line(content, [&](size_t number, std::string_view line) {
    line = trim_blanks(line);
    if (line.empty() || line.front() == '!') return;
    size_t count = split_blanks(strip_hash_comment(line), tokens);
    if (count == 0) return;
    if (count > 1) {
      collector.invalid(number, line, "more than one name on a line");
      return;
    }
    std::string_view name = tokens[0];
    EntryScope scope = take_wildcard(name, EntryScope::name_and_below);
    add_name(collector, number, name, scope, EntryKind::block);
  }, collector.lines()));
}

bool is_cosmetic_rule(std::string_view rule) {
  for (std::string_view marker : {"##", "#@#", "#?#", "#$#", "#%#"}) {
    if (rule.find(marker) != std::string_view::npos) return true;
  }
  return false;
}

// One AdBlock rule. Only rules that name exactly a domain become entries:
// `||name^` (name and below), `||*.name^` (below), `|name^` (the name only), each with an
// optional trailing `|`, and `@@` before any of them for an exception; a bare domain is a
// plain entry. Everything else is a URL pattern whose meaning at DNS level would be a guess.
void parse_adblock_rule(ListCollector& collector, size_t number, std::string_view rule) {
  if (is_cosmetic_rule(rule)) return collector.skipped(number, rule, "cosmetic rule");
  if (rule.front() == '#') return;  // AdGuard `#` comment
  std::string_view body = rule;
  EntryKind kind = EntryKind::block;
  if (body.substr(0, 2) == "@@") {
    kind = EntryKind::allow;
    body.remove_prefix(2);
  }
  if (body.find('$') != std::string_view::npos) {
    return collector.skipped(number, rule, "rule with $modifiers");
  }
  if (body.size() >= 2 && body.front() == '/' && body.back() == '/') {
    return collector.skipped(number, rule, "regular expression rule");
  }
  EntryScope scope;
  if (body.substr(0, 2) == "||") {
    scope = EntryScope::name_and_below;
    body.remove_prefix(2);
  } else if (body.substr(0, 1) == "|") {
    scope = EntryScope::name;
    body.remove_prefix(1);
  } else if (body.find_first_of("^|*/:") == std::string_view::npos) {
    return add_name(collector, number, body, EntryScope::name_and_below, kind);
  } else {
    return collector.skipped(number, rule, "pattern without a domain anchor");
  }
  size_t separator = body.find('^');
  if (separator == std::string_view::npos) {
    return collector.skipped(number, rule, "no '^' after the domain");
  }
  std::string_view tail = body.substr(separator + 1);
  if (!tail.empty() && tail != "|") return collector.skipped(number, rule, "path after '^'");
  std::string_view name = body.substr(0, separator);
  if (scope == EntryScope::name_and_below) scope = take_wildcard(name, scope);
  if (name.find_first_of("*/:?=&") != std::string_view::npos) {
    return collector.skipped(number, rule, "wildcard or path inside the domain");
  }
  add_name(collector, number, name, scope, kind);
}

void parse_adblock(std::string_view content, ListCollector& collector) {
  collector.add_lines(for_each_line(content, [&](size_t number, std::string_view line) {
    line = trim_blanks(line);
    if (line.empty() || line.front() == '!') return;
    if (line.front() == '[' && line.back() == ']') return;  // [Adblock Plus 2.0]
    if (std::any_of(line.begin(), line.end(), is_blank)) {
      return collector.invalid(number, line, "blank inside a rule");
    }
    parse_adblock_rule(collector, number, line);
  }, collector.lines()));
}

bool is_zone_record(const std::vector<std::string_view>& tokens) {
  constexpr std::array<std::string_view, 9> kWords = {"IN", "SOA", "NS", "CNAME", "A",
                                                      "AAAA", "TXT", "DNAME", "PTR"};
  for (size_t i = 0; i < tokens.size() && i < 4; ++i) {
    for (std::string_view word : kWords) {
      if (tokens[i].size() != word.size()) continue;
      bool same = true;
      for (size_t k = 0; k < word.size(); ++k) {
        same = same && (tokens[i][k] & ~0x20) == word[k];
      }
      if (same) return true;
    }
  }
  return false;
}

}  // namespace

ListFormat detect_format(std::string_view content) {
  constexpr int kVotingLines = 200;
  int votes[5] = {};  // indexed by ListFormat
  int voters = 0;
  std::vector<std::string_view> tokens;
  auto vote = [&](ListFormat format) {
    ++votes[static_cast<int>(format)];
    ++voters;
  };
  for_each_line(content, [&](size_t, std::string_view line) {
    line = trim_blanks(line);
    if (voters >= kVotingLines || line.empty() || line.front() == '#' || line.front() == '!' ||
        line.front() == ';') {
      return;
    }
    if (line.front() == '[' && line.find("Adblock") != std::string_view::npos) {
      return vote(ListFormat::adblock);
    }
    if (line.front() == '$') return vote(ListFormat::rpz);  // $TTL, $ORIGIN
    if (line.front() == '|' || line.substr(0, 2) == "@@" || line.back() == '^') {
      return vote(ListFormat::adblock);
    }
    split_blanks(strip_hash_comment(line), tokens);
    if (tokens.size() >= 2 && is_ip_address(tokens[0])) return vote(ListFormat::hosts);
    if (tokens.size() >= 2 && is_zone_record(tokens)) return vote(ListFormat::rpz);
    if (tokens.size() == 1) return vote(ListFormat::domains);
  });
  ListFormat best = ListFormat::domains;
  for (ListFormat format : {ListFormat::hosts, ListFormat::adblock, ListFormat::rpz}) {
    if (votes[static_cast<int>(format)] > votes[static_cast<int>(best)]) best = format;
  }
  return best;
}

namespace {

// Parses whole lines of a list (all of it, or a piece ending at a line end).
void parse_lines(std::string_view lines, ListFormat format, ListCollector& collector) {
  switch (format) {
    case ListFormat::hosts: return parse_hosts(lines, collector);
    case ListFormat::domains: return parse_domains(lines, collector);
    case ListFormat::adblock: return parse_adblock(lines, collector);
    case ListFormat::rpz: return collector.add_lines(parse_rpz(lines, collector));
    case ListFormat::auto_detect: return;  // resolved by detect_format first
  }
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Watches a list's text go by, a piece at a time, for what makes it no list whatever its lines
// give: a NUL byte anywhere (binary data), and a start like an HTML or XML page (an error
// page served instead of the list).
class ContentKind {
 public:
  void look_at(std::string_view piece) {
    binary_ = binary_ || piece.find('\0') != std::string_view::npos;
    if (head_.size() == kHeadSize) return;
    if (head_.empty()) {
      // Blanks and the bytes of a UTF-8 byte-order mark before the text do not count.
      size_t start = piece.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
      if (start == std::string_view::npos) return;
      piece.remove_prefix(start);
    }
    head_ += piece.substr(0, kHeadSize - head_.size());
  }

  void set(ParseStats& stats) const {
    std::string head = head_;
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    stats.binary = binary_;
    stats.html = head.starts_with("<!doctype html") || head.starts_with("<html") ||
                 head.starts_with("<?xml") || head.starts_with("<head") ||
                 head.starts_with("<body");
  }

 private:
  static constexpr size_t kHeadSize = 14;  // the longest start looked for, "<!doctype html"
  bool binary_ = false;
  std::string head_;  // the first kHeadSize bytes of the text
};

// Large enough that reading costs nothing next to parsing, small next to any list worth
// reading in pieces; a smaller regular file is read whole (one byte more sees its end), so
// that the many small local lists and the fuzzer do not zero 64 KiB per file.
size_t read_piece_size(FILE* file) {
  constexpr size_t kPiece = 64 << 10;
  struct stat status {};
  if (fstat(fileno(file), &status) != 0 || !S_ISREG(status.st_mode)) return kPiece;
  return std::min(kPiece, static_cast<size_t>(status.st_size) + 1);
}

}  // namespace

ParseStats parse_list(std::string_view content, ListFormat format, EntrySink& sink) {
  ContentKind kind;
  kind.look_at(content);
  bool detected = format == ListFormat::auto_detect;
  if (detected) format = detect_format(content);
  ListCollector collector(format, detected, sink);
  parse_lines(content, format, collector);
  ParseStats stats = std::move(collector).finish();
  kind.set(stats);
  return stats;
}

ParsedList parse_list(std::string_view content, ListFormat format) {
  size_t line_count = static_cast<size_t>(std::count(content.begin(), content.end(), '\n')) + 1;
  ParsedListBuilder builder(line_count);
  ParseStats stats = parse_list(content, format, builder);
  return std::move(builder).finish(std::move(stats));
}

ParseStats parse_list_file(const std::string& path, ListFormat format, EntrySink& sink) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rbe"), &std::fclose);
  if (!file) throw std::runtime_error(errno_text("cannot open " + path));
  const size_t piece = read_piece_size(file.get());
  std::string buffer;
  ContentKind kind;
  auto read_more = [&]() {
    size_t had = buffer.size();
    buffer.resize(had + piece);
    size_t got = std::fread(buffer.data() + had, 1, piece, file.get());
    buffer.resize(had + got);
    if (std::ferror(file.get())) throw std::runtime_error(errno_text("cannot read " + path));
    kind.look_at(std::string_view(buffer).substr(had));
    return got > 0;
  };
  bool more = read_more();
  bool detected = format == ListFormat::auto_detect;
  if (detected) format = detect_format(buffer);  // decided by the first rule lines
  ListCollector collector(format, detected, sink);
  if (format == ListFormat::rpz) {
    // ldns reads the zone from the file itself, a record at a time ($ORIGIN, $TTL and
    // parentheses span lines); the pieces here only count the lines, as for_each_line does
    // (a byte-order mark at the start is no line), and look at the content.
    uint64_t lines = 0;
    char last = '\n';
    for (bool first = true; more; first = false) {
      std::string_view piece(buffer);
      if (first && piece.starts_with("\xEF\xBB\xBF")) piece.remove_prefix(3);
      lines += static_cast<uint64_t>(std::count(piece.begin(), piece.end(), '\n'));
      if (!piece.empty()) last = piece.back();
      buffer.clear();
      more = read_more();
    }
    collector.add_lines(lines + (last != '\n' ? 1 : 0));  // a last line without a line end
    std::rewind(file.get());
    parse_rpz(file.get(), collector);
    if (std::ferror(file.get())) throw std::runtime_error(errno_text("cannot read " + path));
    ParseStats stats = std::move(collector).finish();
    kind.set(stats);
    return stats;
  }
  while (more) {
    size_t end = buffer.rfind('\n');
    if (end != std::string::npos) {
      parse_lines(std::string_view(buffer).substr(0, end + 1), format, collector);
      buffer.erase(0, end + 1);
    }
    more = read_more();
  }
  parse_lines(buffer, format, collector);  // a last line without a line end
  ParseStats stats = std::move(collector).finish();
  kind.set(stats);
  return stats;
}

}  // namespace dnsvagt
