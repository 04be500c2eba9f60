#include "blocklists/policy.h"

#include <malloc.h>

#include <limits>
#include <stdexcept>
#include <thread>

#include "blocklists/list_parser.h"
#include "blocklists/list_source.h"

namespace dnsvagt {
namespace {

PolicyAction configured(BlockAction action) {
  switch (action) {
    case BlockAction::nxdomain: return PolicyAction::nxdomain;
    case BlockAction::nodata: return PolicyAction::nodata;
    case BlockAction::null: return PolicyAction::null;
    case BlockAction::refused: return PolicyAction::refused;
    case BlockAction::sinkhole: return PolicyAction::sinkhole;
  }
  return PolicyAction::nxdomain;
}

PolicyAction action_of(EntryAction action, BlockAction configured_action) {
  switch (action) {
    case EntryAction::list_default: return configured(configured_action);
    case EntryAction::nxdomain: return PolicyAction::nxdomain;
    case EntryAction::nodata: return PolicyAction::nodata;
    case EntryAction::drop: return PolicyAction::drop;
    case EntryAction::local_data: return PolicyAction::local_data;
  }
  return configured(configured_action);
}

}  // namespace

const char* to_string(PolicyAction action) {
  switch (action) {
    case PolicyAction::nxdomain: return "nxdomain";
    case PolicyAction::nodata: return "nodata";
    case PolicyAction::null: return "null";
    case PolicyAction::refused: return "refused";
    case PolicyAction::sinkhole: return "sinkhole";
    case PolicyAction::drop: return "drop";
    case PolicyAction::local_data: return "local data";
  }
  return "?";
}

Policy::Policy() = default;

PolicyVerdict Policy::decide(DomainSet::Matches& matches) const {
  PolicyVerdict verdict;
  DomainSet::Match match;
  while (matches.next(&match)) {
    const RuleClass& rule = classes_[set_.value(match.entry)];
    if (rule.kind == EntryKind::allow) {
      return PolicyVerdict{false, true, rule.list, match.entry, PolicyAction::nxdomain, {}};
    }
    if (verdict.blocked) continue;  // a more specific block entry came first
    verdict.blocked = true;
    verdict.list = rule.list;
    verdict.entry = match.entry;
    verdict.action = rule.action;
  }
  if (verdict.blocked && verdict.action == PolicyAction::local_data) {
    auto found = local_data_.find(verdict.entry);
    if (found != local_data_.end()) verdict.local_data = found->second;
  }
  return verdict;
}

PolicyVerdict Policy::check(std::span<const uint8_t> wire_name) const {
  DomainSet::Matches matches = set_.matches(wire_name);
  return decide(matches);
}

PolicyVerdict Policy::check(std::string_view text_name) const {
  DomainSet::Matches matches = set_.matches(text_name);
  return decide(matches);
}

std::vector<Policy::Match> Policy::all_matches(std::string_view text_name) const {
  std::vector<Match> result;
  DomainSet::Matches matches = set_.matches(text_name);
  DomainSet::Match match;
  while (matches.next(&match)) {
    const RuleClass& rule = classes_[set_.value(match.entry)];
    result.push_back({rule.list, match.entry, rule.kind, rule.action});
  }
  return result;
}

std::string Policy::entry_rule(DomainSet::EntryId entry) const {
  return ListEntry{set_.name(entry), set_.scope(entry), EntryKind::block,
                   EntryAction::list_default, {}}
      .rule_text();
}

PolicyBuilder::PolicyBuilder(BlockAction configured_action)
    : configured_action_(configured_action), policy_(std::make_unique<Policy>()) {}

uint16_t PolicyBuilder::class_of(uint16_t list, EntryKind kind, PolicyAction action) {
  std::vector<Policy::RuleClass>& classes = policy_->classes_;
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i].list == list && classes[i].kind == kind && classes[i].action == action) {
      return static_cast<uint16_t>(i);
    }
  }
  if (classes.size() > std::numeric_limits<uint16_t>::max()) {
    throw std::length_error("too many lists in one policy");
  }
  classes.push_back({list, kind, action});
  return static_cast<uint16_t>(classes.size() - 1);
}

void PolicyBuilder::add_list(PolicyList list, const ParsedList& entries) {
  if (policy_->lists_.size() >= std::numeric_limits<uint16_t>::max()) {
    throw std::length_error("too many lists in one policy");
  }
  auto index = static_cast<uint16_t>(policy_->lists_.size());
  bool allow_list = list.allow_list;
  bool loaded = list.error.empty();
  policy_->lists_.push_back(std::move(list));
  if (!loaded) return;
  // Entries of one list share few classes: remember the last one instead of searching.
  uint16_t last_class = class_of(index, allow_list ? EntryKind::allow : EntryKind::block,
                                 configured(configured_action_));
  for (size_t i = 0; i < entries.size(); ++i) {
    EntryKind kind = allow_list ? EntryKind::allow : entries.kind(i);
    PolicyAction action = action_of(entries.action(i), configured_action_);
    const Policy::RuleClass& current = policy_->classes_[last_class];
    if (current.kind != kind || current.action != action) {
      last_class = class_of(index, kind, action);
    }
    DomainSet::EntryId id = set_.add(entries.name(i), entries.scope(i), last_class);
    if (kind == EntryKind::block && action == PolicyAction::local_data) {
      policy_->local_data_[id] = entries.local_data(i);
    }
  }
}

std::shared_ptr<const Policy> PolicyBuilder::build() && {
  policy_->set_ = std::move(set_).build();
  return std::shared_ptr<const Policy>(std::move(policy_));
}

std::shared_ptr<const Policy> build_policy(const BlockingConfig& config) {
  PolicyBuilder builder(config.action);
  auto add = [&builder, &config](const ListSource& source, bool allow_list) {
    ListText text = read_list_text(source, config.cache_dir);
    PolicyList list{source.name, allow_list, text.path, text.error, text.note, {}};
    ParsedList parsed;
    if (text.error.empty()) {
      parsed = parse_list(text.text, source.format);
      list.stats = parsed.stats;
    }
    builder.add_list(std::move(list), parsed);
  };
  for (const ListSource& source : config.lists) add(source, false);
  for (const ListSource& source : config.allow) add(source, true);
  return std::move(builder).build();
}

PublishedPolicy::PublishedPolicy() : policy_(std::make_shared<const Policy>()) {}

void reclaim_when_released(const std::weak_ptr<const Policy>& replaced,
                           std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (!replaced.expired() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  malloc_trim(0);
}

}  // namespace dnsvagt
