// The Config value types: built-in defaults, enum names, and the parsers of the config's value
// syntaxes (addresses, prefixes, durations, sizes, domain names).
#include "config/config.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>

#include "dns/domain_text.h"

namespace dnsvagt {
namespace {

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

// The canonical text of a numeric address of `family` (inet_ntop), or nullopt if it is not one.
std::optional<std::string> canonical_address(int family, const std::string& text,
                                             uint8_t* bytes_out = nullptr) {
  uint8_t bytes[16];
  if (inet_pton(family, text.c_str(), bytes) != 1) return std::nullopt;
  char buffer[INET6_ADDRSTRLEN];
  inet_ntop(family, bytes, buffer, sizeof buffer);
  if (bytes_out) std::memcpy(bytes_out, bytes, family == AF_INET ? 4 : 16);
  return std::string(buffer);
}

uint16_t parse_port(const std::string& text, const std::string& whole) {
  auto port = parse_decimal(text);
  if (!port || *port < 1 || *port > 65535) {
    throw std::invalid_argument("expected a port from 1 to 65535, got " + quoted(text) + " in " +
                                quoted(whole));
  }
  return static_cast<uint16_t>(*port);
}

}  // namespace

std::string Endpoint::to_string() const {
  std::string host = is_ipv6() ? "[" + address + "]" : address;
  return host + ":" + std::to_string(port);
}

bool NetworkPrefix::contains(int other_family, const uint8_t* other_address) const {
  if (other_family != family) return false;
  int full_bytes = length / 8;
  if (std::memcmp(address, other_address, full_bytes) != 0) return false;
  int rest_bits = length % 8;
  if (rest_bits == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest_bits));
  return (address[full_bytes] & mask) == (other_address[full_bytes] & mask);
}

std::vector<std::string> prefix_texts(const std::vector<NetworkPrefix>& prefixes) {
  std::vector<std::string> texts;
  for (const NetworkPrefix& prefix : prefixes) texts.push_back(prefix.text);
  return texts;
}

std::string UpstreamServer::to_string() const {
  std::string text = endpoint.address + "@" + std::to_string(endpoint.port);
  if (!tls_name.empty()) text += "#" + tls_name;
  return text;
}

Config default_config() {
  Config config;
  config.server.listen = {{"127.0.0.1", 53}, {"::1", 53}};
  for (const char* prefix :
       {"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}) {
    config.server.allow.push_back(parse_prefix(prefix));
  }
  return config;
}

const char* to_string(BlockAction action) {
  switch (action) {
    case BlockAction::nxdomain:
      return "nxdomain";
    case BlockAction::nodata:
      return "nodata";
    case BlockAction::null:
      return "null";
    case BlockAction::refused:
      return "refused";
    case BlockAction::sinkhole:
      return "sinkhole";
  }
  return "?";
}

const char* to_string(ListFormat format) {
  switch (format) {
    case ListFormat::auto_detect:
      return "auto";
    case ListFormat::hosts:
      return "hosts";
    case ListFormat::domains:
      return "domains";
    case ListFormat::adblock:
      return "adblock";
    case ListFormat::rpz:
      return "rpz";
  }
  return "?";
}

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::error:
      return "error";
    case LogLevel::warning:
      return "warning";
    case LogLevel::info:
      return "info";
    case LogLevel::debug:
      return "debug";
  }
  return "?";
}

const char* to_string(UpstreamMode mode) {
  switch (mode) {
    case UpstreamMode::recursive:
      return "recursive";
    case UpstreamMode::forward:
      return "forward";
  }
  return "?";
}

const char* to_string(PrivateZones zones) {
  switch (zones) {
    case PrivateZones::local:
      return "local";
    case PrivateZones::forward:
      return "forward";
  }
  return "?";
}

std::optional<uint64_t> parse_decimal(std::string_view text) {
  uint64_t value = 0;
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) return std::nullopt;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

