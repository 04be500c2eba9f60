#include "resolver/tls_context.h"

#include <openssl/err.h>

#include <algorithm>
#include <span>
#include <stdexcept>
#include <string>

namespace dnsvagt {
namespace {

[[noreturn]] void fail(const std::string& what) {
  char reason[256] = "no reason given";
  if (unsigned long code = ERR_peek_last_error()) ERR_error_string_n(code, reason, sizeof reason);
  ERR_clear_error();
  throw std::runtime_error("server.tls: " + what + ": " + reason);
}

// ALPN protocol lists in wire form, in the server's order of preference.
constexpr unsigned char kDotProtocols[] = {3, 'd', 'o', 't'};
constexpr unsigned char kDohProtocols[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// RFC 7858 does not ask a client for ALPN; one that offers it and none of ours (RFC 8310
// section 7.1: an HTTP client at the DNS over TLS port, a DoT client at the HTTPS one) gets
// the no_application_protocol alert.
int select_alpn(std::span<const unsigned char> ours, const unsigned char** selected,
                unsigned char* selected_length, const unsigned char* offered,
                unsigned int offered_length) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, selected_length, ours.data(),
                            static_cast<unsigned int>(ours.size()), offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *selected = chosen;
  return SSL_TLSEXT_ERR_OK;
}
int select_dot_alpn(SSL*, const unsigned char** selected, unsigned char* selected_length,
                    const unsigned char* offered, unsigned int offered_length, void*) {
  return select_alpn(kDotProtocols, selected, selected_length, offered, offered_length);
}
int select_doh_alpn(SSL*, const unsigned char** selected, unsigned char* selected_length,
                    const unsigned char* offered, unsigned int offered_length, void*) {
  return select_alpn(kDohProtocols, selected, selected_length, offered, offered_length);
}

}  // namespace

std::shared_ptr<SSL_CTX> make_tls_context(const ServerTlsConfig& tls, Transport transport) {
  std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  SSL_CTX* c = context.get();
  if (!c) fail("cannot create a TLS context");
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1) fail("cannot require TLS 1.2");
  if (SSL_CTX_use_certificate_chain_file(c, tls.certificate.c_str()) != 1) {
    fail("cannot use the certificate in " + tls.certificate);
  }
  if (SSL_CTX_use_PrivateKey_file(c, tls.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    fail("cannot use the key in " + tls.key);
  }
  if (SSL_CTX_check_private_key(c) != 1) fail(tls.key + " is not the certificate's key");
  SSL_CTX_set_alpn_select_cb(c, transport == Transport::doh ? select_doh_alpn : select_dot_alpn,
                             nullptr);
  // Session IDs (TLS 1.2) are kept in this context's cache, tickets are sealed with its keys:
  // either resumes on every worker of this configuration.
  const std::string session_context = std::string("dnsvagt ") + to_string(transport);
  SSL_CTX_set_session_id_context(c, reinterpret_cast<const unsigned char*>(session_context.data()),
                                 session_context.size());
  // An idle connection keeps no read and write buffers (about 34 KiB each).
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  // One TLS 1.3 ticket per handshake, not OpenSSL's two: a client resumes one connection at a
  // time, and gets a new ticket each time it does. Measured: the second ticket was most of
  // the CPU a DoH handshake cost over Unbound's (docs/benchmarks.md).
  if (SSL_CTX_set_num_tickets(c, 1) != 1) fail("cannot set the number of session tickets");
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION);
  if (!tls.client_ca.empty()) {
    if (SSL_CTX_load_verify_locations(c, tls.client_ca.c_str(), nullptr) != 1) {
      fail("cannot read the client CA certificates in " + tls.client_ca);
    }
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca.c_str())) {
      SSL_CTX_set_client_CA_list(c, names);
    }
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return context;
}

void keep_ticket_keys(SSL_CTX* from, SSL_CTX* to) {
  unsigned char keys[80];  // OpenSSL's name, HMAC and AES keys
  const bool kept = SSL_CTX_get_tlsext_ticket_keys(from, keys, sizeof keys) == 1 &&
                    SSL_CTX_set_tlsext_ticket_keys(to, keys, sizeof keys) == 1;
  OPENSSL_cleanse(keys, sizeof keys);
  if (!kept) fail("cannot keep the session ticket keys");
}

bool alpn_chose_http2(const SSL* ssl) {
  const unsigned char* chosen = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl, &chosen, &length);
  return length == 2 && chosen[0] == 'h' && chosen[1] == '2';
}

std::string peer_certificate_subject(const SSL* ssl) {
  const X509* certificate = SSL_get0_peer_certificate(ssl);
  if (!certificate) return {};
  std::unique_ptr<BIO, decltype(&BIO_free)> text(BIO_new(BIO_s_mem()), BIO_free);
  if (!text || X509_NAME_print_ex(text.get(), X509_get_subject_name(certificate), 0,
                                  XN_FLAG_RFC2253) < 0) {
    ERR_clear_error();
    return {};
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(text.get(), &data);
  return std::string(data, static_cast<size_t>(std::max(length, 0L)));
}

}  // namespace dnsvagt
