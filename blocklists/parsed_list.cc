#include "blocklists/parsed_list.h"

#include <functional>
#include <stdexcept>

namespace dnsvagt {
namespace {

constexpr size_t kMaxSampleText = 200;

void add_sample(std::vector<LineIssue>& samples, size_t line, std::string_view text,
                std::string reason) {
  if (samples.size() >= ParseStats::kMaxSamples) return;
  samples.push_back({line, std::string(text.substr(0, kMaxSampleText)), std::move(reason)});
}

uint64_t entry_hash(std::string_view name, EntryScope scope, EntryKind kind) {
  uint64_t hash = std::hash<std::string_view>()(name);
  hash ^= (static_cast<uint64_t>(scope) << 1 | static_cast<uint64_t>(kind)) + 1;
  hash *= 0x9E3779B97F4A7C15ull;
  return hash ^ (hash >> 29);
}

size_t power_of_two_at_least(size_t n) {
  size_t size = 1024;
  while (size < n) size *= 2;
  return size;
}

}  // namespace

std::string_view trim_blanks(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

std::string ParseStats::summary() const {
  std::string text = std::string(to_string(format)) + (format_detected ? " (detected)" : "") +
                     ": " + std::to_string(lines) + " lines, " + std::to_string(entries) +
                     " entries";
  auto add = [&text](uint64_t count, const char* what) {
    if (count != 0) text += ", " + std::to_string(count) + " " + what;
  };
  add(allow_entries, "of them allow");
  add(duplicates, "duplicates");
  add(ignored, "ignored (localhost/IP)");
  add(skipped, "skipped (not a plain domain rule)");
  add(unsupported, "unsupported");
  add(invalid, "invalid");
  for (const LineIssue& issue : invalid_samples) {
    text += "; invalid line " + std::to_string(issue.line) + " (" + issue.reason + "): " +
            issue.text;
  }
  return text;
}

EntrySink::Added merge_local_address(std::vector<LocalAddress>& addresses,
                                     const LocalAddress& address) {
  for (const LocalAddress& known : addresses) {
    if (known == address) return EntrySink::Added::duplicate;
  }
  if (addresses.size() >= kMaxLocalDataPerName) return EntrySink::Added::over_limit;
  addresses.push_back(address);
  return EntrySink::Added::merged;
}

std::vector<LocalAddress> ParsedList::local_data(size_t index) const {
  uint32_t data = entries_[index].local_data;
  return data == kNoLocalData ? std::vector<LocalAddress>() : local_data_[data];
}

ListEntry ParsedList::entry(size_t index) const {
  return {std::string(name(index)), scope(index), kind(index), action(index), local_data(index)};
}

ParsedListBuilder::ParsedListBuilder(size_t expected_entries)
    : seen_(power_of_two_at_least(expected_entries * 2), 0) {
  result_.entries_.reserve(expected_entries);
  result_.names_.reserve(expected_entries * 16);
}

size_t ParsedListBuilder::find_slot(std::string_view name, EntryScope scope, EntryKind kind,
                                    uint64_t hash) const {
  size_t mask = seen_.size() - 1;
  for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    uint64_t used = seen_[slot];
    if (used == 0) return slot;
    if ((used >> 32) != (hash >> 32)) continue;
    size_t index = (used & 0xFFFFFFFFu) - 1;
    if (result_.scope(index) == scope && result_.kind(index) == kind &&
        result_.name(index) == name) {
      return slot;
    }
  }
}

void ParsedListBuilder::grow_seen() {
  std::vector<uint64_t> old(seen_.size() * 2, 0);
  old.swap(seen_);
  for (uint64_t used : old) {
    if (used == 0) continue;
    size_t index = (used & 0xFFFFFFFFu) - 1;
    uint64_t hash = entry_hash(result_.name(index), result_.scope(index), result_.kind(index));
    seen_[find_slot(result_.name(index), result_.scope(index), result_.kind(index), hash)] = used;
  }
}

EntrySink::Added ParsedListBuilder::add(std::string_view name, EntryScope scope, EntryKind kind,
                                        EntryAction action, const LocalAddress* local_address) {
  uint64_t hash = entry_hash(name, scope, kind);
  size_t slot = find_slot(name, scope, kind, hash);
  if (seen_[slot] == 0) {
    if (result_.names_.size() + name.size() > UINT32_MAX) {
      throw std::length_error("list too large: more than 4 GiB of names");
    }
    uint32_t local_data = ParsedList::kNoLocalData;
    if (local_address != nullptr) {
      local_data = static_cast<uint32_t>(result_.local_data_.size());
      result_.local_data_.push_back({*local_address});
    }
    result_.entries_.push_back({static_cast<uint32_t>(result_.names_.size()),
                                static_cast<uint8_t>(name.size()), scope, kind, action,
                                local_data});
    result_.names_.append(name);
    seen_[slot] = (hash & 0xFFFFFFFF00000000ull) | result_.entries_.size();
    if (result_.entries_.size() * 2 > seen_.size()) grow_seen();
    return Added::added;
  }
  ParsedList::PackedEntry& earlier = result_.entries_[(seen_[slot] & 0xFFFFFFFFu) - 1];
  if (local_address != nullptr && earlier.local_data != ParsedList::kNoLocalData) {
    return merge_local_address(result_.local_data_[earlier.local_data], *local_address);
  }
  return Added::duplicate;
}

ParsedList ParsedListBuilder::finish(ParseStats stats) && {
  seen_ = {};
  result_.names_.shrink_to_fit();
  result_.entries_.shrink_to_fit();
  result_.stats = std::move(stats);
  return std::move(result_);
}

EntryCounter::EntryCounter(size_t expected_entries)
    : seen_(expected_entries + expected_entries / 3 + 16, 0) {}

size_t EntryCounter::home_slot(uint64_t hash) const {
  return static_cast<size_t>(((hash >> 32) * seen_.size()) >> 32);
}

void EntryCounter::insert(uint64_t hash) {
  size_t slot = home_slot(hash);
  while (seen_[slot] != 0) slot = slot + 1 == seen_.size() ? 0 : slot + 1;
  seen_[slot] = hash;
}

void EntryCounter::grow() {
  std::vector<uint64_t> old(seen_.size() * 2, 0);
  old.swap(seen_);
  for (uint64_t hash : old) {
    if (hash != 0) insert(hash);
  }
}

EntrySink::Added EntryCounter::add(std::string_view name, EntryScope scope, EntryKind kind,
                                   EntryAction, const LocalAddress* local_address) {
  uint64_t hash = entry_hash(name, scope, kind) | 1;  // never 0, the free mark
  for (size_t slot = home_slot(hash); seen_[slot] != 0;
       slot = slot + 1 == seen_.size() ? 0 : slot + 1) {
    if (seen_[slot] != hash) continue;
    auto local_data = local_data_.find(hash);
    if (local_address == nullptr || local_data == local_data_.end()) return Added::duplicate;
    return merge_local_address(local_data->second, *local_address);
  }
  insert(hash);
  if (++count_ * 4 > seen_.size() * 3) grow();
  if (local_address != nullptr) local_data_[hash].push_back(*local_address);
  return Added::added;
}

ListCollector::ListCollector(ListFormat format, bool detected, EntrySink& sink) : sink_(sink) {
  stats_.format = format;
  stats_.format_detected = detected;
}

void ListCollector::add(std::string_view name, EntryScope scope, EntryKind kind,
                        EntryAction action) {
  count(sink_.add(name, scope, kind, action, nullptr), kind);
}

void ListCollector::add_local_data(size_t line, std::string_view text, std::string_view name,
                                   EntryScope scope, const LocalAddress& address) {
  const EntrySink::Added added =
      sink_.add(name, scope, EntryKind::block, EntryAction::local_data, &address);
  if (added == EntrySink::Added::over_limit) {
    return invalid(line, text,
                   "more than " + std::to_string(kMaxLocalDataPerName) +
                       " local-data records for " + (scope == EntryScope::below ? "*." : "") +
                       std::string(name));
  }
  count(added, EntryKind::block);
}

void ListCollector::count(EntrySink::Added added, EntryKind kind) {
  switch (added) {
    case EntrySink::Added::added:
      ++stats_.entries;
      if (kind == EntryKind::allow) ++stats_.allow_entries;
      break;
    case EntrySink::Added::duplicate: ++stats_.duplicates; break;
    case EntrySink::Added::merged:
    case EntrySink::Added::over_limit:  // add_local_data reports it as an invalid line
      break;
  }
}

void ListCollector::skipped(size_t line, std::string_view text, std::string reason) {
  ++stats_.skipped;
  add_sample(stats_.skipped_samples, line, text, std::move(reason));
}

void ListCollector::unsupported(size_t line, std::string_view text, std::string reason) {
  ++stats_.unsupported;
  add_sample(stats_.skipped_samples, line, text, std::move(reason));
}

void ListCollector::invalid(size_t line, std::string_view text, std::string reason) {
  ++stats_.invalid;
  add_sample(stats_.invalid_samples, line, text, std::move(reason));
}

}  // namespace dnsvagt