IpAddress parse_address(const std::string& text) {
  IpAddress address;
  address.family = text.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (!canonical_address(address.family, text, address.bytes.data())) {
    throw std::invalid_argument("expected a numeric IPv4 or IPv6 address like 0.0.0.0 or ::, got " +
                                quoted(text));
  }
  return address;
}

std::chrono::seconds parse_duration(const std::string& text) {
  std::string_view digits = text;
  uint64_t unit = 1;
  for (auto [suffix, seconds] : {std::pair{'s', 1ull}, std::pair{'m', 60ull},
                                 std::pair{'h', 3600ull}, std::pair{'d', 86400ull}}) {
    if (digits.ends_with(suffix)) {
      digits.remove_suffix(1);
      unit = seconds;
      break;
    }
  }
  auto number = parse_decimal(digits);
  if (!number) {
    throw std::invalid_argument("expected a duration like 30s, 5m, 1h or 2d, got " + quoted(text));
  }
  // Keep far below the int64 limit so that callers can add durations to clocks.
  constexpr uint64_t kMaxSeconds = 100ull * 365 * 86400;
  if (*number > kMaxSeconds / unit) {
    throw std::invalid_argument("duration " + quoted(text) + " is longer than 100 years");
  }
  return std::chrono::seconds(static_cast<int64_t>(*number * unit));
}

std::chrono::milliseconds parse_short_duration(const std::string& text) {
  if (!text.ends_with("ms")) return parse_duration(text);
  auto number = parse_decimal(std::string_view(text).substr(0, text.size() - 2));
  if (!number || *number > 86400000) {
    throw std::invalid_argument("expected a duration like 1800ms, 2s or 1m, got " + quoted(text));
  }
  return std::chrono::milliseconds(*number);
}

uint64_t parse_size(const std::string& text) {
  std::string_view digits = text;
  uint64_t unit = 1;
  for (auto [suffix, multiplier] :
       {std::pair{"KiB", 1ull << 10}, std::pair{"MiB", 1ull << 20}, std::pair{"GiB", 1ull << 30}}) {
    if (digits.ends_with(suffix)) {
      digits.remove_suffix(3);
      unit = multiplier;
      break;
    }
  }
  auto number = parse_decimal(digits);
  if (!number) {
    throw std::invalid_argument(
        "expected a size like 512KiB, 256MiB or 1GiB (or a number of bytes), got " + quoted(text));
  }
  if (*number > std::numeric_limits<uint64_t>::max() / unit) {
    throw std::invalid_argument("size " + quoted(text) + " is too large");
  }
  return *number * unit;
}

std::string format_size(uint64_t bytes) {
  for (auto [shift, suffix] : {std::pair{30, "GiB"}, std::pair{20, "MiB"}, std::pair{10, "KiB"}}) {
    uint64_t unit = 1ull << shift;
    if (bytes != 0 && bytes % unit == 0) return std::to_string(bytes / unit) + suffix;
  }
  return std::to_string(bytes);
}

std::string LogRotation::to_string() const { return daily() ? "daily" : format_size(max_bytes); }

Endpoint parse_endpoint(const std::string& text, uint16_t default_port) {
  const std::string expected =
      "expected ADDRESS, ADDRESS:PORT or [IPV6]:PORT with a numeric address, like 127.0.0.1:53 "
      "or [::1]:53, got " +
      quoted(text);
  std::string host = text;
  std::string port;
  int family = AF_INET;
  if (text.starts_with("[")) {
    size_t close = text.find(']');
    if (close == std::string::npos) throw std::invalid_argument(expected);
    host = text.substr(1, close - 1);
    std::string rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw std::invalid_argument(expected);
      port = rest.substr(1);
      if (port.empty()) throw std::invalid_argument(expected);
    }
    family = AF_INET6;
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) throw std::invalid_argument(expected);
  } else if (text.find(':') != std::string::npos) {
    family = AF_INET6;  // a bare IPv6 address; with a port it needs brackets
  }
  auto address = canonical_address(family, host);
  if (!address) throw std::invalid_argument(expected);
  return Endpoint{*address, port.empty() ? default_port : parse_port(port, text)};
}

