#include "blocklists/sha256.h"

#include <stdexcept>

namespace dnsvagt {
namespace {

void check(int result) {
  if (result != 1) throw std::runtime_error("SHA-256 failed");
}

}  // namespace

Sha256::Sha256() : context_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
  if (!context_) throw std::runtime_error("SHA-256 failed");
  check(EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr));
}

Sha256& Sha256::update(std::string_view data) {
  check(EVP_DigestUpdate(context_.get(), data.data(), data.size()));
  return *this;
}

std::string Sha256::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  check(EVP_DigestFinal_ex(context_.get(), digest, &length));
  check(EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 15];
  }
  return text;
}

}  // namespace dnsvagt
