#include "blocklists/domain_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dnsvagt {
namespace {

std::vector<uint8_t> wire(std::initializer_list<std::string_view> labels) {
  std::vector<uint8_t> result;
  for (std::string_view label : labels) {
    result.push_back(static_cast<uint8_t>(label.size()));
    result.insert(result.end(), label.begin(), label.end());
  }
  result.push_back(0);
  return result;
}

// The names of all matching entries, most specific first.
std::vector<std::string> matches(const DomainSet& set, std::string_view name) {
  std::vector<std::string> result;
  DomainSet::Matches found = set.matches(name);
  DomainSet::Match match;
  while (found.next(&match)) result.push_back(set.name(match.entry));
  return result;
}

// Those of `names` that the set has a matching entry for, in the order given.
std::vector<std::string> found(const DomainSet& set, std::initializer_list<const char*> names) {
  std::vector<std::string> result;
  for (const char* name : names) {
    if (set.find(name)) result.push_back(name);
  }
  return result;
}

DomainSet example_set() {
  DomainSet::Builder builder;
  builder.add("example.com", EntryScope::name_and_below, 1);
  builder.add("wild.example", EntryScope::below, 2);
  builder.add("exact.example", EntryScope::name, 3);
  builder.add("xn--bcher-kva.de", EntryScope::name_and_below, 4);
  return std::move(builder).build();
}

TEST(DomainSet, PlainEntryMatchesItselfAndBelow) {
  DomainSet set = example_set();
  EXPECT_EQ(set.size(), 4u);
  ASSERT_TRUE(set.find("example.com"));
  EXPECT_EQ(set.name(*set.find("example.com")), "example.com");
  EXPECT_EQ(set.value(*set.find("example.com")), 1);
  EXPECT_EQ(set.scope(*set.find("example.com")), EntryScope::name_and_below);
  EXPECT_THAT(found(set, {"www.example.com", "a.b.c.example.com", "com", "notexample.com",
                          "example.com.evil", "example.co"}),
              ::testing::ElementsAre("www.example.com", "a.b.c.example.com"));
}

TEST(DomainSet, WildcardMatchesBelowOnlyAndExactMatchesTheNameOnly) {
  DomainSet set = example_set();
  EXPECT_THAT(found(set, {"wild.example", "a.wild.example", "a.b.wild.example", "exact.example",
                          "www.exact.example"}),
              ::testing::ElementsAre("a.wild.example", "a.b.wild.example", "exact.example"));
}

TEST(DomainSet, CaseTrailingDotAndWireFormat) {
  DomainSet set = example_set();
  EXPECT_TRUE(set.find("WWW.Example.COM."));
  EXPECT_TRUE(set.find(wire({"WwW", "EXAMPLE", "cOm"})));
  EXPECT_FALSE(set.find(wire({"example", "org"})));
  // Without the root label, too.
  std::vector<uint8_t> no_root = wire({"example", "com"});
  no_root.pop_back();
  EXPECT_TRUE(set.find(no_root));
  EXPECT_TRUE(set.find("XN--BCHER-KVA.de"));
  // A dot inside a wire label is not a label boundary.
  EXPECT_FALSE(set.find(wire({"example.com"})));
}

TEST(DomainSet, MalformedNamesMatchNothing) {
  DomainSet set = example_set();
  EXPECT_FALSE(set.find(""));
  EXPECT_FALSE(set.find("."));
  EXPECT_FALSE(set.find("a..example.com"));
  EXPECT_FALSE(set.find(std::string(64, 'a') + ".example.com"));
  std::vector<uint8_t> truncated = {7, 'e', 'x', 'a'};
  EXPECT_FALSE(set.find(truncated));
  std::vector<uint8_t> bad_length = wire({"example", "com"});
  bad_length[0] = 0xC0;  // a compression pointer is not a label
  EXPECT_FALSE(set.find(bad_length));
}

TEST(DomainSet, ReportsEveryMatchMostSpecificFirst) {
  DomainSet::Builder builder;
  builder.add("com", EntryScope::name_and_below, 0);
  builder.add("example.com", EntryScope::name_and_below, 1);
  builder.add("example.com", EntryScope::name_and_below, 2);  // the same name from another list
  builder.add("www.example.com", EntryScope::name, 3);
  builder.add("www.example.com", EntryScope::below, 4);
  DomainSet set = std::move(builder).build();
  EXPECT_EQ(matches(set, "www.example.com"),
            (std::vector<std::string>{"www.example.com", "example.com", "example.com", "com"}));
  EXPECT_EQ(set.value(*set.find("www.example.com")), 3);
  EXPECT_EQ(set.value(*set.find("a.www.example.com")), 4);
}

TEST(DomainSet, EmptySetMatchesNothing) {
  DomainSet set;
  EXPECT_FALSE(set.find("example.com"));
  EXPECT_EQ(std::move(DomainSet::Builder()).build().size(), 0u);
}

TEST(DomainSet, ManyEntriesAllFoundAndNoFalseHits) {
  DomainSet::Builder builder;
  constexpr int kCount = 50000;
  for (int i = 0; i < kCount; ++i) {
    builder.add("host" + std::to_string(i) + ".zone" + std::to_string(i % 97) + ".example",
                EntryScope::name_and_below, static_cast<uint16_t>(i % 65536));
  }
  DomainSet set = std::move(builder).build();
  EXPECT_EQ(set.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    std::string name = "host" + std::to_string(i) + ".zone" + std::to_string(i % 97) + ".example";
    auto found = set.find("x." + name);
    ASSERT_TRUE(found) << name;
    EXPECT_EQ(set.name(*found), name);
    EXPECT_FALSE(set.find("host" + std::to_string(i) + ".zone" + std::to_string((i + 1) % 97) +
                          ".example"));
  }
  // 8 bytes a slot at load <= 0.75 plus the records: well under 40 bytes an entry here.
  EXPECT_LT(set.memory_bytes(), static_cast<size_t>(kCount) * 40);
}

}  // namespace
}  // namespace dnsvagt
