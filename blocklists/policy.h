// The filtering policy: every block and allow list compiled into one immutable DomainSet,
// answering per query whether it is blocked, by which list and entry, and how to answer.
// Built off the query path and published by an atomic pointer swap (PublishedPolicy).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "blocklists/domain_set.h"
#include "blocklists/list_entry.h"
#include "blocklists/parsed_list.h"
#include "config/config.h"

namespace dnsvagt {

// How to answer a blocked query: the configured blocking.action (nxdomain, nodata, null,
// refused, sinkhole), or an RPZ entry's own action (nxdomain, nodata, drop, local_data).
enum class PolicyAction : uint8_t { nxdomain, nodata, null, refused, sinkhole, drop, local_data };
const char* to_string(PolicyAction action);

// One configured list as a policy compiles and names it: what the list publisher and
// build_policy hand the builder, and what the policy keeps to say which list matched.
struct PolicyList {
  std::string name;         // from the config; used in metrics, logs and EDE text
  bool allow_list = false;  // from blocking.allow: every entry allows
  std::string path;         // the file read
  ListFormat format = ListFormat::auto_detect;  // as configured: how the file is read
  std::string error;        // non-empty: the list could not be loaded and has no entries
  std::string note;         // non-empty: why there is nothing to read yet (no entries)
  ParseStats stats;
};

// What one client group (config `clients`) takes from a policy: the lists that apply to its
// clients and the answer to their queries blocked by entries without an action of their own
// (RPZ entries keep theirs). Every group shares the policy's one matcher.
struct PolicyGroup {
  std::string name;         // "" for the default group (clients in no group)
  std::vector<bool> lists;  // by list index: whether the list applies
  PolicyAction action = PolicyAction::nxdomain;
};

struct PolicyVerdict {
  bool blocked = false;
  bool allowed = false;  // an allow entry matched: never blocked, whatever else matches
  // The deciding entry (if blocked or allowed): its list (index into Policy::lists()) and id.
  uint16_t list = 0;
  DomainSet::EntryId entry = 0;
  PolicyAction action = PolicyAction::nxdomain;  // blocked only
  std::span<const LocalAddress> local_data;       // action local_data only
};

class Policy {
 public:
  // One matching entry, for `dnsvagt lookup`.
  struct Match {
    uint16_t list;
    DomainSet::EntryId entry;
    EntryKind kind;
    PolicyAction action;  // block entries only; the group's action where the entry has none
    bool applies;         // its list applies to the group
  };

  // Group 0 is the default group (every list, blocking.action); group i + 1 is the i-th group
  // the builder was given, as config `clients` lists them.
  static constexpr size_t kDefaultGroup = 0;

  Policy();  // no lists: blocks nothing

  // The decision for a query name (uncompressed wire format, any case) for a client of
  // `group`, from the entries of the lists that apply to it. An allow entry on the name or a
  // parent wins; else the most specific block entry decides. Never allocates. A group the
  // policy was built without (the empty policy a server starts with) gets the default group's.
  PolicyVerdict check(std::span<const uint8_t> wire_name, size_t group = kDefaultGroup) const;
  PolicyVerdict check(std::string_view text_name,  // ASCII, trailing dot optional
                      size_t group = kDefaultGroup) const;
  // The decision for an answer to `wire_name` whose CNAME/DNAME chain leads to `targets` (in
  // chain order; each has wire(), uncompressed): blocked by the first target a block entry
  // matches, with `*target` set to its index (CNAME cloaking). Never when the query name is
  // allowed: allowing a name allows its data; an allowed target does not allow the rest.
  template <typename Names>
  PolicyVerdict check_answer(std::span<const uint8_t> wire_name, const Names& targets,
                             size_t* target, size_t group = kDefaultGroup) const {
    if (std::empty(targets) || check(wire_name, group).allowed) return {};
    for (size_t i = 0; i < std::size(targets); ++i) {
      PolicyVerdict verdict = check(targets[i].wire(), group);
      if (verdict.blocked) {
        *target = i;
        return verdict;
      }
    }
    return {};
  }

  // Every entry matching the name, most specific first, as `group` sees it.
  std::vector<Match> all_matches(std::string_view text_name,
                                 size_t group = kDefaultGroup) const;

