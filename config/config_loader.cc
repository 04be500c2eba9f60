// Reading the YAML config into a Config: every key is optional, unknown keys are errors, and
// every error names the file, the 1-based line and the dotted key path of the problem.
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <tuple>

#include "config/config.h"
#include "config/utf8.h"

namespace dnsvagt {
namespace {

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

// Where `text` has a C0 or C1 control character, DEL, U+2028/U+2029, or a byte that is not
// UTF-8: yaml-cpp 0.7 decodes the escape "\N" (U+0085) to the lone byte 0x85.
std::optional<size_t> control_character(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    const size_t length = utf8_sequence_length(text.substr(at));
    const std::string_view character = text.substr(at, length);
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(character[i]); };
    if (length == 0 || (length == 1 && (byte(0) < 0x20 || byte(0) == 0x7f)) ||
        (length == 2 && byte(0) == 0xc2 && byte(1) < 0xa0) ||
        character == "\u2028" || character == "\u2029") {
      return at;
    }
    at += length;
  }
  return std::nullopt;
}

// `path` opened for OpenSSL's PEM readers: a regular file (O_NONBLOCK: a FIFO must not hang
// the loader); else throws std::invalid_argument.
std::unique_ptr<BIO, int (*)(BIO*)> open_pem_file(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    throw std::invalid_argument("cannot read " + quoted(path) + ": " + std::strerror(error));
  }
  struct stat status {};
  if (fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    close(fd);
    throw std::invalid_argument(quoted(path) + " is not a file");
  }
  BIO* bio = BIO_new_fd(fd, BIO_CLOSE);
  if (!bio) {
    close(fd);
    throw std::invalid_argument("cannot read " + quoted(path) + ": out of memory");
  }
  return {bio, BIO_free};
}

std::unique_ptr<X509, void (*)(X509*)> read_certificate(const std::string& path) {
  X509* certificate = PEM_read_bio_X509(open_pem_file(path).get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  if (!certificate) {
    throw std::invalid_argument(quoted(path) +
                                " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  }
  return {certificate, X509_free};
}

// `path` if it is "" (none) or a readable file with a PEM certificate in it, as a certificate
// chain or a CA bundle must be; else throws std::invalid_argument. A wrong path is then a
// config error with its key and line, not DNS over TLS failing connection by connection.
std::string pem_certificate_path(const std::string& path) {
  if (!path.empty()) read_certificate(path);
  return path;
}

std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> read_private_key(const std::string& path) {
  EVP_PKEY* key = PEM_read_bio_PrivateKey(open_pem_file(path).get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  if (!key) {
    throw std::invalid_argument(quoted(path) + " holds no unencrypted PEM private key "
                                "(-----BEGIN PRIVATE KEY-----)");
  }
  return {key, EVP_PKEY_free};
}

std::string private_key_path(const std::string& path) {
  if (!path.empty()) read_private_key(path);
  return path;
}

// An absolute URL path without a query string, as DNS over HTTPS clients are given it
// ("https://resolver.example/dns-query"); else throws std::invalid_argument.
std::string doh_path(const std::string& path) {
  if (!path.starts_with('/')) throw std::invalid_argument("it does not start with /");
  for (const char c : path) {
    if (c == '?' || c == '#' || static_cast<unsigned char>(c) <= ' ') {
      throw std::invalid_argument("a path holds no '?', '#', spaces or control characters");
    }
  }
  return path;
}

// A YAML node and where it came from, for error messages.
struct Item {
  YAML::Node node;
  std::string key;  // dotted path like "blocking.lists[0].refresh"; "" for the whole document
  int line = 1;     // 1-based
};

int line_of(const YAML::Node& node, int fallback) {
  return node.Mark().is_null() ? fallback : node.Mark().line + 1;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return quoted(node.Scalar());
    default:
      return "nothing";
  }
}

std::string join(std::initializer_list<const char*> names) {
  std::string text;
  for (const char* name : names) text += (text.empty() ? "" : ", ") + std::string(name);
  return text;
}

// The entries of one YAML map by key, each an Item with its own path and line.
class Fields {
 public:
  const Item* get(const std::string& key) const {
    auto it = items_.find(key);
    return it == items_.end() ? nullptr : &it->second;
  }
  void add(const std::string& key, Item item) { items_.emplace(key, std::move(item)); }

 private:
  std::map<std::string, Item> items_;
};

// Turns a YAML document into a Config, section by section, stopping at the first problem.
class ConfigReader {
 public:
  explicit ConfigReader(const std::string& source) : source_(source) {}
  Config read(const YAML::Node& document);

 private:
  [[noreturn]] void fail(const Item& at, const std::string& message) const;

  // The entries of a map whose keys must all be in `known`. A section left empty (`server:`)
  // reads as an empty map; a list element must be a real map.
  Fields fields(const Item& map, std::initializer_list<const char*> known, bool empty_ok) const;
  std::vector<Item> elements(const Item& list, const std::string& expected) const;

  std::string scalar(const Item& item, const std::string& expected) const;
  std::string string_value(const Item& item) const { return scalar(item, "a string"); }
  std::string nonempty_string(const Item& item, const std::string& expected) const;
  bool boolean(const Item& item) const;
  uint64_t integer(const Item& item, uint64_t min, uint64_t max) const;
  std::chrono::seconds duration(const Item& item, std::chrono::seconds min) const;
  uint64_t size(const Item& item, uint64_t min) const;
  double fraction(const Item& item) const;
  std::string domain_name(const Item& item) const;
  std::vector<NetworkPrefix> prefixes(const Item& list) const;
  UpstreamServer upstream_server(const Item& item, bool tls) const;
  // One of `count` enum values, named by to_string(Enum).
  template <typename Enum>
  Enum choice(const Item& item, int count) const;
  // The result of a config.h value parser on the scalar; its std::invalid_argument becomes a
  // ConfigError at `item`.
  template <typename Parse>
  auto parsed(const Item& item, const std::string& expected, Parse parse) const;

  void read_server(const Item& section, ServerConfig& server) const;
  void read_server_tls(const Item& section, ServerTlsConfig& tls) const;
  std::vector<Endpoint> listen_endpoints(const Item& item, uint16_t default_port) const;
  void read_upstream(const Item& section, UpstreamConfig& upstream) const;
  ForwardZone read_zone(const Item& entry, bool tls) const;
  void read_dnssec(const Item& section, DnssecConfig& dnssec) const;
  void read_cache(const Item& section, CacheConfig& cache) const;
  void read_blocking(const Item& section, BlockingConfig& blocking) const;
  ListSource read_list(const Item& entry, std::map<std::string, std::string>& names_seen) const;
  void read_clients(const Item& section, const BlockingConfig& blocking, bool mutual_tls,
                    std::vector<ClientGroup>& groups) const;
  // Where each prefix and subject was given: one in two groups would make the choice depend
  // on order.
  struct ClientGroupsSeen {
    bool mutual_tls = false;  // server.tls.client_ca is set: certificates have subjects
    std::map<std::string, std::string> prefixes;  // to the group's name
    std::map<std::string, std::string> subjects;
  };
  ClientGroup read_client_group(const Item& entry, const BlockingConfig& blocking,
                                ClientGroupsSeen& seen) const;
  void read_metrics(const Item& section, MetricsConfig& metrics) const;
  void read_logging(const Item& section, LoggingConfig& logging) const;
  void read_audit(const Item& section, AuditConfig& audit) const;
  AuditDomain read_audit_domain(const Item& entry) const;

  const std::string source_;
};

void ConfigReader::fail(const Item& at, const std::string& message) const {
  std::string where = source_ + ":" + std::to_string(at.line) + ": ";
  throw ConfigError(where + (at.key.empty() ? "" : at.key + ": ") + message);
}

Fields ConfigReader::fields(const Item& map, std::initializer_list<const char*> known,
                            bool empty_ok) const {
  Fields result;
  if (map.node.IsNull() && empty_ok) return result;
  if (!map.node.IsMap()) {
    fail(map, "expected a map with keys " + join(known) + ", got " + describe(map.node));
  }
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    Item key{it->first, map.key, line_of(it->first, map.line)};
    if (!it->first.IsScalar()) fail(key, "expected a key name, got " + describe(it->first));
    std::string name = it->first.Scalar();
    Item entry{it->second, map.key.empty() ? name : map.key + "." + name, key.line};
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return name == k; })) {
      fail(entry, "unknown key, expected one of " + join(known));
    }
    if (const Item* first = result.get(name)) {
      fail(entry, "given twice (first on line " + std::to_string(first->line) + ")");
    }
    result.add(name, entry);
  }
  return result;
}