bool make_sockaddr(const Endpoint& endpoint, sockaddr_storage& address, socklen_t& length) {
  std::memset(&address, 0, sizeof address);
  if (endpoint.is_ipv6()) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(endpoint.port);
    length = sizeof *v6;
    return inet_pton(AF_INET6, endpoint.address.c_str(), &v6->sin6_addr) == 1;
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(endpoint.port);
  length = sizeof *v4;
  return inet_pton(AF_INET, endpoint.address.c_str(), &v4->sin_addr) == 1;
}

UpstreamServer parse_upstream_server(const std::string& text, bool tls) {
  const std::string expected =
      "expected a numeric address with optional @PORT and #TLS-NAME, like 192.0.2.1, "
      "192.0.2.1@5353, 2001:db8::1@53 or 9.9.9.9@853#dns.quad9.net, got " +
      quoted(text);
  UpstreamServer server;
  std::string rest = text;
  if (size_t hash = rest.find('#'); hash != std::string::npos) {
    std::string name = rest.substr(hash + 1);
    if (name.empty() || name == ".") throw std::invalid_argument(expected);
    server.tls_name = normalize_domain_name(name);
    rest.resize(hash);
  }
  std::optional<std::string> port;
  if (size_t at = rest.find('@'); at != std::string::npos) {
    port = rest.substr(at + 1);
    rest.resize(at);
  }
  int family = rest.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  auto address = canonical_address(family, rest);
  if (!address) throw std::invalid_argument(expected);
  server.endpoint.address = *address;
  bool uses_tls = tls || !server.tls_name.empty();
  server.endpoint.port = port ? parse_port(*port, text) : uses_tls ? 853 : 53;
  return server;
}

NetworkPrefix parse_prefix(const std::string& text) {
  const std::string expected =
      "expected an address prefix like 10.0.0.0/8 or fc00::/7 (or a single address), got " +
      quoted(text);
  NetworkPrefix prefix;
  prefix.text = text;
  size_t slash = text.find('/');
  std::string host = text.substr(0, slash);
  prefix.family = host.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  int max_length = prefix.family == AF_INET ? 32 : 128;
  if (!canonical_address(prefix.family, host, prefix.address)) {
    throw std::invalid_argument(expected);
  }
  prefix.length = max_length;
  if (slash != std::string::npos) {
    auto length = parse_decimal(std::string_view(text).substr(slash + 1));
    if (!length || *length > static_cast<uint64_t>(max_length)) {
      throw std::invalid_argument(expected);
    }
    prefix.length = static_cast<int>(*length);
  }
  // Host bits set (10.1.2.3/8) usually mean a typo in the length, so say which network it is.
  NetworkPrefix network = prefix;
  for (int bit = prefix.length; bit < max_length; ++bit) {
    network.address[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  if (std::memcmp(network.address, prefix.address, sizeof prefix.address) != 0) {
    char buffer[INET6_ADDRSTRLEN];
    inet_ntop(prefix.family, network.address, buffer, sizeof buffer);
    throw std::invalid_argument("address " + quoted(host) + " has bits set beyond the /" +
                                std::to_string(prefix.length) + " prefix; did you mean " +
                                quoted(std::string(buffer) + "/" + std::to_string(prefix.length)) +
                                "?");
  }
  return prefix;
}

std::string normalize_domain_name(const std::string& text) {
  if (text == ".") return text;
  std::string name;
  const NameStatus status = normalize_domain(text, name);
  // Names are normalised as list entries are; a reserved host name (local, localhost) and an
  // IPv4 address written as a name (1.2.3.4.) are names too, an IPv6 address is not.
  const bool ipv6 = status == NameStatus::ip_address && name.find(':') != std::string::npos;
  if (status == NameStatus::invalid || ipv6) {
    throw std::invalid_argument("expected a domain name like corp.example.dk, got " +
                                quoted(text) + " (" + (ipv6 ? "an IPv6 address" : name) + ")");
  }
  return name;
}

}  // namespace dnsvagt
