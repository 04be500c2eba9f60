// DohSession: the HTTP side of one DNS over HTTPS connection (RFC 8484), HTTP/2 through nghttp2
// or HTTP/1.1 through http_parser: the client's bytes become DNS queries, answers become
// responses. No sockets and no event loop: bytes come in through receive(), go out to its Peer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace dnsvagt {

class DohSession {
 public:
  // The connection a session serves.
  class Peer {
   public:
    virtual ~Peer() = default;
    // Bytes for the client, in order.
    virtual void write(std::span<const uint8_t> bytes) = 0;
    // A DNS query to answer: reply() or drop() with the same `request` follows, perhaps
    // before this returns.
    virtual void query(uint32_t request, std::span<const uint8_t> message) = 0;
    // An HTTP error response with `status` went to the client.
    virtual void refused(int status) = 0;
  };

  enum class Protocol { http1, http2 };  // by the ALPN the TLS handshake chose

  // `path`: the one path answered (server.tls.doh_path). HTTP/2 writes its SETTINGS here.
  static std::unique_ptr<DohSession> make(Protocol protocol, std::string path, Peer& peer);
  virtual ~DohSession() = default;

  // Takes what it can of the client's bytes and says how many: fewer only while an HTTP/1.1
  // request waits for its answer (responses go in the order of requests); the rest is for
  // a later call.
  virtual size_t receive(std::span<const uint8_t> bytes) = 0;
  // Whether receive() takes bytes now.
  virtual bool reading() const = 0;
  // The answer to `request`; a request the client gave up on is not answered.
  virtual void reply(uint32_t request, std::span<const uint8_t> answer) = 0;
  // No answer comes for `request` (an RPZ drop): HTTP/2 resets its stream, HTTP/1.1 ends the
  // connection. Nothing if it was answered.
  virtual void drop(uint32_t request) = 0;
  // No new requests (a drain): HTTP/2 says GOAWAY, HTTP/1.1 closes after the answer owed.
  virtual void shut_down() = 0;
  // The connection should close once what was written is sent: a protocol error, a client
  // that asked to close, or a shut down session with nothing owed.
  virtual bool finished() const = 0;
  // Answer bytes HTTP/2 flow control holds back until the client opens its window.
  virtual size_t unsent() const = 0;
};

}  // namespace dnsvagt