std::vector<Item> ConfigReader::elements(const Item& list, const std::string& expected) const {
  std::vector<Item> result;
  if (list.node.IsNull()) return result;  // `lists:` with every entry commented out
  if (!list.node.IsSequence()) {
    fail(list, "expected a list of " + expected + ", got " + describe(list.node));
  }
  for (size_t i = 0; i < list.node.size(); ++i) {
    YAML::Node element = list.node[i];
    result.push_back(
        {element, list.key + "[" + std::to_string(i) + "]", line_of(element, list.line)});
  }
  return result;
}

std::string ConfigReader::scalar(const Item& item, const std::string& expected) const {
  if (!item.node.IsScalar()) fail(item, "expected " + expected + ", got " + describe(item.node));
  const std::string& value = item.node.Scalar();
  // No value needs a control character or a line break, and YAML's escapes ("\N" is U+0085,
  // a line break) make them easy to write by mistake; to_yaml could not write them back so
  // that they read the same.
  if (const std::optional<size_t> at = control_character(value)) {
    fail(item, "expected " + expected + ", got a control character, line break or non-UTF-8 " +
                   "byte (byte " + std::to_string(*at) + " of the value)");
  }
  return value;
}

template <typename Enum>
Enum ConfigReader::choice(const Item& item, int count) const {
  std::string value = scalar(item, "a name");
  std::string names;
  for (int i = 0; i < count; ++i) {
    const char* name = to_string(static_cast<Enum>(i));
    if (value == name) return static_cast<Enum>(i);
    names += (i == 0 ? "" : ", ") + std::string(name);
  }
  fail(item, "expected one of " + names + ", got " + quoted(value));
}

template <typename Parse>
auto ConfigReader::parsed(const Item& item, const std::string& expected, Parse parse) const {
  std::string value = scalar(item, expected);
  try {
    return parse(value);
  } catch (const std::invalid_argument& e) {
    fail(item, e.what());
  }
}

std::string ConfigReader::nonempty_string(const Item& item, const std::string& expected) const {
  std::string value = scalar(item, expected);
  if (value.empty()) fail(item, "expected " + expected + ", got \"\"");
  return value;
}

