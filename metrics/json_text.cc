#include "metrics/json_text.h"

#include <cstdio>

#include "config/utf8.h"

namespace dnsvagt {
namespace {

void append_escaped_byte(unsigned char c, std::string& out) {
  char escaped[8];
  std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
  out += escaped;
}

}  // namespace

void append_json_string(std::string_view text, std::string& out) {
  out += '"';
  for (size_t at = 0; at < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[at]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      append_escaped_byte(c, out);
    } else if (c >= 0x80) {
      if (size_t length = utf8_sequence_length(text.substr(at))) {
        out.append(text.substr(at, length));
        at += length;
        continue;
      }
      append_escaped_byte(c, out);
    } else {
      out += static_cast<char>(c);
    }
    ++at;
  }
  out += '"';
}

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(text, out);
  return out;
}

}  // namespace dnsvagt
