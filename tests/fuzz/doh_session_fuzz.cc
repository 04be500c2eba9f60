// The HTTP side of DNS over HTTPS (resolver/doh_session.h): HTTP/1.1 through http_parser and
// HTTP/2 through nghttp2, fed a client's bytes in pieces, with answers given at once, later,
// out of order, or never (dropped), and a drain at some point.
//
// Input: [flags][piece size][client bytes]
//   flags bit 0: HTTP/2 (else HTTP/1.1); bit 1: answer each query at once; bit 2: answer the
//   waiting ones newest first after each piece; bit 3: drop instead of answering; bit 4: shut
//   the session down halfway.
#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "resolver/doh_request.h"
#include "resolver/doh_session.h"
#include "tests/fuzz/fuzz_input.h"

namespace dnsvagt {
namespace {

// A DNS answer with one record, so that responses carry a max-age.
const std::vector<uint8_t> kAnswer = {0x00, 0x00, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
                                      0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00,
                                      0x04, 10,   0,    0,    1};

class Peer : public DohSession::Peer {
 public:
  explicit Peer(bool at_once) : at_once_(at_once) {}
  void write(std::span<const uint8_t> bytes) override { written += bytes.size(); }
  void query(uint32_t request, std::span<const uint8_t> message) override {
    FUZZ_CHECK(message.size() >= 12 && message.size() <= kMaxDohMessage);
    if (at_once_) {
      session->reply(request, kAnswer);
    } else {
      waiting.push_back(request);
    }
  }
  void refused(int status) override {
    FUZZ_CHECK(status == 400 || status == 404 || status == 405 || status == 413 ||
               status == 415);
  }

  DohSession* session = nullptr;
  size_t written = 0;
  std::vector<uint32_t> waiting;

 private:
  bool at_once_;
};

}  // namespace

void fuzz_one(fuzz::FuzzInput& input) {
  const uint8_t flags = input.byte();
  const size_t piece = std::max<size_t>(1, input.byte() * 4);
  Peer peer(flags & 2);
  const std::unique_ptr<DohSession> session = DohSession::make(
      flags & 1 ? DohSession::Protocol::http2 : DohSession::Protocol::http1, "/dns-query", peer);
  peer.session = session.get();
  std::span<const uint8_t> rest = input.rest();
  bool shut = false;
  while (!rest.empty() && session->reading()) {
    const std::span<const uint8_t> chunk = rest.first(std::min(piece, rest.size()));
    const size_t taken = session->receive(chunk);
    FUZZ_CHECK(taken <= chunk.size());
    // Only an HTTP/1.1 session that waits for an answer or is done leaves bytes untaken.
    if (taken < chunk.size()) FUZZ_CHECK(!session->reading());
    rest = rest.subspan(taken);
    if (flags & 4) std::reverse(peer.waiting.begin(), peer.waiting.end());
    for (const uint32_t request : std::exchange(peer.waiting, {})) {
      if (flags & 8) {
        session->drop(request);
      } else {
        session->reply(request, kAnswer);
      }
    }
    if ((flags & 16) && !shut && rest.size() < input.size() / 2) {
      session->shut_down();
      shut = true;
    }
  }
  // A session that has taken everything and owes nothing has said something or nothing, but
  // an HTTP/1.1 session with nothing owed never holds answer bytes back.
  if (!(flags & 1)) FUZZ_CHECK(session->unsent() == 0);
}

}  // namespace dnsvagt
