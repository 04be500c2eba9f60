// The result of parsing one list: its entries with duplicates merged, and what the parser
// did with every line (counts and the first few problem lines), for logs and `lookup`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "blocklists/list_entry.h"
#include "config/config.h"

namespace dnsvagt {

// At most this many RPZ local-data records (A and AAAA together) per name; more are invalid
// lines. An answer of them stays far below the 64 KiB a DNS message can hold (32 AAAA
// records of a 255-byte name without compression: 9 KiB), and merging a name's records, each
// compared with those before it, stays linear in the list's length.
inline constexpr size_t kMaxLocalDataPerName = 32;

// A line the parser did not turn into an entry, for the report.
struct LineIssue {
  size_t line = 0;     // 1-based
  std::string text;    // the line (cut to 200 characters)
  std::string reason;
};

struct ParseStats {
  static constexpr size_t kMaxSamples = 5;

  ListFormat format = ListFormat::auto_detect;  // the format parsed
  bool format_detected = false;                 // true if chosen by detect_format()
  // What the content is, whatever its lines gave: for the gates, which see no content.
  bool binary = false;  // a NUL byte somewhere: binary data, not a text list
  bool html = false;    // starts (after blanks and a byte-order mark) like an HTML or XML page
  uint64_t lines = 0;
  uint64_t entries = 0;      // distinct entries kept (block + allow)
  uint64_t allow_entries = 0;
  uint64_t duplicates = 0;   // entries equal to an earlier one (same name, scope and kind)
  uint64_t ignored = 0;      // localhost-type names and IP addresses where a name belongs
  uint64_t skipped = 0;      // rules that are not a plain domain (AdBlock $modifiers, paths,
                             // wildcards inside labels, cosmetic rules): not guessed at
  uint64_t unsupported = 0;  // RPZ triggers and actions this filter does not implement
  uint64_t invalid = 0;      // lines or names that are malformed
  std::vector<LineIssue> invalid_samples;  // the first kMaxSamples invalid ones
  std::vector<LineIssue> skipped_samples;  // the first kMaxSamples skipped or unsupported

  // One line for logs: "hosts (detected): 2030 lines, 2011 entries, 3 duplicates, ..."
  std::string summary() const;
};

// Where the parsers put the entries of a list: a ParsedList, a policy being compiled, or
// nothing but a count. Each sink merges duplicates its own way, exactly or by hash.
class EntrySink {
 public:
  enum class Added {
    added,
    duplicate,  // the same name, scope and kind as an earlier entry of the list
    merged,     // RPZ local data of a name that has some: joined to that entry
    over_limit,  // RPZ local data of a name that has kMaxLocalDataPerName: not kept
  };
  virtual ~EntrySink() = default;
  // `name` is canonical, as normalize_domain gives it.
  virtual Added add(std::string_view name, EntryScope scope, EntryKind kind, EntryAction action,
                    const LocalAddress* local_address) = 0;
};

// Joins `address` to the local data of an entry (`addresses`, its earlier ones) the way every
// sink does: duplicate if it is there, over_limit if there are kMaxLocalDataPerName, else
// merged. At most kMaxLocalDataPerName comparisons.
EntrySink::Added merge_local_address(std::vector<LocalAddress>& addresses,
                                     const LocalAddress& address);

// The entries of one list, packed: a list of a million names is parsed at once, so names
// share one buffer instead of being a string each.
class ParsedList {
 public:
  ParseStats stats;

  size_t size() const { return entries_.size(); }
  std::string_view name(size_t index) const {
    return std::string_view(names_).substr(entries_[index].name_offset,
                                           entries_[index].name_length);
  }
  EntryScope scope(size_t index) const { return entries_[index].scope; }
  EntryKind kind(size_t index) const { return entries_[index].kind; }
  EntryAction action(size_t index) const { return entries_[index].action; }
  std::vector<LocalAddress> local_data(size_t index) const;
  ListEntry entry(size_t index) const;  // all of the above as one value

