// DomainSet: a compact, immutable set of domain entries (a name plus the scope it covers)
// answering "which entries match this query name" in one walk over the query's labels.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "blocklists/list_entry.h"
#include "blocklists/mapped_buffer.h"

namespace dnsvagt {

// Layout: every entry is a record [value: 2][scope: 1][length: 1][lowercase wire labels] in
// one byte string; an entry's id is its record's offset. An open-addressing table (linear
// probing) holds, per entry, 32 bits of the 64-bit hash of its name and the record offset:
// 8 bytes a slot at load <= 0.75. The hash of a name is built label by label from the right,
// so one pass over a query yields the hash of each of its suffixes; each suffix costs one
// probe (all prefetched first), and a name is compared only when the 32-bit tag matches.
// Both arrays live in MappedBuffers and the builder fills them in place: building a set
// needs no memory beyond the set itself (plus the table's growth if reserve() guessed low).
class DomainSetBuilder;

class DomainSet {
 public:
  using EntryId = uint32_t;
  static constexpr size_t kMaxWireLength = 255;
  static constexpr size_t kMaxLabels = 127;

  // A canonical name (normalize_domain's output) in wire format with its hash, made once for
  // Builder::next_equal and Builder::add.
  class Key {
   public:
    // Throws std::invalid_argument if `name` is not a domain name.
    explicit Key(std::string_view name);

   private:
    friend class DomainSet;
    friend class DomainSetBuilder;
    uint8_t length_ = 0;  // wire bytes, without the root label
    uint64_t hash_ = 0;
    uint8_t wire_[kMaxWireLength];
  };

  using Builder = DomainSetBuilder;

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
  EntryScope scope(EntryId entry) const {
    return static_cast<EntryScope>(records_.data()[entry + 2]);
  }
  uint16_t value(EntryId entry) const {
    return static_cast<uint16_t>(records_.data()[entry] | records_.data()[entry + 1] << 8);
  }

  size_t size() const { return count_; }
  size_t memory_bytes() const;  // bytes of memory held (resident once built)

 private:
  struct Slot {
    uint32_t tag;
    uint32_t record_end;  // the record's offset + 1; 0: a free slot (fresh pages read as 0)
  };

  Slot* slots() { return reinterpret_cast<Slot*>(slots_.data()); }
  const Slot* slots() const { return reinterpret_cast<const Slot*>(slots_.data()); }
  size_t home_slot(uint64_t hash) const {
    return static_cast<size_t>(((hash & 0xFFFFFFFFu) * slot_count_) >> 32);
  }
  // A table of `slot_count` slots holding every record.
  void rehash(size_t slot_count);
  void insert(uint64_t hash, uint32_t record);
  bool record_equals(uint32_t record, const uint8_t* wire, size_t length) const;
  void prepare(Matches& matches) const;

  friend class DomainSetBuilder;

  MappedBuffer records_;
  MappedBuffer slots_;
  size_t slot_count_ = 0;
  size_t count_ = 0;
};

// Fills a DomainSet in place (DomainSet::Builder).
class DomainSetBuilder {
 public:
  // Sizes the table for `entries` in all (a guess: only speed and the memory a build passes
  // through depend on it).
  void reserve(size_t entries);
  // Equal names may be added more than once (e.g. from several lists): all of them match.
  // Returns the entry's id, which stays its id in the built set.
  DomainSet::EntryId add(const DomainSet::Key& key, EntryScope scope, uint16_t value);
  DomainSet::EntryId add(std::string_view name, EntryScope scope, uint16_t value) {
    return add(DomainSet::Key(name), scope, value);
  }
  // The entries added so far with the key's name and `scope`, one per call in the order
  // they were added; `cursor` starts at 0. For merging duplicates while adding.
  bool next_equal(const DomainSet::Key& key, EntryScope scope, size_t& cursor, DomainSet::EntryId* entry) const;
  uint16_t value(DomainSet::EntryId entry) const { return set_.value(entry); }
  size_t size() const { return set_.count_; }
  DomainSet build() &&;

 private:
  DomainSet set_;
};

}  // namespace dnsvagt