bool ConfigReader::boolean(const Item& item) const {
  // Only true/false: YAML 1.1's yes/no/on/off are too easy to misread in a security setting.
  std::string value = scalar(item, "true or false");
  if (value == "true") return true;
  if (value == "false") return false;
  fail(item, "expected true or false, got " + quoted(value));
}

uint64_t ConfigReader::integer(const Item& item, uint64_t min, uint64_t max) const {
  std::string expected = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  std::string value = scalar(item, expected);
  auto number = parse_decimal(value);
  if (!number || *number < min || *number > max) {
    fail(item, "expected " + expected + ", got " + quoted(value));
  }
  return *number;
}

std::chrono::seconds ConfigReader::duration(const Item& item, std::chrono::seconds min) const {
  auto value = parsed(item, "a duration like 30s, 5m, 1h or 2d", parse_duration);
  if (value < min) {
    fail(item, "expected at least " + std::to_string(min.count()) + "s, got " +
                   quoted(item.node.Scalar()));
  }
  return value;
}

uint64_t ConfigReader::size(const Item& item, uint64_t min) const {
  uint64_t value = parsed(item, "a size like 512KiB, 256MiB or 1GiB", parse_size);
  if (value < min) {
    fail(item,
         "expected at least " + std::to_string(min) + " bytes, got " + quoted(item.node.Scalar()));
  }
  return value;
}

double ConfigReader::fraction(const Item& item) const {
  const std::string expected = "a number from 0 to 1 like 0.5";
  std::string text = scalar(item, expected);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
      !(value >= 0 && value <= 1)) {
    fail(item, "expected " + expected + ", got " + quoted(text));
  }
  return value;
}

UpstreamServer ConfigReader::upstream_server(const Item& item, bool tls) const {
  return parsed(item, "a server like \"192.0.2.1\"",
                [tls](const std::string& text) { return parse_upstream_server(text, tls); });
}

std::string ConfigReader::domain_name(const Item& item) const {
  return parsed(item, "a domain name", normalize_domain_name);
}

std::vector<NetworkPrefix> ConfigReader::prefixes(const Item& list) const {
  std::vector<NetworkPrefix> result;
  for (const Item& element : elements(list, "prefixes like \"10.0.0.0/8\"")) {
    result.push_back(parsed(element, "a prefix like \"10.0.0.0/8\"", parse_prefix));
  }
  return result;
}

Config ConfigReader::read(const YAML::Node& document) {
  Config config = default_config();
  Item root{document, "", line_of(document, 1)};
  if (!document.IsNull() && !document.IsMap()) {
    fail(root, "expected a map of sections (server, upstream, ...), got " + describe(document));
  }
  Fields sections = fields(
      root,
      {"server", "upstream", "dnssec", "cache", "blocking", "clients", "metrics", "logging",
       "audit"},
      true);
  if (const Item* item = sections.get("server")) read_server(*item, config.server);
  if (const Item* item = sections.get("upstream")) read_upstream(*item, config.upstream);
  if (const Item* item = sections.get("dnssec")) read_dnssec(*item, config.dnssec);
  if (const Item* item = sections.get("cache")) read_cache(*item, config.cache);
  if (const Item* item = sections.get("blocking")) read_blocking(*item, config.blocking);
  // After blocking: groups name its lists and default to its action.
  if (const Item* item = sections.get("clients")) {
    read_clients(*item, config.blocking, !config.server.tls.client_ca.empty(), config.clients);
  }
  if (const Item* item = sections.get("metrics")) read_metrics(*item, config.metrics);
  if (const Item* item = sections.get("logging")) read_logging(*item, config.logging);
  if (const Item* item = sections.get("audit")) read_audit(*item, config.audit);
  // Recursion would take private zones to the public DNS, which is what answering them
  // locally keeps them from.
  if (config.server.private_zones == PrivateZones::forward &&
      config.upstream.mode != UpstreamMode::forward) {
    const Item& server = *sections.get("server");
    YAML::Node value = server.node["private_zones"];
    fail({value, "server.private_zones", line_of(value, server.line)},
         "forward sends private zones to upstream.servers, so it needs upstream.mode: forward "
         "(use upstream.zones to forward single private zones in recursive mode)");
  }
  return config;
}