 private:
  friend class ParsedListBuilder;
  static constexpr uint32_t kNoLocalData = UINT32_MAX;
  struct PackedEntry {
    uint32_t name_offset;
    uint8_t name_length;
    EntryScope scope;
    EntryKind kind;
    EntryAction action;
    uint32_t local_data;  // index into local_data_ or kNoLocalData
  };
  std::string names_;
  std::vector<PackedEntry> entries_;
  std::vector<std::vector<LocalAddress>> local_data_;
};

// Collects entries into a ParsedList, merging duplicates exactly.
class ParsedListBuilder : public EntrySink {
 public:
  // `expected_entries` sizes the buffers (a guess: only speed depends on it).
  explicit ParsedListBuilder(size_t expected_entries);
  Added add(std::string_view name, EntryScope scope, EntryKind kind, EntryAction action,
            const LocalAddress* local_address) override;
  ParsedList finish(ParseStats stats) &&;

 private:
  // The slot of the entry (name, scope, kind) in seen_: where it is, or the free slot where
  // it belongs.
  size_t find_slot(std::string_view name, EntryScope scope, EntryKind kind,
                   uint64_t hash) const;
  void grow_seen();

  ParsedList result_;
  // Open-addressing set of the entries so far: (hash high 32 bits << 32) | (index + 1);
  // 0 is a free slot. At most half full.
  std::vector<uint64_t> seen_;
};

// Keeps no entries, only tells duplicates apart, by a 64-bit hash of name, scope and kind
// (11 bytes an entry, a quarter of a compiled policy): for judging a new version of a list
// before it is compiled. Two different entries share a hash with odds of about n^2 / 2^65.
// RPZ local data is kept (the addresses, by that hash; about what a policy keeps of it), so
// repeated addresses and those past kMaxLocalDataPerName count as in a ParsedList: the counts
// are a ParsedList's.
class EntryCounter : public EntrySink {
 public:
  // `expected_entries` sizes the table (a guess: it grows if needed).
  explicit EntryCounter(size_t expected_entries);
  Added add(std::string_view name, EntryScope scope, EntryKind kind, EntryAction action,
            const LocalAddress* local_address) override;

 private:
  size_t home_slot(uint64_t hash) const;
  void insert(uint64_t hash);
  void grow();

  std::vector<uint64_t> seen_;  // open addressing, 0 free; at most 3/4 full
  size_t count_ = 0;
  // The addresses of entries first listed with local data, by their hash.
  std::unordered_map<uint64_t, std::vector<LocalAddress>> local_data_;
};

// Counts what the parser did with every line of one list and passes the entries to a sink.
// Shared by the parsers of every format.
class ListCollector {
 public:
  ListCollector(ListFormat format, bool detected, EntrySink& sink);

  void add(std::string_view name, EntryScope scope, EntryKind kind,
           EntryAction action = EntryAction::list_default);
  // An RPZ local-data record (`line`, `text`) for a block entry; past kMaxLocalDataPerName
  // for the name it is an invalid line.
  void add_local_data(size_t line, std::string_view text, std::string_view name,
                      EntryScope scope, const LocalAddress& address);
  void ignored() { ++stats_.ignored; }
  void skipped(size_t line, std::string_view text, std::string reason);
  void unsupported(size_t line, std::string_view text, std::string reason);
  void invalid(size_t line, std::string_view text, std::string reason);
  void add_lines(uint64_t lines) { stats_.lines += lines; }
  uint64_t lines() const { return stats_.lines; }

  ParseStats finish() && { return std::move(stats_); }

 private:
  void count(EntrySink::Added added, EntryKind kind);

  EntrySink& sink_;
  ParseStats stats_;
};

// Calls on_line(line_number, line) for every line of `content`, without its line ending
// (LF or CRLF); returns the number of lines. Numbers start after `lines_before` (for a list
// read a piece at a time). A UTF-8 byte-order mark is removed from the first line of the list
// only (lines_before 0), so a list reads the same whole or in pieces.
template <typename OnLine>
uint64_t for_each_line(std::string_view content, OnLine&& on_line, uint64_t lines_before = 0) {
  if (lines_before == 0 && content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);
  uint64_t number = lines_before;
  while (!content.empty()) {
    size_t end = content.find('\n');
    std::string_view line = content.substr(0, end);
    content.remove_prefix(end == std::string_view::npos ? content.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_line(++number, line);
  }
  return number - lines_before;
}

// `text` without leading and trailing blanks (space, TAB, CR, VT, FF).
std::string_view trim_blanks(std::string_view text);

// Space, TAB, CR, VT or FF. A plain test, because string_view::find_first_of with a set calls
// memchr once per character: a fifth of the time of parsing a million-line list.
inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace dnsvagt
