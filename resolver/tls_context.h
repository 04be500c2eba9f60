// The OpenSSL context of the DNS over TLS listener (server.tls, RFC 7858): certificate and
// key, TLS 1.2 or later, ALPN "dot", session resumption, client certificates with client_ca.
#pragma once

#include <openssl/ssl.h>

#include <memory>

#include "config/config.h"

namespace dnsvagt {

// One context for all workers of a configuration, so that a session ticket from one worker
// resumes on any other. Throws std::runtime_error naming the file OpenSSL could not use.
std::shared_ptr<SSL_CTX> make_dot_context(const ServerTlsConfig& tls);

}  // namespace dnsvagt