void ConfigReader::read_server(const Item& section, ServerConfig& server) const {
  Fields f = fields(section,
                    {"listen", "threads", "allow", "proxy_protocol_from", "tcp_idle_timeout",
                     "tcp_query_timeout", "tcp_write_timeout", "max_tcp_connections",
                     "max_tcp_connections_per_client", "rate_limit", "user", "private_zones",
                     "tls"},
                    true);
  if (const Item* item = f.get("listen")) {
    server.listen = listen_endpoints(*item, 53);
    if (server.listen.empty()) fail(*item, "expected at least one address to listen on");
  }
  if (const Item* item = f.get("tls")) read_server_tls(*item, server.tls);
  if (const Item* item = f.get("threads")) {
    const std::string expected = "auto or an integer from 1 to 256";
    std::string value = scalar(*item, expected);
    auto number = parse_decimal(value);
    if (value == "auto") {
      server.threads = 0;
    } else if (number && *number >= 1 && *number <= 256) {
      server.threads = static_cast<unsigned>(*number);
    } else {
      fail(*item, "expected " + expected + ", got " + quoted(value));
    }
  }
  for (auto [key, prefixes] : {std::pair{"allow", &server.allow},
                                std::pair{"proxy_protocol_from", &server.proxy_protocol_from}}) {
    if (const Item* item = f.get(key)) *prefixes = this->prefixes(*item);
  }
  if (const Item* item = f.get("tcp_idle_timeout")) {
    server.tcp_idle_timeout = duration(*item, std::chrono::seconds(1));
  }
  if (const Item* item = f.get("tcp_query_timeout")) {
    server.tcp_query_timeout = duration(*item, std::chrono::seconds(1));
  }
  if (const Item* item = f.get("tcp_write_timeout")) {
    server.tcp_write_timeout = duration(*item, std::chrono::seconds(1));
  }
  if (const Item* item = f.get("max_tcp_connections")) {
    server.max_tcp_connections = static_cast<unsigned>(integer(*item, 1, 1000000));
  }
  if (const Item* item = f.get("max_tcp_connections_per_client")) {
    server.max_tcp_connections_per_client = static_cast<unsigned>(integer(*item, 1, 1000000));
  }
  if (const Item* item = f.get("rate_limit")) {
    Fields limit = fields(*item, {"qps", "burst", "ipv4_prefix", "ipv6_prefix"}, true);
    if (const Item* qps = limit.get("qps")) {
      server.rate_limit.qps = static_cast<uint32_t>(integer(*qps, 0, 1000000));
    }
    if (const Item* burst = limit.get("burst")) {
      server.rate_limit.burst = static_cast<uint32_t>(integer(*burst, 0, 1000000));
    }
    if (const Item* prefix = limit.get("ipv4_prefix")) {
      server.rate_limit.ipv4_prefix = static_cast<unsigned>(integer(*prefix, 0, 32));
    }
    if (const Item* prefix = limit.get("ipv6_prefix")) {
      server.rate_limit.ipv6_prefix = static_cast<unsigned>(integer(*prefix, 0, 128));
    }
    // A bucket smaller than one second's worth would cut the rate below qps.
    server.rate_limit.burst = std::max(server.rate_limit.burst, server.rate_limit.qps);
  }
  if (const Item* item = f.get("user")) server.user = nonempty_string(*item, "a user name");
  if (const Item* item = f.get("private_zones")) {
    server.private_zones = choice<PrivateZones>(*item, 2);
  }
}

std::vector<Endpoint> ConfigReader::listen_endpoints(const Item& item,
                                                     uint16_t default_port) const {
  std::vector<Endpoint> endpoints;
  const std::string example = "127.0.0.1:" + std::to_string(default_port);
  for (const Item& element : elements(item, "addresses like \"" + example + "\"")) {
    Endpoint endpoint =
        parsed(element, "an address like \"" + example + "\"",
               [default_port](const std::string& text) { return parse_endpoint(text, default_port); });
    if (std::find(endpoints.begin(), endpoints.end(), endpoint) != endpoints.end()) {
      fail(element, endpoint.to_string() + " is listed twice");
    }
    endpoints.push_back(endpoint);
  }
  return endpoints;
}

void ConfigReader::read_server_tls(const Item& section, ServerTlsConfig& tls) const {
  Fields f = fields(section, {"listen", "doh_listen", "doh_path", "certificate", "key",
                              "client_ca"}, true);
  if (const Item* item = f.get("listen")) tls.listen = listen_endpoints(*item, 853);
  if (const Item* item = f.get("doh_listen")) {
    tls.doh_listen = listen_endpoints(*item, 443);
    for (const Endpoint& endpoint : tls.doh_listen) {
      if (std::find(tls.listen.begin(), tls.listen.end(), endpoint) != tls.listen.end()) {
        fail(*item, endpoint.to_string() + " is in listen too: DNS over TLS and DNS over HTTPS "
                                           "need addresses of their own");
      }
    }
  }
  if (const Item* item = f.get("doh_path")) {
    tls.doh_path = parsed(*item, "a path like \"/dns-query\"", doh_path);
  }
  const Item* certificate = f.get("certificate");
  const Item* key = f.get("key");
  if (certificate) tls.certificate = parsed(*certificate, "a file path", pem_certificate_path);
  if (key) tls.key = parsed(*key, "a file path", private_key_path);
  if (const Item* item = f.get("client_ca")) {
    tls.client_ca = parsed(*item, "a file path", pem_certificate_path);
  }
  if (!tls.listen.empty() && (tls.certificate.empty() || tls.key.empty())) {
    fail(section, "DNS over TLS (listen) needs a certificate and a key");
  }
  if (!tls.doh_listen.empty() && (tls.certificate.empty() || tls.key.empty())) {
    fail(section, "DNS over HTTPS (doh_listen) needs a certificate and a key");
  }
  if (!tls.certificate.empty() && !tls.key.empty() &&
      X509_check_private_key(read_certificate(tls.certificate).get(),
                             read_private_key(tls.key).get()) != 1) {
    ERR_clear_error();
    fail(*key, quoted(tls.key) + " is not the key of the certificate in " +
                   quoted(tls.certificate));
  }
}

