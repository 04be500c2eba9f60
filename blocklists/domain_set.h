// DomainSet: a compact, immutable set of domain entries (a name plus the scope it covers)
// answering "which entries match this query name" in one walk over the query's labels.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "blocklists/list_entry.h"

namespace dnsvagt {

// Layout: every entry is a record [value: 2][scope: 1][length: 1][lowercase wire labels] in
// one byte string; an entry's id is its record's offset. An open-addressing table (linear
// probing) holds, per entry, 32 bits of the 64-bit hash of its name and the record offset:
// 8 bytes a slot at load <= 0.75. The hash of a name is built label by label from the right,
// so one pass over a query yields the hash of each of its suffixes; each suffix costs one
// probe (all prefetched first), and a name is compared only when the 32-bit tag matches.
class DomainSet {
 public:
  using EntryId = uint32_t;
  static constexpr size_t kMaxWireLength = 255;
  static constexpr size_t kMaxLabels = 127;

  class Builder {
   public:
    void reserve(size_t entries, size_t name_bytes);
    // `name` is canonical (normalize_domain's output); `value` is kept for the caller.
    // Equal names may be added more than once (e.g. from several lists): all of them match.
    // Returns the id the entry will have in the built set.
    EntryId add(std::string_view name, EntryScope scope, uint16_t value);
    size_t size() const { return count_; }
    DomainSet build() &&;

   private:
    std::string records_;
    size_t count_ = 0;
  };

  struct Match {
    EntryId entry = 0;
    bool exact = false;  // the entry's name is the query name itself (not a parent)
  };

  // The entries matching one query name, most specific first. Holds a copy of the name.
  class Matches {
   public:
    // Sets `match` to the next matching entry; false when there is none left.
    bool next(Match* match);

   private:
    friend class DomainSet;
    const DomainSet* set_ = nullptr;
    size_t labels_ = 0;  // 0 also for a malformed name: nothing matches
    size_t label_ = 0;   // the suffix being probed: label_ .. end of the name
    size_t slot_ = 0;
    bool probing_ = false;
    uint8_t wire_length_ = 0;  // without the root label
    uint8_t wire_[kMaxWireLength];
    uint8_t label_offset_[kMaxLabels];
    uint64_t suffix_hash_[kMaxLabels];
  };

  DomainSet();

  // `wire_name`: uncompressed wire format, any case, with or without the root label.
  Matches matches(std::span<const uint8_t> wire_name) const;
  // "www.Example.com" or "www.example.com." (ASCII; IDNs as punycode).
  Matches matches(std::string_view text_name) const;
  // The most specific matching entry.
  std::optional<EntryId> find(std::span<const uint8_t> wire_name) const;
  std::optional<EntryId> find(std::string_view text_name) const;

  std::string name(EntryId entry) const;  // canonical text, "example.com"
  EntryScope scope(EntryId entry) const { return static_cast<EntryScope>(records_[entry + 2]); }
  uint16_t value(EntryId entry) const {
    return static_cast<uint16_t>(static_cast<uint8_t>(records_[entry]) |
                                 static_cast<uint8_t>(records_[entry + 1]) << 8);
  }

  size_t size() const { return count_; }
  size_t memory_bytes() const;  // heap bytes held

 private:
  struct Slot {
    uint32_t tag;
    uint32_t record;  // kEmpty if unused
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;

  size_t home_slot(uint64_t hash) const {
    return static_cast<size_t>(((hash & 0xFFFFFFFFu) * slots_.size()) >> 32);
  }
  bool record_equals(uint32_t record, const uint8_t* wire, size_t length) const;
  void prepare(Matches& matches) const;

  std::string records_;
  std::vector<Slot> slots_;
  size_t count_ = 0;
};

}  // namespace dnsvagt
