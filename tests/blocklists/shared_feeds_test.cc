// Every real feed in shared/data/feeds parses with the entry counts SOURCES.md gives (or the
// difference is explained here), and sampled entries match after compiling.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "blocklists/list_parser.h"
#include "blocklists/policy.h"

namespace dnsvagt {
namespace {

std::filesystem::path feeds_dir() {
  const char* source = std::getenv("DNSVAGT_SOURCE_DIR");
  // ctest sets it (and runs tests in the source directory, the fallback).
  std::filesystem::path root = source ? source : ".";
  return root / ".." / "shared" / "data" / "feeds";
}

ParsedList parse_feed(const std::string& relative, ListFormat format = ListFormat::auto_detect) {
  std::filesystem::path path = feeds_dir() / relative;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "missing feed file " << path;
  std::stringstream text;
  text << in.rdbuf();
  return parse_list(text.str(), format);
}

std::shared_ptr<const Policy> compile(const ParsedList& parsed, bool allow_list = false) {
  PolicyBuilder builder(BlockAction::nxdomain);
  PolicyList list;
  list.name = "feed";
  list.allow_list = allow_list;
  builder.add_list(list, parsed);
  return std::move(builder).build();
}

struct Expected {
  uint64_t entries, duplicates, ignored, skipped, unsupported, invalid;
};

void expect_counts(const ParsedList& parsed, ListFormat format, Expected expected) {
  SCOPED_TRACE(parsed.stats.summary());
  EXPECT_EQ(parsed.stats.format, format);
  EXPECT_EQ(parsed.stats.entries, expected.entries);
  EXPECT_EQ(parsed.stats.duplicates, expected.duplicates);
  EXPECT_EQ(parsed.stats.ignored, expected.ignored);
  EXPECT_EQ(parsed.stats.skipped, expected.skipped);
  EXPECT_EQ(parsed.stats.unsupported, expected.unsupported);
  EXPECT_EQ(parsed.stats.invalid, expected.invalid);
}

TEST(SharedFeeds, KadHosts) {
  ParsedList parsed = parse_feed("hosts/kadhosts_KADhosts.txt");
  expect_counts(parsed, ListFormat::hosts, {23655, 0, 0, 0, 0, 0});
  auto policy = compile(parsed);
  EXPECT_TRUE(policy->check("zgarniij_vouchher.skroc.pl").blocked);  // underscore kept
  EXPECT_TRUE(policy->check("sub.inf").blocked);  // `0.0.0.0 inf`: a single-label entry
}

TEST(SharedFeeds, AdAway) {
  // 6,540 names; the 2 localhost lines (127.0.0.1 and ::1) are ignored.
  ParsedList parsed = parse_feed("hosts/adaway_hosts.txt");
  expect_counts(parsed, ListFormat::hosts, {6540, 0, 2, 0, 0, 0});
  EXPECT_FALSE(compile(parsed)->check("localhost").blocked);
}

TEST(SharedFeeds, DigitalSide) {
  ParsedList parsed = parse_feed("hosts/digitalside-osint_malware_hosts.txt");
  expect_counts(parsed, ListFormat::hosts, {2211, 0, 0, 0, 0, 0});
  EXPECT_TRUE(compile(parsed)->check("backup.xn----8sba7bmrlhv0a.xn--p1ai").blocked);
}

TEST(SharedFeeds, FadeMindCrlf) {
  ParsedList parsed = parse_feed("hosts/fademind_add.2o7Net_hosts.txt");
  expect_counts(parsed, ListFormat::hosts, {2030, 0, 0, 0, 0, 0});
  EXPECT_TRUE(compile(parsed)->check("sanalytics.spark.co.nz").blocked);  // no '\r' kept
}

TEST(SharedFeeds, WhatZitTooyaWithAdblockComments) {
  // 1,570 mapping lines, 1,560 unique names of which one is a URL (invalid): 1,559 entries.
  ParsedList parsed = parse_feed("hosts/whatzittooya_adblock_hosts.txt");
  expect_counts(parsed, ListFormat::hosts, {1559, 10, 0, 0, 0, 1});
  ASSERT_EQ(parsed.stats.invalid_samples.size(), 1u);
  EXPECT_EQ(parsed.stats.invalid_samples[0].text, "https://ynuf.aliapp.org/saveWb.json?");
  EXPECT_TRUE(compile(parsed)->check("hd.browser.miui.com").blocked);  // trailing TAB
}

TEST(SharedFeeds, GoodbyeAdsSystemHeader) {
  // SOURCES.md: 3,784 names, 3,779 unique, +13 localhost-type lines. Its 3,784 counts the
  // line `0.0.0.0 0.0.0.0`, whose "name" is an address: ignored here with the 13, so 3,778.
  ParsedList parsed = parse_feed("hosts/goodbyeads-spotify_hosts.txt");
  expect_counts(parsed, ListFormat::hosts, {3778, 5, 14, 0, 0, 0});
  auto policy = compile(parsed);
  for (const char* name : {"localhost", "local", "broadcasthost", "ip6-allrouters", "0.0.0.0"}) {
    EXPECT_FALSE(policy->check(name).blocked) << name;
  }
  EXPECT_TRUE(policy->check("dns1.p04.nsone.net").blocked);  // written in upper case
  EXPECT_TRUE(policy->check("cdn.fastclick.net").blocked);   // trailing space
}

TEST(SharedFeeds, XiaomiCompressed) {
  ParsedList parsed = parse_feed("hosts/hagezi_native.xiaomi-compressed_hosts.txt");
  expect_counts(parsed, ListFormat::hosts, {474, 0, 0, 0, 0, 0});
  auto policy = compile(parsed);
  EXPECT_TRUE(policy->check("account.migc.g.mi.com").blocked);  // 9th name of a line
  EXPECT_TRUE(policy->check("ads.mi.com").blocked);
}

TEST(SharedFeeds, RomainMarcouxDomains) {
  ParsedList parsed = parse_feed("domains/romainmarcoux_full-domains-aa.txt");
  expect_counts(parsed, ListFormat::domains, {131072, 0, 0, 0, 0, 0});
  auto policy = compile(parsed);
  EXPECT_TRUE(policy->check("metamsk_us_logi.godaddysites.com").blocked);
  EXPECT_TRUE(policy->check("www.xn--rgfundoriax-qeb.pl").blocked);
  EXPECT_FALSE(policy->check("godaddysites.com").blocked);
}

TEST(SharedFeeds, KadDomainsWithBareAddresses) {
  // 23,672 lines: 23,655 names and 17 bare IPv4 addresses (ignored).
  expect_counts(parse_feed("domains/kadhosts_KADomains.txt"), ListFormat::domains,
                {23655, 0, 17, 0, 0, 0});
}

TEST(SharedFeeds, HagezTifMiniAdblock) {
  ParsedList parsed = parse_feed("adblock/hagezi_tif.mini_adblock.txt");
  expect_counts(parsed, ListFormat::adblock, {150935, 0, 0, 0, 0, 0});
  auto policy = compile(parsed);
  EXPECT_TRUE(policy->check("drexilon.xn--q9jyb4c").blocked);
  EXPECT_TRUE(policy->check("www.drexilon.xn--q9jyb4c").blocked);
}

TEST(SharedFeeds, SpamTldsAdguard) {
  // 432 block rules: 289 plain `||*.tld^` (below the TLD, not the TLD itself) and 143 with
  // `$denyallow=`, skipped rather than widened to the whole TLD.
  ParsedList parsed = parse_feed("adblock/hagezi_spam-tlds_adguard.txt");
  expect_counts(parsed, ListFormat::adblock, {289, 0, 0, 143, 0, 0});
  auto policy = compile(parsed);
  EXPECT_TRUE(policy->check("shop.actor").blocked);
  EXPECT_FALSE(policy->check("actor").blocked);
  EXPECT_FALSE(policy->check("nation.africa").blocked);  // its rule has $denyallow
}

TEST(SharedFeeds, SpamTldsUblock) {
  // All 432 rules carry `$doc` (and `domain=~…`): skipped, none guessed.
  expect_counts(parse_feed("adblock/hagezi_spam-tlds_ublock.txt"), ListFormat::adblock,
                {0, 0, 0, 432, 0, 0});
}

TEST(SharedFeeds, WhitelistReferral) {
  // 562 exception rules: 505 exact `@@||name^`, 57 with a wildcard inside the name (56 with a
  // leading `*` as SOURCES.md says, plus `@@||adservice.google.*^`): skipped.
  ParsedList parsed = parse_feed("adblock/hagezi_whitelist-referral_adblock.txt");
  expect_counts(parsed, ListFormat::adblock, {505, 0, 0, 57, 0, 0});
  EXPECT_EQ(parsed.stats.allow_entries, 505u);
}

TEST(SharedFeeds, AdguardExceptions) {
  // 136 exception rules: 125 domain rules (one of them `@@|ezodn.com^|`, the name only) and
  // 11 patterns (wildcards inside names, the unanchored `@@-ds.metric.gstatic.com^|`).
  ParsedList parsed = parse_feed("adblock/adguard-sdns_exceptions_adblock.txt");
  expect_counts(parsed, ListFormat::adblock, {125, 0, 0, 11, 0, 0});
  EXPECT_EQ(parsed.stats.allow_entries, 125u);
  auto policy = compile(parsed);
  EXPECT_TRUE(policy->check("ezodn.com").allowed);
  EXPECT_FALSE(policy->check("www.ezodn.com").allowed);
  EXPECT_FALSE(policy->check("a5a6380f-dnsotls-ds.metric.gstatic.com").allowed);
}

TEST(SharedFeeds, HagezFakeRpz) {
  ParsedList parsed = parse_feed("rpz/hagezi_fake_rpz.txt");
  expect_counts(parsed, ListFormat::rpz, {28112, 0, 0, 0, 0, 0});
  auto policy = compile(parsed);
  EXPECT_EQ(policy->check("degussa-goldhandel.ac").action, PolicyAction::nxdomain);
  EXPECT_EQ(policy->entry_rule(policy->check("www.degussa-goldhandel.ac").entry),
            "*.degussa-goldhandel.ac");
}

TEST(SharedFeeds, HagezTifIpsRpz) {
  // 61,765 rpz-ip triggers (hagezi's own encoding): unsupported, and never domains.
  ParsedList parsed = parse_feed("rpz/hagezi_tif-ips_rpz.txt");
  expect_counts(parsed, ListFormat::rpz, {0, 0, 0, 0, 61765, 0});
  EXPECT_EQ(parsed.stats.skipped_samples.at(0).line, 5u);
  EXPECT_FALSE(compile(parsed)->check("1.0.218.230.rpz-ip").blocked);
}

TEST(SharedFeeds, AdguardCnameTrackersRpzExcerpt) {
  ParsedList parsed = parse_feed("rpz/adguard-cname-trackers_microsites_rpz_HEAD-EXCERPT.txt");
  expect_counts(parsed, ListFormat::rpz, {296, 0, 0, 0, 0, 0});
  EXPECT_TRUE(compile(parsed)->check("0-10--app-final.agent.datadoghq.com").blocked);
}

TEST(SharedFeeds, ScaleConcatenation) {
  ParsedList parsed = parse_feed("scale/hagezi_onlydomains_9lists_concat.txt");
  // 1,007,662 entry lines, 586,296 unique.
  expect_counts(parsed, ListFormat::domains, {586296, 1007662 - 586296, 0, 0, 0, 0});
  auto policy = compile(parsed);
  EXPECT_EQ(policy->entry_count(), 586296u);
  for (size_t i = 0; i < parsed.size(); i += 997) {
    std::string name(parsed.name(i));
    ASSERT_TRUE(policy->check(name).blocked) << name;
    ASSERT_TRUE(policy->check("sub." + name).blocked) << name;
  }
}

TEST(SharedFeeds, AllowListFeedAllowsInsteadOfBlocking) {
  auto policy = compile(parse_feed("hosts/fademind_add.2o7Net_hosts.txt"), true);
  PolicyVerdict verdict = policy->check("sanalytics.spark.co.nz");
  EXPECT_FALSE(verdict.blocked);
  EXPECT_TRUE(verdict.allowed);
}

}  // namespace
}  // namespace dnsvagt
