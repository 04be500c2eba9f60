// The OpenSSL contexts of the DNS over TLS (RFC 7858) and DNS over HTTPS (RFC 8484) listeners
// (server.tls): certificate and key, TLS 1.2 or later, ALPN "dot" or "h2"/"http/1.1", session
// resumption, client certificates with client_ca.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "config/config.h"
#include "metrics/worker_counters.h"

namespace dnsvagt {

// One context per transport (dot or doh) for all workers of a configuration, so that a
// session ticket from one worker resumes on any other. Throws std::runtime_error naming the
// file OpenSSL could not use.
std::shared_ptr<SSL_CTX> make_tls_context(const ServerTlsConfig& tls, Transport transport);

// Gives `to` the session ticket keys of `from`: a ticket issued before a reload still resumes
// its session after it (a new context seals tickets with keys of its own). Throws
// std::runtime_error.
void keep_ticket_keys(SSL_CTX* from, SSL_CTX* to);

// The HTTP version a DNS over HTTPS client chose by ALPN: HTTP/2 for "h2", else HTTP/1.1
// (also for a client that offered none).
bool alpn_chose_http2(const SSL* ssl);

// The subject of the client's verified certificate in RFC 4514 form ("CN=pc1,OU=guests,O=X"),
// "" without one.
std::string peer_certificate_subject(const SSL* ssl);

}  // namespace dnsvagt