void ConfigReader::read_upstream(const Item& section, UpstreamConfig& upstream) const {
  Fields f =
      fields(section, {"mode", "servers", "tls", "tls_ca_file", "zones", "timeout"}, true);
  if (const Item* item = f.get("mode")) upstream.mode = choice<UpstreamMode>(*item, 2);
  if (const Item* item = f.get("timeout")) {
    upstream.timeout = parsed(*item, "a duration like 1800ms or 2s", parse_short_duration);
    if (upstream.timeout < std::chrono::milliseconds(100)) {
      fail(*item, "expected at least 100ms, got " + quoted(item->node.Scalar()));
    }
  }
  // Read before the servers: it sets their default port (853 with TLS).
  if (const Item* item = f.get("tls")) upstream.tls = boolean(*item);
  // Accepted without TLS servers too: it is then unused, as the system bundle is.
  if (const Item* item = f.get("tls_ca_file")) {
    upstream.tls_ca_file = parsed(*item, "a file path", pem_certificate_path);
  }
  const Item* servers = f.get("servers");
  if (servers) {
    for (const Item& element : elements(*servers, "servers like \"192.0.2.1\"")) {
      upstream.servers.push_back(upstream_server(element, upstream.tls));
    }
  }
  if (const Item* item = f.get("zones")) {
    for (const Item& element :
         elements(*item, "zones like {name: corp.example.dk, servers: [...]}")) {
      ForwardZone zone = read_zone(element, upstream.tls);
      for (const ForwardZone& other : upstream.zones) {
        if (other.name == zone.name) {
          fail(element, "zone " + quoted(zone.name) + " is listed twice");
        }
      }
      upstream.zones.push_back(zone);
    }
  }
  if (upstream.mode == UpstreamMode::forward && upstream.servers.empty()) {
    fail(*f.get("mode"),
         "forward needs at least one server in upstream.servers, like \"192.0.2.1\"");
  }
  if (upstream.mode == UpstreamMode::recursive && !upstream.servers.empty()) {
    fail(*servers,
         "servers are used only with upstream.mode: forward (use upstream.zones to "
         "forward single domains in recursive mode)");
  }
}

ForwardZone ConfigReader::read_zone(const Item& entry, bool tls) const {
  Fields f = fields(entry, {"name", "servers", "insecure"}, false);
  ForwardZone zone;
  const Item* name = f.get("name");
  if (!name) fail(entry, "expected a name, like name: corp.example.dk");
  zone.name = domain_name(*name);
  const Item* servers = f.get("servers");
  if (!servers) fail(entry, "expected servers, like servers: [\"10.0.0.5\"]");
  for (const Item& element : elements(*servers, "servers like \"10.0.0.5\"")) {
    zone.servers.push_back(upstream_server(element, tls));
  }
  if (zone.servers.empty()) fail(*servers, "expected at least one server, like \"10.0.0.5\"");
  if (const Item* item = f.get("insecure")) {
    zone.insecure = boolean(*item);
    if (zone.insecure && zone.name == ".") {
      fail(*item,
           "an insecure root zone would turn off DNSSEC validation for everything; use "
           "dnssec.validate: false if that is really meant");
    }
  }
  return zone;
}

void ConfigReader::read_dnssec(const Item& section, DnssecConfig& dnssec) const {
  Fields f = fields(section,
                    {"validate", "root_trust_anchor_file", "trust_anchors", "trust_anchor_files",
                     "insecure_domains"},
                    true);
  if (const Item* item = f.get("validate")) dnssec.validate = boolean(*item);
  if (const Item* item = f.get("root_trust_anchor_file")) {
    dnssec.root_trust_anchor_file = string_value(*item);
  }
  if (const Item* item = f.get("trust_anchors")) {
    for (const Item& element : elements(*item, "DS or DNSKEY records")) {
      const std::string expected =
          "a DS or DNSKEY record in zone-file syntax, like \"example. DS 31406 8 2 F78C...\"";
      std::string record = nonempty_string(element, expected);
      std::istringstream words(record);
      std::string word;
      bool has_type = false;
      while (words >> word && !has_type) has_type = word == "DS" || word == "DNSKEY";
      if (!has_type) fail(element, "expected " + expected + ", got " + quoted(record));
      dnssec.trust_anchors.push_back(record);
    }
  }
  if (const Item* item = f.get("trust_anchor_files")) {
    for (const Item& element : elements(*item, "file paths")) {
      dnssec.trust_anchor_files.push_back(nonempty_string(element, "a file path"));
    }
  }
  if (const Item* item = f.get("insecure_domains")) {
    for (const Item& element : elements(*item, "domain names")) {
      std::string name = domain_name(element);
      if (name == ".") {
        fail(element,
             "the root as an insecure domain would turn off DNSSEC validation for "
             "everything; use dnssec.validate: false if that is really meant");
      }
      dnssec.insecure_domains.push_back(name);
    }
  }
}

void ConfigReader::read_cache(const Item& section, CacheConfig& cache) const {
  Fields f = fields(section, {"size", "serve_stale", "prefetch", "max_ttl"}, true);
  if (const Item* item = f.get("size")) cache.size = size(*item, 1 << 20);
  if (const Item* item = f.get("serve_stale")) cache.serve_stale = boolean(*item);
  if (const Item* item = f.get("prefetch")) cache.prefetch = boolean(*item);
  // RFC 2181: TTLs are at most 2^31 - 1 seconds.
  if (const Item* item = f.get("max_ttl")) {
    cache.max_ttl = static_cast<uint32_t>(integer(*item, 1, 2147483647));
  }
}

