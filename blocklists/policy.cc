#include "blocklists/policy.h"

#include <malloc.h>

#include <algorithm>
#include <limits>
#include <optional>
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

PolicyAction entry_action(EntryAction action, BlockAction configured_action) {
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

Policy::Policy() : groups_(1) {}

const PolicyGroup& Policy::group_at(size_t group) const {
  return groups_[group < groups_.size() ? group : kDefaultGroup];
}

PolicyVerdict Policy::decide(DomainSet::Matches& matches, size_t group) const {
  PolicyVerdict verdict;
  DomainSet::Match match;
  const PolicyGroup& selected = group_at(group);
  while (matches.next(&match)) {
    const RuleClass& rule = classes_[set_.value(match.entry)];
    if (!selected.lists[rule.list]) continue;
    if (rule.kind == EntryKind::allow) {
      return PolicyVerdict{false, true, rule.list, match.entry, PolicyAction::nxdomain, {}};
    }
    if (verdict.blocked) continue;  // a more specific block entry came first
    verdict.blocked = true;
    verdict.list = rule.list;
    verdict.entry = match.entry;
    verdict.action = action_of(rule, selected);
  }
  if (verdict.blocked && verdict.action == PolicyAction::local_data) {
    auto found = local_data_.find(verdict.entry);
    if (found != local_data_.end()) verdict.local_data = found->second;
  }
  return verdict;
}

PolicyVerdict Policy::check(std::span<const uint8_t> wire_name, size_t group) const {
  DomainSet::Matches matches = set_.matches(wire_name);
  return decide(matches, group);
}

PolicyVerdict Policy::check(std::string_view text_name, size_t group) const {
  DomainSet::Matches matches = set_.matches(text_name);
  return decide(matches, group);
}

std::vector<Policy::Match> Policy::all_matches(std::string_view text_name, size_t group) const {
  std::vector<Match> result;
  DomainSet::Matches matches = set_.matches(text_name);
  DomainSet::Match match;
  const PolicyGroup& selected = group_at(group);
  while (matches.next(&match)) {
    const RuleClass& rule = classes_[set_.value(match.entry)];
    result.push_back({rule.list, match.entry, rule.kind, action_of(rule, selected),
                      selected.lists[rule.list]});
  }
  return result;
}

std::string Policy::entry_rule(DomainSet::EntryId entry) const {
  return ListEntry{set_.name(entry), set_.scope(entry), EntryKind::block,
                   EntryAction::list_default, {}}
      .rule_text();
}

// Adds the entries of one list to the policy being built, merging duplicates within the list.
class PolicyBuilder::ListSink : public EntrySink {
 public:
  ListSink(PolicyBuilder& builder, uint16_t list)
      : builder_(builder), list_(list), allow_list_(builder.policy_->lists_[list].allow_list) {}

  Added add(std::string_view name, EntryScope scope, EntryKind kind, EntryAction action,
            const LocalAddress* local_address) override {
    if (allow_list_) kind = EntryKind::allow;
    const PolicyAction policy_action = entry_action(action, builder_.configured_action_);
    const bool group_action = action == EntryAction::list_default;
    const std::vector<Policy::RuleClass>& classes = builder_.policy_->classes_;
    DomainSet::Key key(name);
    size_t cursor = 0;
    DomainSet::EntryId earlier = 0;
    while (builder_.set_.next_equal(key, scope, cursor, &earlier)) {
      const Policy::RuleClass& rule = classes[builder_.set_.value(earlier)];
      if (rule.list != list_ || rule.kind != kind) continue;  // another list's: both stay
      return merge_local_data(earlier, local_address);
    }
    // Entries of one list share few classes: remember the last one instead of searching.
    if (!last_class_ || classes[*last_class_].kind != kind ||
        classes[*last_class_].action != policy_action ||
        classes[*last_class_].group_action != group_action) {
      last_class_ = builder_.class_of(list_, kind, policy_action, group_action);
    }
    DomainSet::EntryId id = builder_.set_.add(key, scope, *last_class_);
    if (kind == EntryKind::block && policy_action == PolicyAction::local_data &&
        local_address != nullptr) {
      builder_.policy_->local_data_[id].push_back(*local_address);
    }
    return Added::added;
  }

 private:
  Added merge_local_data(DomainSet::EntryId earlier, const LocalAddress* local_address) {
    auto found = builder_.policy_->local_data_.find(earlier);
    if (local_address == nullptr || found == builder_.policy_->local_data_.end()) {
      return Added::duplicate;
    }
    return merge_local_address(found->second, *local_address);
  }

  PolicyBuilder& builder_;
  const uint16_t list_;
  const bool allow_list_;
  std::optional<uint16_t> last_class_;
};

PolicyBuilder::PolicyBuilder(BlockAction configured_action)
    : configured_action_(configured_action), policy_(std::make_unique<Policy>()) {}

PolicyBuilder::~PolicyBuilder() = default;

void PolicyBuilder::reserve(size_t entries) { set_.reserve(entries); }

const std::vector<PolicyList>& PolicyBuilder::lists() const { return policy_->lists_; }

void PolicyBuilder::set_client_groups(std::vector<ClientGroup> groups) {
  client_groups_ = std::move(groups);
}

uint16_t PolicyBuilder::class_of(uint16_t list, EntryKind kind, PolicyAction action,
                                 bool group_action) {
  std::vector<Policy::RuleClass>& classes = policy_->classes_;
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i].list == list && classes[i].kind == kind && classes[i].action == action &&
        classes[i].group_action == group_action) {
      return static_cast<uint16_t>(i);
    }
  }
  if (classes.size() > std::numeric_limits<uint16_t>::max()) {
    throw std::length_error("too many lists in one policy");
  }
  classes.push_back({list, kind, action, group_action});
  return static_cast<uint16_t>(classes.size() - 1);
}

