#include "blocklists/domain_set.h"

#include <cstring>
#include <stdexcept>

#include "dns/domain_text.h"

namespace dnsvagt {
namespace {

constexpr uint64_t kRootHash = 0x243F6A8885A308D3;  // hash of the empty suffix
constexpr size_t kRecordHeader = 4;

// Lowercases the ASCII letters of 8 bytes at once (other bytes, incl. >= 0x80, unchanged).
uint64_t lowercase8(uint64_t word) {
  uint64_t low7 = word & 0x7F7F7F7F7F7F7F7Full;
  uint64_t above_z = low7 + 0x2525252525252525ull;   // bit 7 set where byte > 'Z'
  uint64_t from_a = low7 + 0x3F3F3F3F3F3F3F3Full;    // bit 7 set where byte >= 'A'
  uint64_t upper = (from_a ^ above_z) & ~word & 0x8080808080808080ull;
  return word | (upper >> 2);
}

uint64_t mix(uint64_t x) {
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  return x;
}

// Case-insensitive hash of one label (without its length byte).
uint64_t label_hash(const uint8_t* label, size_t length) {
  uint64_t hash = 0x9E3779B97F4A7C15ull * (length + 1);
  uint64_t word;
  for (; length >= 8; label += 8, length -= 8) {
    std::memcpy(&word, label, 8);
    hash = (hash ^ lowercase8(word)) * 0xBF58476D1CE4E5B9ull;
    hash ^= hash >> 29;
  }
  if (length > 0) {
    word = 0;
    std::memcpy(&word, label, length);
    hash = (hash ^ lowercase8(word)) * 0xBF58476D1CE4E5B9ull;
    hash ^= hash >> 29;
  }
  return hash;
}

// The hash of "label.parent" from the hash of "parent".
uint64_t extend_hash(uint64_t parent_hash, const uint8_t* label, size_t length) {
  return mix(parent_hash * 0x9E3779B97F4A7C15ull ^ label_hash(label, length));
}

uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c; }

// Finds the labels of `wire` (up to its root label or its end) and the hash of each suffix.
// Returns the label count, 0 if the name is malformed; sets `wire_length` (without the root).
size_t hash_suffixes(const uint8_t* wire, size_t size, uint8_t* label_offset,
                     uint64_t* suffix_hash, size_t* wire_length) {
  size_t labels = 0;
  size_t at = 0;
  while (at < size && wire[at] != 0) {
    size_t length = wire[at];
    if (length > 63 || at + 1 + length > size || labels == DomainSet::kMaxLabels) return 0;
    label_offset[labels++] = static_cast<uint8_t>(at);
    at += 1 + length;
  }
  *wire_length = at;
  uint64_t hash = kRootHash;
  for (size_t i = labels; i-- > 0;) {
    size_t offset = label_offset[i];
    hash = extend_hash(hash, wire + offset + 1, wire[offset]);
    suffix_hash[i] = hash;
  }
  return labels;
}

// Converts a text name (no trailing dot) to wire format without the root label; returns its
// length, 0 if `text` is not a name.
size_t text_to_wire(std::string_view text, uint8_t* wire) {
  if (text.empty() || text.size() >= DomainSet::kMaxWireLength - 1) return 0;
  size_t size = 0;
  size_t label_start = 0;
  while (label_start <= text.size()) {
    size_t dot = text.find('.', label_start);
    if (dot == std::string_view::npos) dot = text.size();
    size_t length = dot - label_start;
    if (length == 0 || length > 63) return 0;
    wire[size++] = static_cast<uint8_t>(length);
    std::memcpy(wire + size, text.data() + label_start, length);
    size += length;
    label_start = dot + 1;
  }
  return size;
}

// The hash of a whole wire name (the first of its suffix hashes).
uint64_t name_hash(const uint8_t* wire, size_t length) {
  uint8_t label_offset[DomainSet::kMaxLabels];
  uint64_t suffix_hash[DomainSet::kMaxLabels];
  size_t wire_length = 0;
  if (hash_suffixes(wire, length, label_offset, suffix_hash, &wire_length) == 0) return kRootHash;
  return suffix_hash[0];
}

// Load factor at most 3/4; small tables get a few spare slots, so a probe always ends at a
// free slot.
size_t slots_for(size_t entries) { return entries + entries / 3 + 8; }

}  // namespace

