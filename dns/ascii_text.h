// Protocol text that is ASCII by definition (owner names in zone files, the tags and terms of
// SPF and DMARC records): case folding and trimming that ignore the locale and leave any other
// byte as it is.
#pragma once

#include <string>
#include <string_view>

namespace dnsvagt {

std::string ascii_lowercase(std::string_view text);
// Whether `a` and `b` are the same but for the case of ASCII letters (HTTP header names and
// tokens, media types).
bool ascii_equal_ignoring_case(std::string_view a, std::string_view b);
// `text` without the ASCII white space (space, \t, \n, \v, \f, \r) at either end.
std::string_view ascii_trimmed(std::string_view text);

}  // namespace dnsvagt