void ConfigReader::read_blocking(const Item& section, BlockingConfig& blocking) const {
  Fields f = fields(
      section, {"action", "sinkhole", "ttl", "cname_check", "cache_dir", "lists", "allow"}, true);
  if (const Item* item = f.get("action")) blocking.action = choice<BlockAction>(*item, 5);
  if (const Item* item = f.get("sinkhole")) {
    blocking.sinkhole.clear();
    for (const Item& element : elements(*item, "addresses like \"0.0.0.0\"")) {
      blocking.sinkhole.push_back(parsed(element, "an address like \"0.0.0.0\"", parse_address));
    }
    if (blocking.sinkhole.empty() && blocking.action == BlockAction::sinkhole) {
      fail(*item, "action sinkhole needs at least one address, like \"0.0.0.0\"");
    }
  }
  if (const Item* item = f.get("ttl")) {
    blocking.ttl = static_cast<uint32_t>(integer(*item, 0, 2147483647));
  }
  if (const Item* item = f.get("cname_check")) blocking.cname_check = boolean(*item);
  if (const Item* item = f.get("cache_dir")) {
    blocking.cache_dir = nonempty_string(*item, "a directory path");
  }
  // List names are unique across block and allow lists: they label metrics and EDE texts.
  std::map<std::string, std::string> names_seen;
  for (auto [key, target] :
       {std::pair{"lists", &blocking.lists}, std::pair{"allow", &blocking.allow}}) {
    const Item* item = f.get(key);
    if (!item) continue;
    for (const Item& element :
         elements(*item, "lists like {name: local, file: /etc/dnsvagt/block.txt}")) {
      target->push_back(read_list(element, names_seen));
    }
  }
}

ListSource ConfigReader::read_list(const Item& entry,
                                   std::map<std::string, std::string>& names_seen) const {
  Fields f = fields(entry,
                    {"name", "url", "file", "format", "refresh", "min_entries", "max_shrink",
                     "max_size", "ca_file", "sha256"},
                    false);
  ListSource list;
  const Item* name = f.get("name");
  if (!name) fail(entry, "expected a name, like name: urlhaus");
  const std::string name_expected = "a name of letters, digits, '_', '.' and '-'";
  list.name = nonempty_string(*name, name_expected);
  for (char c : list.name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      fail(*name, "expected " + name_expected + ", got " + quoted(list.name));
    }
  }
  if (auto [first, inserted] = names_seen.emplace(list.name, name->key); !inserted) {
    fail(*name, "list name " + quoted(list.name) + " is already used by " + first->second);
  }
  const Item* url = f.get("url");
  const Item* file = f.get("file");
  if (url) list.url = string_value(*url);
  if (file) list.file = string_value(*file);
  if (list.url.empty() == list.file.empty()) {
    fail(entry, std::string("expected exactly one of url or file, got ") +
                    (list.url.empty() ? "neither" : "both"));
  }
  if (!list.url.empty() && !(list.url.starts_with("http://") && list.url.size() > 7) &&
      !(list.url.starts_with("https://") && list.url.size() > 8)) {
    fail(*url, "expected an http:// or https:// URL, got " + quoted(list.url));
  }
  if (const Item* item = f.get("format")) list.format = choice<ListFormat>(*item, 5);
  if (const Item* item = f.get("refresh")) list.refresh = duration(*item, std::chrono::seconds(1));
  if (const Item* item = f.get("min_entries")) {
    list.min_entries = integer(*item, 0, UINT64_MAX);
  }
  if (const Item* item = f.get("max_shrink")) list.max_shrink = fraction(*item);
  if (const Item* item = f.get("max_size")) list.max_size = size(*item, 1);
  if (const Item* item = f.get("ca_file")) {
    list.ca_file = string_value(*item);
    if (!list.ca_file.empty() && !list.url.starts_with("https://")) {
      fail(*item, "ca_file applies only to https:// urls");
    }
  }
  if (const Item* item = f.get("sha256")) {
    const std::string value = string_value(*item);
    if (!value.empty() && list.url.empty()) fail(*item, "sha256 applies only to url lists");
    const bool hex = std::all_of(value.begin(), value.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) != 0;
    });
    if (!value.empty() && (value.size() != 64 || !hex)) {
      fail(*item, "expected 64 hexadecimal digits (the SHA-256 of the content), got " +
                      quoted(value));
    }
    // Compared with the lowercase hex the fetcher computes.
    list.sha256 = value;
    for (char& c : list.sha256) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return list;
}

void ConfigReader::read_clients(const Item& section, const BlockingConfig& blocking,
                                bool mutual_tls, std::vector<ClientGroup>& groups) const {
  ClientGroupsSeen seen;
  seen.mutual_tls = mutual_tls;
  for (const Item& element :
       elements(section, "groups like {name: guests, networks: [\"192.168.100.0/24\"]}")) {
    ClientGroup group = read_client_group(element, blocking, seen);
    for (const ClientGroup& other : groups) {
      if (other.name == group.name) {
        fail(element, "group name " + quoted(group.name) + " is listed twice");
      }
    }
    groups.push_back(std::move(group));
  }
}

