// Sha256: the SHA-256 of data given a piece at a time (OpenSSL EVP), as lowercase hex: the
// checksum that names a list version in the store and tells whether a download changed.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

namespace dnsvagt {

class Sha256 {
 public:
  Sha256();
  // Adds `data` to what is hashed. Throws std::runtime_error if OpenSSL fails.
  Sha256& update(std::string_view data);
  // The digest of everything added, as 64 lowercase hex digits; then the hash starts over.
  std::string hex();

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context_;
};

}  // namespace dnsvagt