uint16_t PolicyBuilder::start_list(PolicyList list) {
  if (policy_->lists_.size() >= std::numeric_limits<uint16_t>::max()) {
    throw std::length_error("too many lists in one policy");
  }
  policy_->lists_.push_back(std::move(list));
  return static_cast<uint16_t>(policy_->lists_.size() - 1);
}

void PolicyBuilder::add_list(PolicyList list, const ParsedList& entries) {
  const uint16_t index = start_list(std::move(list));
  if (!policy_->lists_[index].error.empty()) return;
  set_.reserve(set_.size() + entries.size());
  ListSink sink(*this, index);
  for (size_t i = 0; i < entries.size(); ++i) {
    std::vector<LocalAddress> addresses = entries.local_data(i);
    sink.add(entries.name(i), entries.scope(i), entries.kind(i), entries.action(i),
             addresses.empty() ? nullptr : &addresses[0]);
    for (size_t k = 1; k < addresses.size(); ++k) {
      sink.add(entries.name(i), entries.scope(i), entries.kind(i), entries.action(i),
               &addresses[k]);
    }
  }
}

void PolicyBuilder::add_list_file(PolicyList list) {
  const uint16_t index = start_list(std::move(list));
  PolicyList& added = policy_->lists_[index];
  if (!added.error.empty() || !added.note.empty()) return;
  ListSink sink(*this, index);
  try {
    added.stats = parse_list_file(added.path, added.format, sink);
  } catch (const std::runtime_error& error) {
    added.error = error.what();
  }
  if (added.allow_list) added.stats.allow_entries = added.stats.entries;  // whatever their kind
}

std::shared_ptr<const Policy> PolicyBuilder::build() && {
  policy_->set_ = std::move(set_).build();
  const std::vector<PolicyList>& lists = policy_->lists_;
  std::vector<PolicyGroup>& groups = policy_->groups_;
  groups.assign(1, PolicyGroup{"", std::vector<bool>(lists.size(), true),
                               configured(configured_action_)});
  for (const ClientGroup& client_group : client_groups_) {
    PolicyGroup& group = groups.emplace_back(
        PolicyGroup{client_group.name, std::vector<bool>(lists.size(), false),
                    configured(client_group.action)});
    for (size_t i = 0; i < lists.size(); ++i) {
      const std::vector<std::string>& names =
          lists[i].allow_list ? client_group.allow : client_group.lists;
      group.lists[i] = std::find(names.begin(), names.end(), lists[i].name) != names.end();
    }
  }
  return std::shared_ptr<const Policy>(std::move(policy_));
}

std::shared_ptr<const Policy> build_policy(const BlockingConfig& config,
                                           const std::vector<ClientGroup>& groups) {
  PolicyBuilder builder(config.action);
  builder.set_client_groups(groups);
  for (bool allow_list : {false, true}) {
    for (const ListSource& source : allow_list ? config.allow : config.lists) {
      builder.add_list_file(locate_list(source, allow_list, config.cache_dir));
    }
  }
  return std::move(builder).build();
}

PublishedPolicy::PublishedPolicy() : policy_(std::make_shared<const Policy>()) {}

void release_when_unused(std::shared_ptr<const Policy> replaced, std::chrono::milliseconds wait) {
  // Nobody can take a new reference: the policy is no longer published. So a count of 1 stays 1.
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (replaced.use_count() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  replaced.reset();
  // The policy's small parts (list descriptions, RPZ local data) came from the heap.
  malloc_trim(0);
}

}  // namespace dnsvagt