ClientGroup ConfigReader::read_client_group(const Item& entry, const BlockingConfig& blocking,
                                            ClientGroupsSeen& seen) const {
  Fields f = fields(entry, {"name", "networks", "certificate_subjects", "lists", "allow", "action"},
                    false);
  ClientGroup group;
  const Item* name = f.get("name");
  if (!name) fail(entry, "expected a name, like name: guests");
  const std::string name_expected = "a name of at most 63 of a-z, 0-9, '_' and '-'";
  group.name = nonempty_string(*name, name_expected);
  if (group.name.size() > 63 || !std::all_of(group.name.begin(), group.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      })) {
    fail(*name, "expected " + name_expected + ", got " + quoted(group.name));
  }
  const Item* networks = f.get("networks");
  const Item* subjects = f.get("certificate_subjects");
  if (!networks && !subjects) {
    fail(entry, "expected networks, like networks: [\"192.168.100.0/24\"], or "
                "certificate_subjects, like certificate_subjects: [\"OU=guests,O=Example\"]");
  }
  if (networks) {
    group.networks = prefixes(*networks);
    for (const NetworkPrefix& prefix : group.networks) {
      // Keyed by the parsed prefix, so 10.0.0.0/8 and 010.0.0.0/8 are one.
      const std::string key(reinterpret_cast<const char*>(prefix.address), sizeof prefix.address);
      auto [first, added] = seen.prefixes.emplace(
          key + "/" + std::to_string(prefix.family) + "/" + std::to_string(prefix.length),
          group.name);
      if (!added) {
        fail(*networks, "network " + quoted(prefix.text) + " is already in group " +
                            quoted(first->second));
      }
    }
  }
  if (subjects) {
    for (const Item& element : elements(*subjects, "subjects like \"OU=guests,O=Example\"")) {
      std::string subject = nonempty_string(element, "a subject like \"OU=guests,O=Example\"");
      auto [first, added] = seen.subjects.emplace(subject, group.name);
      if (!added) {
        fail(*subjects, "subject " + quoted(subject) + " is already in group " +
                            quoted(first->second));
      }
      group.certificate_subjects.push_back(std::move(subject));
    }
    if (!group.certificate_subjects.empty() && !seen.mutual_tls) {
      fail(*subjects, "client certificates are asked for only with server.tls.client_ca");
    }
  }
  if (group.networks.empty() && group.certificate_subjects.empty()) {
    fail(networks ? *networks : *subjects, "expected at least one network or certificate subject");
  }
  for (auto [key, target, configured] :
       {std::tuple{"lists", &group.lists, &blocking.lists},
        std::tuple{"allow", &group.allow, &blocking.allow}}) {
    const Item* item = f.get(key);
    if (!item) {
      for (const ListSource& list : *configured) target->push_back(list.name);
      continue;
    }
    for (const Item& element : elements(*item, "list names")) {
      std::string list = nonempty_string(element, "a list name");
      if (std::none_of(configured->begin(), configured->end(),
                       [&](const ListSource& source) { return source.name == list; })) {
        fail(element, quoted(list) + " is not a list of blocking." + key);
      }
      if (std::find(target->begin(), target->end(), list) != target->end()) {
        fail(element, "list " + quoted(list) + " is listed twice");
      }
      target->push_back(list);
    }
  }
  group.action = blocking.action;
  if (const Item* item = f.get("action")) {
    group.action = choice<BlockAction>(*item, 5);
    if (group.action == BlockAction::sinkhole && blocking.sinkhole.empty()) {
      fail(*item, "action sinkhole needs addresses in blocking.sinkhole");
    }
  }
  return group;
}

void ConfigReader::read_metrics(const Item& section, MetricsConfig& metrics) const {
  Fields f = fields(section, {"listen"}, true);
  if (const Item* item = f.get("listen")) {
    const std::string expected =
        "ADDRESS:PORT like \"127.0.0.1:9153\" or \"[::1]:9153\", or \"\" for no metrics";
    std::string value = scalar(*item, expected);
    if (value.empty()) {
      metrics.listen.reset();
      return;
    }
    // Default port 0 stands for "none given": the metrics port must be explicit.
    Endpoint endpoint =
        parsed(*item, expected, [](const std::string& text) { return parse_endpoint(text, 0); });
    if (endpoint.port == 0) fail(*item, "expected " + expected + ", got " + quoted(value));
    metrics.listen = endpoint;
  }
}

void ConfigReader::read_logging(const Item& section, LoggingConfig& logging) const {
  Fields f =
      fields(section, {"level", "query_log", "query_log_rotate", "query_log_retention"}, true);
  if (const Item* item = f.get("level")) logging.level = choice<LogLevel>(*item, 4);
  if (const Item* item = f.get("query_log")) logging.query_log = string_value(*item);
  if (const Item* item = f.get("query_log_rotate")) {
    const std::string expected = "daily or a size like 512MiB";
    std::string value = scalar(*item, expected);
    LogRotation rotation;  // daily
    if (value != "daily") {
      try {
        rotation.max_bytes = parse_size(value);
        if (rotation.daily()) throw std::invalid_argument("0 bytes stands for daily");
      } catch (const std::invalid_argument&) {
        fail(*item, "expected " + expected + ", got " + quoted(value));
      }
    }
    logging.query_log_rotate = rotation;
  }
  if (const Item* item = f.get("query_log_retention")) {
    auto retention = parsed(*item, "a duration like 400d", parse_duration);
    if (retention < std::chrono::days(365)) {
      fail(*item,
           "expected at least 365d (requirement 16: query logs are kept for 12 months), "
           "got " +
               quoted(item->node.Scalar()));
    }
    logging.query_log_retention = retention;
  }
}

