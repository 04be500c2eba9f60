// Writes the wire-format seeds of tests/fuzz/corpus/ (the text seeds are list and config
// lines, committed as they are): client queries as dig sends them and answers shaped like
// libunbound's, built with ldns, each behind the parameter bytes its target reads first.
//   cmake --build build --target fuzz_make_seeds && build/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// After the standard headers: ldns' headers make clang 14 misread libstdc++ (see
// query_answer_fuzz.cc).
#include "tests/resolver/wire_test_util.h"

namespace {

using dnsvagt::wiretest::ClientQuery;
using dnsvagt::wiretest::upstream_packet;
using Bytes = std::vector<uint8_t>;

std::filesystem::path corpus;

void write_seed(const std::string& target, const std::string& name, const Bytes& bytes) {
  std::filesystem::create_directories(corpus / target);
  std::ofstream(corpus / target / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void put16(Bytes& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}
void put32(Bytes& out, uint32_t value) {
  put16(out, static_cast<uint16_t>(value >> 16));
  put16(out, static_cast<uint16_t>(value));
}

// query_answer: [flags][max_size:2][target length][target][query]
void query_seed(const std::string& name, uint8_t flags, uint16_t max_size, const Bytes& target,
                const Bytes& query) {
  Bytes seed{flags};
  put16(seed, max_size);
  seed.push_back(static_cast<uint8_t>(target.size()));
  seed.insert(seed.end(), target.begin(), target.end());
  seed.insert(seed.end(), query.begin(), query.end());
  write_seed("query_answer", name, seed);
}

Bytes query_packet(const std::string& name, uint16_t qtype, bool edns, bool do_bit = false) {
  return ClientQuery(name, qtype, edns, do_bit).packet;
}

Bytes name_wire(const std::string& text) {
  const dnsvagt::DnsName name = dnsvagt::DnsName::from_text(text).value();
  return Bytes(name.wire().begin(), name.wire().end());
}

// upstream_answer: [flags][max_ttl:4][age:4][max_size:2][query length:2][query][upstream]
void upstream_seed(const std::string& name, uint8_t flags, uint32_t age, uint16_t max_size,
                   const Bytes& query, const Bytes& upstream) {
  Bytes seed{flags};
  put32(seed, 86400);
  put32(seed, age);
  put16(seed, max_size);
  put16(seed, static_cast<uint16_t>(query.size()));
  seed.insert(seed.end(), query.begin(), query.end());
  seed.insert(seed.end(), upstream.begin(), upstream.end());
  write_seed("upstream_answer", name, seed);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 1;
  }
  corpus = argv[1];
  constexpr uint16_t kA = 1, kMx = 15, kAaaa = 28, kTxt = 16;
  // Flags bits 0-2 pick the action: 0 nxdomain, 1 nodata, 2 null, 3 refused, 4 sinkhole.
  query_seed("nxdomain-a", 0, 1232, {}, query_packet("www.Evil.Example", kA, true));
  query_seed("nodata-aaaa", 1, 512, {}, query_packet("evil.example", kAaaa, false));
  query_seed("null-a-do", 2, 1232, {}, query_packet("ads.test", kA, true, true));
  query_seed("refused-mx", 0x43, 1232, {}, query_packet("evil.example", kMx, true));
  query_seed("sinkhole-aaaa", 4, 4096, {}, query_packet("x.evil.example", kAaaa, true));
  query_seed("sinkhole-truncated", 4, 40, {}, query_packet("x.evil.example", kA, true));
  query_seed("rpz-nxdomain", 2, 1232, {}, query_packet("nx.example", kA, true));
  query_seed("rpz-wildcard", 2, 1232, {}, query_packet("a.wild.example", kA, true));
  query_seed("rpz-nodata", 0, 1232, {}, query_packet("nodata.example", kTxt, false));
  query_seed("rpz-drop", 0, 1232, {}, query_packet("drop.example", kA, true));
  query_seed("rpz-local-aaaa", 0, 1232, {}, query_packet("local.example", kAaaa, true));
  query_seed("rpz-local-mx", 0, 1232, {}, query_packet("local.example", kMx, true));
  query_seed("adblock-exact", 1, 1232, {}, query_packet("exact.example", kA, true));
  query_seed("adblock-below", 1, 1232, {}, query_packet("a.track.example", kA, true));
  query_seed("allowed", 0, 1232, {}, query_packet("good.evil.example", kA, true));
  query_seed("passthru", 0, 1232, {}, query_packet("pass.evil.example", kA, true));
  query_seed("not-listed", 0x10, 1232, {}, query_packet("example.org", kA, true));
  query_seed("cname-target", 8, 1232, name_wire("cdn.evil.example"),
             query_packet("www.example.org", kA, true));
  Bytes notimp = query_packet("example.org", kA, false);
  notimp[2] |= 0x10;  // opcode 2 (STATUS)
  query_seed("notimp", 0x20, 1232, {}, notimp);
  Bytes badvers = query_packet("example.org", kA, true);
  badvers[badvers.size() - 6] = 1;  // EDNS version 1
  query_seed("badvers", 0, 1232, {}, badvers);
  Bytes two_questions = query_packet("example.org", kA, false);
  two_questions[5] = 2;
  query_seed("formerr", 0x40, 1232, {}, two_questions);

  const std::string rrsig =
      " 3600 IN RRSIG A 13 2 3600 20300101000000 20200101000000 12345 example.org. "
      "dGVzdHNpZ25hdHVyZXRlc3RzaWduYXR1cmV0ZXN0c2lnbmF0dXJldGVzdHNpZ25hdHVyZQ==";
  upstream_seed("secure-a-do", 0 | 4, 0, 1232, query_packet("www.Example.org", kA, true, true),
                upstream_packet("www.example.org. IN A", LDNS_RCODE_NOERROR,
                                {"www.example.org. 3600 IN A 192.0.2.1",
                                 "www.example.org." + rrsig}));
  upstream_seed("insecure-cname-chain", 1, 100, 512, query_packet("www.example.org", kA, false),
                upstream_packet("www.example.org. IN A", LDNS_RCODE_NOERROR,
                                {"www.example.org. 300 IN CNAME cdn.example.net.",
                                 "cdn.example.net. 60 IN CNAME edge.example.com.",
                                 "edge.example.com. 20 IN A 192.0.2.2"}));
  upstream_seed("nxdomain-soa", 0 | 4, 10, 1232, query_packet("nx.example.org", kAaaa, true, true),
                upstream_packet("nx.example.org. IN AAAA", LDNS_RCODE_NXDOMAIN, {},
                                {"example.org. 3600 IN SOA ns.example.org. host.example.org. 1 "
                                 "7200 3600 1209600 300",
                                 "example.org. 300 IN NSEC www.example.org. A NS SOA RRSIG NSEC"}));
  upstream_seed("bogus-servfail", 2, 0, 1232, query_packet("bad.example.org", kA, true),
                upstream_packet("bad.example.org. IN A", LDNS_RCODE_SERVFAIL, {}));
  std::vector<std::string> many;
  for (int i = 1; i <= 60; ++i) {
    many.push_back("big.example.org. 600 IN TXT \"record " + std::to_string(i) + " of many\"");
  }
  upstream_seed("truncated-txt", 3, 5, 512, query_packet("big.example.org", kTxt, true),
                upstream_packet("big.example.org. IN TXT", LDNS_RCODE_NOERROR, many));
  upstream_seed("stale-mx-additional", 1, 4000, 1232, query_packet("example.org", kMx, true),
                upstream_packet("example.org. IN MX", LDNS_RCODE_NOERROR,
                                {"example.org. 3600 IN MX 10 mail.example.org."}, {},
                                {"mail.example.org. 3600 IN A 192.0.2.25",
                                 "mail.example.org. 3600 IN AAAA 2001:db8::25"}));

  // dns_name: [flags][offset][bytes]; bit 0 = text. The wire seeds are names in packets,
  // compressed ones included (the answer's owner points to the question).
  const Bytes packet = upstream_packet("www.example.org. IN A", LDNS_RCODE_NOERROR,
                                       {"www.example.org. 3600 IN CNAME web.example.org."});
  for (uint8_t offset : {uint8_t{12}, uint8_t{33}, uint8_t{45}}) {
    Bytes seed{0, offset};
    seed.insert(seed.end(), packet.begin(), packet.end());
    write_seed("dns_name", "wire-at-" + std::to_string(offset), seed);
  }
  for (const std::string text : {"www.Example.COM.", "a\\.b.example", "\\000\\255.x", ".",
                                 "xn--bcher-kva.example", "a\\@b\\;c.\\\"q\\\""}) {
    Bytes seed{1, 0};
    seed.insert(seed.end(), text.begin(), text.end());
    write_seed("dns_name", "text-" + std::to_string(std::hash<std::string>{}(text) % 10000), seed);
  }
  return 0;
}