  const std::vector<PolicyList>& lists() const { return lists_; }
  // By group number: the default group first, then the builder's groups in their order.
  const std::vector<PolicyGroup>& groups() const { return groups_; }
  std::string entry_rule(DomainSet::EntryId entry) const;  // "example.com", "*.example.com"
  size_t entry_count() const { return set_.size(); }
  size_t memory_bytes() const { return set_.memory_bytes(); }

 private:
  friend class PolicyBuilder;
  // What an entry stands for; DomainSet values index a table of these.
  struct RuleClass {
    uint16_t list;
    EntryKind kind;
    PolicyAction action;
    bool group_action;  // the entry has no action of its own: its client's group decides
  };
  PolicyVerdict decide(DomainSet::Matches& matches, size_t group) const;
  const PolicyGroup& group_at(size_t group) const;
  PolicyAction action_of(const RuleClass& rule, const PolicyGroup& group) const {
    return rule.group_action ? group.action : rule.action;
  }

  DomainSet set_;
  std::vector<PolicyList> lists_;
  std::vector<PolicyGroup> groups_;
  std::vector<RuleClass> classes_;
  std::unordered_map<DomainSet::EntryId, std::vector<LocalAddress>> local_data_;
};

// Compiles lists into a Policy. Entries go straight into the policy's DomainSet as they are
// parsed, so compiling needs no memory beyond the new policy (add_list_file reads the text a
// piece at a time).
class PolicyBuilder {
 public:
  explicit PolicyBuilder(BlockAction configured_action);
  ~PolicyBuilder();
  // Sizes the policy for about `entries` entries in all (a guess: only speed and the memory
  // a build passes through depend on it).
  void reserve(size_t entries);
  // Adds a list and its entries (none if list.error is set). In an allow list every entry
  // allows (its RPZ actions don't matter). Within a list, an entry with the name, scope and
  // kind of an earlier one is a duplicate. Throws std::length_error past 65535 lists.
  void add_list(PolicyList list, const ParsedList& entries);
  // The same, parsing the file list.path as list.format (unless list.error or list.note is
  // set); the parse stats go into the list. A file that cannot be read sets its error;
  // entries read before a read error stay.
  void add_list_file(PolicyList list);
  // The lists added so far, with their parse stats.
  const std::vector<PolicyList>& lists() const;
  // The client groups (config `clients`, whose list names are the added lists' names) the
  // policy answers for besides the default group.
  void set_client_groups(std::vector<ClientGroup> groups);
  std::shared_ptr<const Policy> build() &&;

 private:
  class ListSink;
  uint16_t start_list(PolicyList list);
  uint16_t class_of(uint16_t list, EntryKind kind, PolicyAction action, bool group_action);

  BlockAction configured_action_;
  std::vector<ClientGroup> client_groups_;
  DomainSet::Builder set_;
  std::unique_ptr<Policy> policy_;
};

// Loads every list of the config (file: lists from their file, url: lists from their cached
// copy in cache_dir) and compiles them, for the default group and `groups`. A list that cannot
// be read has `error` set and no entries; the others still load.
std::shared_ptr<const Policy> build_policy(const BlockingConfig& config,
                                           const std::vector<ClientGroup>& groups = {});

// The policy the query path uses. Readers take a reference with current() and keep it for the
// query; a new policy is published with one atomic swap, so no query ever waits for a reload.
class PublishedPolicy {
 public:
  PublishedPolicy();  // starts with an empty policy
  std::shared_ptr<const Policy> current() const {
    return policy_.load(std::memory_order_acquire);
  }
  // Returns the policy it replaced, which lives on while queries still use it.
  std::shared_ptr<const Policy> publish(std::shared_ptr<const Policy> policy) {
    return policy_.exchange(std::move(policy), std::memory_order_acq_rel);
  }

 private:
  std::atomic<std::shared_ptr<const Policy>> policy_;
};

// Waits (at most `wait`) until the caller holds the last reference to `replaced`, i.e. the
// last query using it has finished, and destroys it then: the matcher's arrays are unmapped
// on this thread, off the query path (tens of MiB take milliseconds), and freed the moment
// they are no longer used rather than when a worker next wakes up. Past `wait` the reference
// is dropped anyway and the last query frees it. For the publishing thread.
void release_when_unused(std::shared_ptr<const Policy> replaced, std::chrono::milliseconds wait);

}  // namespace dnsvagt