void ConfigReader::read_audit(const Item& section, AuditConfig& audit) const {
  Fields f = fields(section, {"interval", "timeout", "domains"}, true);
  if (const Item* item = f.get("interval")) {
    audit.interval = parsed(*item, "a duration like 1h, or 0 for no periodic audit",
                            parse_duration);
    // More often than a minute would only load the authorities being audited.
    if (audit.interval.count() != 0 && audit.interval < std::chrono::minutes(1)) {
      fail(*item, "expected 0 (no periodic audit) or at least 1m, got " +
                      quoted(item->node.Scalar()));
    }
  }
  if (const Item* item = f.get("timeout")) {
    audit.timeout = parsed(*item, "a duration like 5s or 1500ms", parse_short_duration);
    if (audit.timeout < std::chrono::milliseconds(100) || audit.timeout > std::chrono::minutes(1)) {
      fail(*item, "expected from 100ms to 1m, got " + quoted(item->node.Scalar()));
    }
  }
  if (const Item* item = f.get("domains")) {
    for (const Item& element : elements(*item, "domains like {name: example.dk}")) {
      AuditDomain domain = read_audit_domain(element);
      for (const AuditDomain& other : audit.domains) {
        if (other.name == domain.name) {
          fail(element, "domain " + quoted(domain.name) + " is listed twice");
        }
      }
      audit.domains.push_back(std::move(domain));
    }
  }
}

AuditDomain ConfigReader::read_audit_domain(const Item& entry) const {
  Fields f = fields(entry, {"name", "subdomains", "dkim_selectors", "foreign_cooperation"}, false);
  AuditDomain domain;
  const Item* name = f.get("name");
  if (!name) fail(entry, "expected a name, like name: example.dk");
  domain.name = domain_name(*name);
  if (domain.name == ".") fail(*name, "expected a domain name like example.dk, got \".\"");
  if (const Item* item = f.get("subdomains")) {
    for (const Item& element :
         elements(*item, "subdomains like {name: mail.example.dk, mail_flow: true}")) {
      Fields s = fields(element, {"name", "mail_flow"}, false);
      const Item* sub_name = s.get("name");
      if (!sub_name) fail(element, "expected a name, like name: mail." + domain.name);
      AuditSubdomain subdomain;
      subdomain.name = domain_name(*sub_name);
      if (!subdomain.name.ends_with("." + domain.name)) {
        fail(*sub_name, "expected a name below " + domain.name + ", got " +
                            quoted(subdomain.name));
      }
      for (const AuditSubdomain& other : domain.subdomains) {
        if (other.name == subdomain.name) {
          fail(*sub_name, "subdomain " + quoted(subdomain.name) + " is listed twice");
        }
      }
      if (const Item* flag = s.get("mail_flow")) subdomain.mail_flow = boolean(*flag);
      domain.subdomains.push_back(std::move(subdomain));
    }
  }
  if (const Item* item = f.get("dkim_selectors")) {
    const std::string expected = "a DKIM selector like \"s1\" (letters, digits, '-', '_', '.')";
    for (const Item& element : elements(*item, "DKIM selectors like \"s1\"")) {
      std::string selector = nonempty_string(element, expected);
      // A selector is one or more labels of the name <selector>._domainkey.<domain>.
      bool valid = !selector.starts_with('.') && !selector.ends_with('.') &&
                   selector.find("..") == std::string::npos;
      for (char& c : selector) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        valid &= std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      }
      if (!valid) fail(element, "expected " + expected + ", got " + quoted(element.node.Scalar()));
      if (std::find(domain.dkim_selectors.begin(), domain.dkim_selectors.end(), selector) !=
          domain.dkim_selectors.end()) {
        fail(element, "selector " + quoted(selector) + " is listed twice");
      }
      domain.dkim_selectors.push_back(selector);
    }
  }
  if (const Item* item = f.get("foreign_cooperation")) {
    domain.foreign_cooperation = boolean(*item);
  }
  return domain;
}

// Notes where a document starts and ignores the rest.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> last;

  void OnDocumentStart(const YAML::Mark& mark) override { last = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The line where a second document starts, if `text` has one. Reads two documents at most:
// yaml-cpp's LoadAll never ends on some input (a lone ","), making empty documents forever.
std::optional<int> second_document_line(const std::string& text) {
  std::istringstream input(text);
  YAML::Parser parser(input);
  DocumentStarts starts;
  if (!parser.HandleNextDocument(starts)) return std::nullopt;
  starts.last.reset();
  if (!parser.HandleNextDocument(starts)) return std::nullopt;
  return starts.last ? starts.last->line + 1 : 1;
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& source_name) {
  // YAML is UTF-8: yaml-cpp would read other bytes and write them back as U+FFFD, so a value
  // would not be what the file says.
  size_t line = 1;
  for (size_t at = 0; at < yaml_text.size();) {
    const size_t length = utf8_sequence_length(std::string_view(yaml_text).substr(at));
    if (length == 0) {
      throw ConfigError(source_name + ":" + std::to_string(line) +
                        ": not UTF-8 text (byte " + std::to_string(at) + ")");
    }
    if (yaml_text[at] == '\n') ++line;
    at += length;
  }
  YAML::Node document;
  try {
    if (std::optional<int> line = second_document_line(yaml_text)) {
      throw ConfigError(source_name + ":" + std::to_string(*line) +
                        ": expected one YAML document, found more");
    }
    document = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source_name + ":" + std::to_string(e.mark.is_null() ? 1 : e.mark.line + 1) +
                      ": YAML syntax error: " + e.msg);
  }
  Config config = ConfigReader(source_name).read(document);
  config.source = source_name;
  return config;
}

Config load_config(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ConfigError(path + ": cannot read: " + std::strerror(errno));
  std::string text;
  char buffer[65536];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      close(fd);
      throw ConfigError(path + ": cannot read: " + std::strerror(error));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return parse_config(text, path);
}

}  // namespace dnsvagt