DomainSet::Key::Key(std::string_view name) {
  size_t length = text_to_wire(name, wire_);
  if (length == 0) throw std::invalid_argument("not a domain name: " + std::string(name));
  length_ = static_cast<uint8_t>(length);
  hash_ = name_hash(wire_, length);
}

void DomainSetBuilder::reserve(size_t entries) {
  if (slots_for(entries) > set_.slot_count_) set_.rehash(slots_for(entries));
}

DomainSet::EntryId DomainSetBuilder::add(const DomainSet::Key& key, EntryScope scope, uint16_t value) {
  if (set_.records_.size() + kRecordHeader + DomainSet::kMaxWireLength >= UINT32_MAX) {
    throw std::length_error("DomainSet: more than 4 GiB of names");
  }
  if (slots_for(set_.count_ + 1) > set_.slot_count_) set_.rehash(slots_for(set_.count_ + 1) * 2);
  auto id = static_cast<DomainSet::EntryId>(set_.records_.size());
  const uint8_t header[kRecordHeader] = {static_cast<uint8_t>(value & 0xFF),
                                         static_cast<uint8_t>(value >> 8),
                                         static_cast<uint8_t>(scope), key.length_};
  set_.records_.append(header, kRecordHeader);
  set_.records_.append(key.wire_, key.length_);
  set_.insert(key.hash_, id);
  ++set_.count_;
  return id;
}

bool DomainSetBuilder::next_equal(const DomainSet::Key& key, EntryScope scope, size_t& cursor,
                                  DomainSet::EntryId* entry) const {
  const DomainSet::Slot* slots = set_.slots();
  // cursor: 0 before the first call, else the slot after the last one looked at, plus 1.
  size_t slot = cursor == 0 ? set_.home_slot(key.hash_) : cursor - 1;
  auto tag = static_cast<uint32_t>(key.hash_ >> 32);
  while (slots[slot].record_end != 0) {
    const DomainSet::Slot& found = slots[slot];
    slot = slot + 1 == set_.slot_count_ ? 0 : slot + 1;
    if (found.tag != tag) continue;
    uint32_t record = found.record_end - 1;
    if (set_.scope(record) != scope || !set_.record_equals(record, key.wire_, key.length_)) continue;
    cursor = slot + 1;
    *entry = record;
    return true;
  }
  cursor = slot + 1;
  return false;
}

DomainSet DomainSetBuilder::build() && {
  // A table grown by doubling, or reserved for more entries, would stay partly empty for the
  // set's life: rebuilt at its proper size, it holds 8 bytes an entry at load 3/4.
  size_t proper = slots_for(set_.count_);
  if (set_.slot_count_ > proper + proper / 16) set_.rehash(proper);
  set_.records_.shrink_to_fit();
  return std::move(set_);
}

DomainSet::DomainSet() { rehash(slots_for(0)); }

void DomainSet::rehash(size_t slot_count) {
  MappedBuffer old = std::move(slots_);
  size_t old_count = slot_count_;
  slots_.resize(slot_count * sizeof(Slot));
  slot_count_ = slot_count;
  auto* old_slots = reinterpret_cast<const Slot*>(old.data());
  for (size_t i = 0; i < old_count; ++i) {
    if (old_slots[i].record_end == 0) continue;
    uint32_t record = old_slots[i].record_end - 1;
    insert(name_hash(records_.data() + record + kRecordHeader, records_.data()[record + 3]),
           record);
  }
}

