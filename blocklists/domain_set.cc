#include "blocklists/domain_set.h"

#include <cstring>
#include <stdexcept>

#include "blocklists/domain_text.h"

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

}  // namespace

void DomainSet::Builder::reserve(size_t entries, size_t name_bytes) {
  records_.reserve(entries * (kRecordHeader + 1) + name_bytes);
}

DomainSet::EntryId DomainSet::Builder::add(std::string_view name, EntryScope scope,
                                           uint16_t value) {
  if (name.empty() || name.size() > 253) throw std::invalid_argument("bad domain name length");
  if (records_.size() + kRecordHeader + 255 > kEmpty) {
    throw std::length_error("DomainSet: more than 4 GiB of names");
  }
  auto id = static_cast<EntryId>(records_.size());
  records_.push_back(static_cast<char>(value & 0xFF));
  records_.push_back(static_cast<char>(value >> 8));
  records_.push_back(static_cast<char>(scope));
  records_.push_back(static_cast<char>(name.size() + 1));
  append_wire_name(name, records_);
  ++count_;
  return id;
}

DomainSet DomainSet::Builder::build() && {
  DomainSet set;
  records_.shrink_to_fit();
  set.records_ = std::move(records_);
  set.count_ = count_;
  // Load factor <= 0.75; the table is small, never empty, so every probe ends at a free slot.
  size_t capacity = count_ + count_ / 3 + 8;
  set.slots_.assign(capacity, Slot{0, kEmpty});
  uint8_t label_offset[kMaxLabels];
  uint64_t suffix_hash[kMaxLabels];
  size_t record = 0;
  while (record < set.records_.size()) {
    auto* wire = reinterpret_cast<const uint8_t*>(set.records_.data()) + record + kRecordHeader;
    size_t length = wire[-1];
    size_t wire_length = 0;
    hash_suffixes(wire, length, label_offset, suffix_hash, &wire_length);
    uint64_t hash = suffix_hash[0];
    size_t slot = set.home_slot(hash);
    while (set.slots_[slot].record != kEmpty) slot = slot + 1 == capacity ? 0 : slot + 1;
    set.slots_[slot] = Slot{static_cast<uint32_t>(hash >> 32), static_cast<uint32_t>(record)};
    record += kRecordHeader + length;
  }
  return set;
}

DomainSet::DomainSet() : slots_(8, Slot{0, kEmpty}) {}

bool DomainSet::record_equals(uint32_t record, const uint8_t* wire, size_t length) const {
  auto* stored = reinterpret_cast<const uint8_t*>(records_.data()) + record;
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
    __builtin_prefetch(&slots_[home_slot(matches.suffix_hash_[i])]);
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
  size_t size = 0;
  bool valid = !text_name.empty() && text_name.size() < kMaxWireLength - 1;
  size_t label_start = 0;
  while (valid && label_start <= text_name.size()) {
    size_t dot = text_name.find('.', label_start);
    if (dot == std::string_view::npos) dot = text_name.size();
    size_t length = dot - label_start;
    valid = length > 0 && length <= 63;
    matches.wire_[size++] = static_cast<uint8_t>(length);
    std::memcpy(matches.wire_ + size, text_name.data() + label_start, length);
    size += length;
    label_start = dot + 1;
  }
  matches.wire_length_ = static_cast<uint8_t>(valid ? size : 0);
  prepare(matches);
  return matches;
}

bool DomainSet::Matches::next(Match* match) {
  const std::vector<Slot>& slots = set_->slots_;
  while (label_ < labels_) {
    uint64_t hash = suffix_hash_[label_];
    if (!probing_) {
      slot_ = set_->home_slot(hash);
      probing_ = true;
    }
    auto tag = static_cast<uint32_t>(hash >> 32);
    auto wanted = static_cast<uint8_t>(label_ == 0 ? EntryScope::name : EntryScope::below);
    size_t offset = label_offset_[label_];
    while (slots[slot_].record != kEmpty) {
      const Slot& slot = slots[slot_];
      slot_ = slot_ + 1 == slots.size() ? 0 : slot_ + 1;
      if (slot.tag != tag) continue;
      if ((static_cast<uint8_t>(set_->scope(slot.record)) & wanted) == 0) continue;
      if (!set_->record_equals(slot.record, wire_ + offset, wire_length_ - offset)) continue;
      match->entry = slot.record;
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
  size_t length = static_cast<uint8_t>(records_[entry + 3]);
  return wire_to_text(std::string_view(records_).substr(entry + kRecordHeader, length));
}

size_t DomainSet::memory_bytes() const {
  return records_.capacity() + slots_.capacity() * sizeof(Slot);
}

}  // namespace dnsvagt
