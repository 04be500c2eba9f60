// The Config value type: every setting of dnsvagt with its built-in default, as documented in
// DESIGN.md ("Configuration contract"). Loaded from YAML by load_config() (config_loader.cc).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dns/ip_address.h"

namespace dnsvagt {

// An address and port to listen on or to send to. `address` is a numeric IPv4 or IPv6 address
// (no brackets), validated at load time.
struct Endpoint {
  std::string address;
  uint16_t port = 53;
  bool is_ipv6() const { return address.find(':') != std::string::npos; }
  std::string to_string() const;  // "127.0.0.1:53", "[::1]:53"
  bool operator==(const Endpoint&) const = default;
};

// An address prefix of server.allow or a client group, e.g. 10.0.0.0/8 or fc00::/7.
struct NetworkPrefix {
  int family = 0;            // AF_INET or AF_INET6
  uint8_t address[16] = {};  // network byte order; the first 4 bytes for IPv4
  int length = 0;            // prefix length in bits
  std::string text;          // as written in the config
  bool contains(int family, const uint8_t* address) const;
  bool operator==(const NetworkPrefix&) const = default;
};

// A forward server: "192.0.2.1", "192.0.2.1@5353", "9.9.9.9@853#dns.quad9.net".
struct UpstreamServer {
  Endpoint endpoint;
  std::string tls_name;  // non-empty: DNS over TLS, certificate checked against this name
  std::string to_string() const;  // in the config syntax above, always with @port
  bool operator==(const UpstreamServer&) const = default;
};

struct ForwardZone {
  std::string name;  // lowercase, no trailing dot ("corp.example.dk"); "." for the root
  std::vector<UpstreamServer> servers;
  bool insecure = false;  // also a negative trust anchor for the zone
  bool operator==(const ForwardZone&) const = default;
};

struct RateLimit {
  uint32_t qps = 0;  // per client network; 0 = off
  uint32_t burst = 0;  // token bucket depth; the loader makes it at least qps when qps > 0
  unsigned ipv4_prefix = 32;  // a client network: this many leading bits of its address
  unsigned ipv6_prefix = 56;
  bool operator==(const RateLimit&) const = default;
};

// What answers the RFC 6761/6303 zones nobody on the internet can answer for a network
// (10.in-addr.arpa., 168.192.in-addr.arpa., test., home.arpa., ...) when no setting names them.
enum class PrivateZones {
  local,    // libunbound's built-in zones: NXDOMAIN, nothing leaves the resolver
  forward,  // upstream.servers (forward mode only); localhost. and its reverses stay local
};

// DNS over TLS (RFC 7858) and DNS over HTTPS (RFC 8484) for clients: each on when its listen
// addresses are named; one certificate for both.
struct ServerTlsConfig {
  std::vector<Endpoint> listen;  // DNS over TLS; default none; port 853 unless given
  std::vector<Endpoint> doh_listen;  // DNS over HTTPS; default none; port 443 unless given
  std::string doh_path = "/dns-query";  // the path DNS over HTTPS answers on
  std::string certificate;       // PEM: the server's certificate, then its chain
  std::string key;               // PEM: its private key, unencrypted
  std::string client_ca;         // "" = no client certificates; else one chained to these
  bool operator==(const ServerTlsConfig&) const = default;
};

struct ServerConfig {
  std::vector<Endpoint> listen;         // default 127.0.0.1:53 and [::1]:53
  unsigned threads = 0;                 // 0 = auto (number of cores)
  std::vector<NetworkPrefix> allow;     // default: loopback and private ranges
  // Load balancers (dnsdist) that put a PROXY v2 header before each query; default none.
  std::vector<NetworkPrefix> proxy_protocol_from;
  std::chrono::seconds tcp_idle_timeout{10};
  std::chrono::seconds tcp_query_timeout{5};   // first byte of a query to its last
  std::chrono::seconds tcp_write_timeout{10};  // queued replies to all written
  unsigned max_tcp_connections = 1000;
  unsigned max_tcp_connections_per_client = 100;  // IPv4 address or IPv6 /64
  RateLimit rate_limit;
  std::string user = "dnsvagt";
  PrivateZones private_zones = PrivateZones::local;
  ServerTlsConfig tls;
  bool operator==(const ServerConfig&) const = default;
};

enum class UpstreamMode { recursive, forward };

struct UpstreamConfig {
  UpstreamMode mode = UpstreamMode::recursive;
  std::vector<UpstreamServer> servers;
  bool tls = false;
  // The CAs that DNS over TLS forward servers' certificates must chain to, instead of the
  // system bundle; "" = the system bundle. The loader checks it holds a PEM certificate.
  std::string tls_ca_file;
  std::vector<ForwardZone> zones;
  // A client whose query is not resolved within this gets the expired answer if the cache has
  // one, else SERVFAIL; the resolution goes on and its answer is cached for the next asker.
  // The default is RFC 8767's client response timer.
  std::chrono::milliseconds timeout{1800};
  bool operator==(const UpstreamConfig&) const = default;
};

struct DnssecConfig {
  bool validate = true;
  std::string root_trust_anchor_file = "/var/lib/dnsvagt/root.key";  // "" = no root anchor
  std::vector<std::string> trust_anchors;       // zone-file lines of DS or DNSKEY records
  std::vector<std::string> trust_anchor_files;
  std::vector<std::string> insecure_domains;    // lowercase, no trailing dot
  bool operator==(const DnssecConfig&) const = default;
};

struct CacheConfig {
  uint64_t size = 256ull << 20;  // bytes
  bool serve_stale = true;
  bool prefetch = true;
  uint32_t max_ttl = 86400;      // seconds
  bool operator==(const CacheConfig&) const = default;
};

enum class BlockAction { nxdomain, nodata, null, refused, sinkhole };
enum class ListFormat { auto_detect, hosts, domains, adblock, rpz };

// One block or allow list: either `url` (downloaded) or `file` (local), never both.
struct ListSource {
  std::string name;
  std::string url;
  std::string file;
  ListFormat format = ListFormat::auto_detect;
  std::chrono::seconds refresh{3600};
  uint64_t min_entries = 1;
  double max_shrink = 0.5;
  uint64_t max_size = 256ull << 20;
  std::string ca_file;
  // url lists: the lowercase hex SHA-256 a download must have, "" = any content.
  std::string sha256;
  bool operator==(const ListSource&) const = default;
};

struct BlockingConfig {
  BlockAction action = BlockAction::nxdomain;
  std::vector<IpAddress> sinkhole = {IpAddress{AF_INET}, IpAddress{AF_INET6}};  // 0.0.0.0, ::
  uint32_t ttl = 300;
  bool cname_check = true;
  std::string cache_dir = "/var/lib/dnsvagt/lists";
  std::vector<ListSource> lists;
  std::vector<ListSource> allow;
  bool operator==(const BlockingConfig&) const = default;
};

// A group of clients (`clients`) and the policy they get: which block and allow lists apply
// to them and how their blocked queries are answered. A client belongs to the group with the
// longest of all groups' `networks` holding its address (a tie: the first group listed).
struct ClientGroup {
  std::string name;  // unique; [a-z0-9_-], at most 63 characters (the query log's field)
  std::vector<NetworkPrefix> networks;  // a prefix is in one group only
  // Names from blocking.lists and blocking.allow. The loader fills in every list of the kind
  // when the key is absent, so the effective config shows what applies.
  std::vector<std::string> lists;
  std::vector<std::string> allow;
  BlockAction action = BlockAction::nxdomain;  // the loader's default: blocking.action
  // mTLS (server.tls.client_ca): subjects in RFC 4514 form, most specific RDN first; a client
  // whose certificate has one of them, or one below ("OU=guests,O=X" holds "CN=pc1,OU=guests,
  // O=X"), is in this group whatever its address. A subject is in one group only. A group has
  // networks, subjects or both.
  std::vector<std::string> certificate_subjects;
  bool operator==(const ClientGroup&) const = default;
};

struct MetricsConfig {
  std::optional<Endpoint> listen = Endpoint{"127.0.0.1", 9153};  // nullopt ("") = no listener
  bool operator==(const MetricsConfig&) const = default;
};

enum class LogLevel { error, warning, info, debug };

// When the query log starts a new file (logging.query_log_rotate): daily at UTC midnight, or
// before the file would grow past max_bytes.
struct LogRotation {
  uint64_t max_bytes = 0;  // 0 = daily (a size of 0 is not valid config)
  bool daily() const { return max_bytes == 0; }
  std::string to_string() const;  // "daily" or a size such as "512MiB"
  bool operator==(const LogRotation&) const = default;
};

struct LoggingConfig {
  LogLevel level = LogLevel::info;
  std::string query_log;  // "" = off
  LogRotation query_log_rotate;
  std::chrono::seconds query_log_retention{400 * 86400};
  bool operator==(const LoggingConfig&) const = default;
};

// A subdomain of an audited domain: requirement 18 (DNSSEC, with a DS at the parent where it
// is delegated) and 23 (SPF, DMARC) apply to it; DKIM only when it is in the mail flow.
struct AuditSubdomain {
  std::string name;  // normalised like every config name; below its domain
  bool mail_flow = false;
  bool operator==(const AuditSubdomain&) const = default;
};

// One of the authority's own domains, audited for requirements 17, 18, 19, 20 and 23.
struct AuditDomain {
  std::string name;
  std::vector<AuditSubdomain> subdomains;
  std::vector<std::string> dkim_selectors;  // DKIM has no discovery: the selectors to look at
  // Requirement 17's exception: a service run with foreign or international institutions
  // may be outside .dk.
  bool foreign_cooperation = false;
  bool operator==(const AuditDomain&) const = default;
};

struct AuditConfig {
  std::chrono::seconds interval{3600};      // the server's periodic audit; 0 = none
  std::chrono::milliseconds timeout{5000};  // one lookup unanswered by then: "cannot tell"
  std::vector<AuditDomain> domains;
  bool operator==(const AuditConfig&) const = default;
};

struct Config {
  ServerConfig server;
  UpstreamConfig upstream;
  DnssecConfig dnssec;
  CacheConfig cache;
  BlockingConfig blocking;
  std::vector<ClientGroup> clients;  // default none: every client gets every list
  MetricsConfig metrics;
  LoggingConfig logging;
  AuditConfig audit;
  std::string source;  // the file it was loaded from; "" = built-in defaults
  bool operator==(const Config&) const = default;
};

// A config problem, with where it is: what() is "FILE:LINE: KEY: MESSAGE".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The built-in defaults (what runs with no config file).
Config default_config();

// Loads and validates a YAML file; every key is optional, unknown keys are errors.
// Throws ConfigError naming the file, line and key of the first problem.
Config load_config(const std::string& path);

// Loads from YAML text; `source_name` stands in for the file name in errors.
Config parse_config(const std::string& yaml_text, const std::string& source_name);

// The effective config as YAML, in the shape load_config() reads (for check-config).
std::string to_yaml(const Config& config);

// Parsers shared with other modules: "10s", "5m", "1h", "2d" (a bare number is seconds) and
// "256MiB", "512KiB", "1GiB" (a bare number is bytes). Throw std::invalid_argument.
std::chrono::seconds parse_duration(const std::string& text);
// A duration that may be given in milliseconds too: "1800ms", or anything parse_duration takes.
std::chrono::milliseconds parse_short_duration(const std::string& text);
uint64_t parse_size(const std::string& text);
// The largest unit that divides `bytes` exactly ("256MiB", "1000"): what parse_size reads back.
std::string format_size(uint64_t bytes);

const char* to_string(BlockAction action);
const char* to_string(ListFormat format);
const char* to_string(LogLevel level);
const char* to_string(UpstreamMode mode);
const char* to_string(PrivateZones zones);

// Parsers of the config's value syntaxes, shared with other modules (and used by the loader).
// They throw std::invalid_argument whose what() says what is expected and what was given.

// A whole string of decimal digits (no sign, space or 0x); nullopt otherwise or on overflow.
std::optional<uint64_t> parse_decimal(std::string_view text);
// A numeric IPv4 or IPv6 address ("::1", "192.0.2.1").
IpAddress parse_address(const std::string& text);
// "127.0.0.1:53", "[::1]:53", or a bare address with `default_port`; numeric addresses only.
Endpoint parse_endpoint(const std::string& text, uint16_t default_port);
// The socket address of `endpoint`; false if its address is not numeric.
bool make_sockaddr(const Endpoint& endpoint, sockaddr_storage& address, socklen_t& length);
// "192.0.2.1", "192.0.2.1@5353", "9.9.9.9@853#dns.quad9.net", "2001:db8::1@53"; without
// @port the port is 853 when the server uses TLS (`tls` or a #name), else 53.
UpstreamServer parse_upstream_server(const std::string& text, bool tls);
// "10.0.0.0/8", "fc00::/7"; a bare address is a host prefix (/32, /128). Host bits must be 0.
NetworkPrefix parse_prefix(const std::string& text);
// The prefixes as the config wrote them.
std::vector<std::string> prefix_texts(const std::vector<NetworkPrefix>& prefixes);
// A domain name as normalize_domain() makes it (lowercase, Unicode IDNs as punycode, without
// the trailing dot); "." = the root.
std::string normalize_domain_name(const std::string& text);

}  // namespace dnsvagt