void DomainSet::insert(uint64_t hash, uint32_t record) {
  Slot* table = slots();
  size_t slot = home_slot(hash);
  while (table[slot].record_end != 0) slot = slot + 1 == slot_count_ ? 0 : slot + 1;
  table[slot] = Slot{static_cast<uint32_t>(hash >> 32), record + 1};
}

bool DomainSet::record_equals(uint32_t record, const uint8_t* wire, size_t length) const {
  const uint8_t* stored = records_.data() + record;
  if (stored[3] != length) return false;
  stored += kRecordHeader;
  for (size_t i = 0; i < length; ++i) {
    if (stored[i] != lower(wire[i])) return false;
  }
  return true;
}

void DomainSet::prepare(Matches& matches) const {
  matches.set_ = this;
  size_t wire_length = 0;
  matches.labels_ = hash_suffixes(matches.wire_, matches.wire_length_, matches.label_offset_,
                                  matches.suffix_hash_, &wire_length);
  matches.wire_length_ = static_cast<uint8_t>(wire_length);
  for (size_t i = 0; i < matches.labels_; ++i) {
    __builtin_prefetch(&slots()[home_slot(matches.suffix_hash_[i])]);
  }
}

DomainSet::Matches DomainSet::matches(std::span<const uint8_t> wire_name) const {
  Matches matches;
  size_t size = std::min(wire_name.size(), kMaxWireLength);
  std::memcpy(matches.wire_, wire_name.data(), size);
  matches.wire_length_ = static_cast<uint8_t>(size);
  prepare(matches);
  return matches;
}

DomainSet::Matches DomainSet::matches(std::string_view text_name) const {
  Matches matches;
  if (!text_name.empty() && text_name.back() == '.') text_name.remove_suffix(1);
  matches.wire_length_ = static_cast<uint8_t>(text_to_wire(text_name, matches.wire_));
  prepare(matches);
  return matches;
}

bool DomainSet::Matches::next(Match* match) {
  const Slot* slots = set_->slots();
  while (label_ < labels_) {
    uint64_t hash = suffix_hash_[label_];
    if (!probing_) {
      slot_ = set_->home_slot(hash);
      probing_ = true;
    }
    auto tag = static_cast<uint32_t>(hash >> 32);
    auto wanted = static_cast<uint8_t>(label_ == 0 ? EntryScope::name : EntryScope::below);
    size_t offset = label_offset_[label_];
    while (slots[slot_].record_end != 0) {
      const Slot& slot = slots[slot_];
      slot_ = slot_ + 1 == set_->slot_count_ ? 0 : slot_ + 1;
      if (slot.tag != tag) continue;
      uint32_t record = slot.record_end - 1;
      if ((static_cast<uint8_t>(set_->scope(record)) & wanted) == 0) continue;
      if (!set_->record_equals(record, wire_ + offset, wire_length_ - offset)) continue;
      match->entry = record;
      match->exact = label_ == 0;
      return true;
    }
    probing_ = false;
    ++label_;
  }
  return false;
}

std::optional<DomainSet::EntryId> DomainSet::find(std::span<const uint8_t> wire_name) const {
  Matches found = matches(wire_name);
  Match match;
  if (!found.next(&match)) return std::nullopt;
  return match.entry;
}

std::optional<DomainSet::EntryId> DomainSet::find(std::string_view text_name) const {
  Matches found = matches(text_name);
  Match match;
  if (!found.next(&match)) return std::nullopt;
  return match.entry;
}

std::string DomainSet::name(EntryId entry) const {
  size_t length = records_.data()[entry + 3];
  return wire_to_text(std::string_view(
      reinterpret_cast<const char*>(records_.data()) + entry + kRecordHeader, length));
}

size_t DomainSet::memory_bytes() const {
  return records_.capacity() + slots_.capacity();
}

}  // namespace dnsvagt
