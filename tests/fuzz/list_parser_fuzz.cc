// The list parsers of every format (RPZ through ldns included) and format detection, from
// memory and from a file, and the policy compiled from what they yield.
//
// Input: [flags][list text]
//   flags bits 0-2: the format (mod 5: auto, hosts, domains, adblock, rpz); bit 3: parse it
//   from a file too; bit 4: compile the entries into a policy and look each one up.
#include <cctype>
#include <cstdio>
#include <string>

#include "blocklists/list_parser.h"
#include "blocklists/policy.h"
#include "tests/fuzz/fuzz_input.h"

namespace dnsvagt {
namespace {

constexpr ListFormat kFormats[] = {ListFormat::auto_detect, ListFormat::hosts,
                                   ListFormat::domains, ListFormat::adblock, ListFormat::rpz};

// list_entry.h: lowercase ASCII, no trailing dot; a name of at most 253 characters.
void check_entries(const ParsedList& list) {
  FUZZ_CHECK(list.stats.entries == list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string_view name = list.name(i);
    FUZZ_CHECK(!name.empty() && name.size() <= 253 && name.back() != '.');
    for (const char c : name) FUZZ_CHECK(!std::isupper(static_cast<unsigned char>(c)));
    FUZZ_CHECK(list.local_data(i).empty() == (list.action(i) != EntryAction::local_data));
  }
}

// Every entry that covers its own name decides that name, one way or the other.
void check_policy(const ParsedList& list) {
  PolicyBuilder builder(BlockAction::nxdomain);
  PolicyList policy_list;
  policy_list.name = "fuzz";
  builder.add_list(policy_list, list);
  const std::shared_ptr<const Policy> policy = std::move(builder).build();
  for (size_t i = 0; i < list.size(); ++i) {
    if (list.scope(i) == EntryScope::below) continue;
    const PolicyVerdict verdict = policy->check(list.name(i));
    FUZZ_CHECK(verdict.blocked || verdict.allowed);
  }
}

}  // namespace

void fuzz_one(fuzz::FuzzInput& input) {
  const uint8_t flags = input.byte();
  const ListFormat format = kFormats[(flags & 7) % std::size(kFormats)];
  const std::string_view text = input.rest_text();

  const ParsedList list = parse_list(text, format);
  check_entries(list);
  // The counter that judges a new version before it is compiled counts the same entries.
  EntryCounter counter(0);
  const ParseStats counted = parse_list(text, format, counter);
  FUZZ_CHECK(counted.entries == list.stats.entries && counted.lines == list.stats.lines &&
             counted.invalid == list.stats.invalid);
  if (flags & 8) {
    ParsedListBuilder from_file(0);
    const ParseStats stats = parse_list_file(fuzz::scratch_file(text), format, from_file);
    if (stats.summary() != list.stats.summary()) {
      std::fprintf(stderr, "from the file: %s\nfrom memory:   %s\n", stats.summary().c_str(),
                   list.stats.summary().c_str());
      FUZZ_CHECK(false);
    }
  }
  if (flags & 16) check_policy(list);
}

}  // namespace dnsvagt
