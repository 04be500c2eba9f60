#include "resolver/unbound_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <sstream>

#include "dns/dns_name.h"
#include "resolver/trust_anchor.h"

namespace dnsvagt {
namespace {

constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";
constexpr uint64_t kMinContextCache = 1ull << 20;
constexpr unsigned kNoCache = 64;  // bytes: less than any cache entry

// A value for the config file: quoted, with the quote that does not occur in it.
std::string quoted(const std::string& value) {
  char quote = value.find('"') == std::string::npos ? '"' : '\'';
  return quote + value + quote;
}

std::string absolute_name(const std::string& name) {
  if (name.empty() || name.back() == '.') return name.empty() ? "." : name;
  return name + ".";
}

// The addresses do-not-query-localhost keeps libunbound from: 127.0.0.0/8 and ::1.
bool is_loopback(const UpstreamServer& server) {
  const std::string& address = server.endpoint.address;
  in_addr v4;
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  return inet_pton(AF_INET6, address.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

bool any_loopback_forwarder(const UpstreamConfig& upstream) {
  auto on_loopback = [](const std::vector<UpstreamServer>& servers) {
    return std::any_of(servers.begin(), servers.end(), is_loopback);
  };
  return on_loopback(upstream.servers) ||
         std::any_of(upstream.zones.begin(), upstream.zones.end(),
                     [&](const ForwardZone& zone) { return on_loopback(zone.servers); });
}

// Below the root, every name the operator gave a path of its own: a forwarded zone, a
// negative trust anchor, the zone of a trust anchor. (The root is the default path anyway.)
std::vector<DnsName> configured_names(const Config& config) {
  std::vector<std::string> texts = config.dnssec.insecure_domains;
  for (const ForwardZone& zone : config.upstream.zones) texts.push_back(zone.name);
  for (const std::string& anchor : config.dnssec.trust_anchors) {
    texts.push_back(trust_anchor_owner(anchor));
  }
  for (const std::string& file : config.dnssec.trust_anchor_files) {
    for (std::string& owner : trust_anchor_file_owners(file)) texts.push_back(std::move(owner));
  }
  std::vector<DnsName> names;
  for (const std::string& text : texts) {
    std::optional<DnsName> name = DnsName::from_text(text);
    if (name && name->label_count() > 0) names.push_back(*name);
  }
  return names;
}

// The built-in zones that must not answer: each one at, above or below a configured name (a
// DS query for a zone cut is answered by the zone above it, so a built-in test. would deny the
// DS of a forwarded lab.test.), and with private_zones: forward all but the loopback ones. A
// loopback zone goes only for a name inside it: forwarding in-addr.arpa. to a domain
// controller must not send 127.0.0.1's PTR query there.
std::vector<std::string> builtin_zones_to_resolve(const Config& config) {
  std::vector<DnsName> configured = configured_names(config);
  bool forward_private = config.server.private_zones == PrivateZones::forward;
  std::vector<std::string> zones;
  for (const BuiltInZone& zone : builtin_local_zones()) {
    DnsName apex = *DnsName::from_text(zone.name);
    bool named = std::any_of(configured.begin(), configured.end(), [&](const DnsName& name) {
      return name.is_subdomain_of(apex) || (!zone.loopback && apex.is_subdomain_of(name));
    });
    if (named || (forward_private && !zone.loopback)) zones.push_back(zone.name);
  }
  return zones;
}

bool uses_tls(const UpstreamConfig& upstream, const std::vector<UpstreamServer>& servers) {
  return upstream.tls || std::any_of(servers.begin(), servers.end(),
                                     [](const UpstreamServer& s) { return !s.tls_name.empty(); });
}

}  // namespace

bool forwards_over_tls(const UpstreamConfig& upstream) {
  bool any = uses_tls(upstream, upstream.servers);
  for (const ForwardZone& zone : upstream.zones) any |= uses_tls(upstream, zone.servers);
  return any;
}

namespace {

void write_forward_zone(std::ostream& out, const std::string& name,
                        const std::vector<UpstreamServer>& servers, bool tls) {
  out << "forward-zone:\n  name: " << quoted(absolute_name(name)) << "\n";
  for (const UpstreamServer& server : servers) {
    out << "  forward-addr: " << quoted(forward_addr_text(server)) << "\n";
  }
  if (tls) out << "  forward-tls-upstream: yes\n";
}

}  // namespace

const std::vector<BuiltInZone>& builtin_local_zones() {
  // As `unbound-control list_local_zones` shows them for Unbound 1.17.1 with no local-zone
  // settings (102 zones); services/localzone.c, local_zone_enter_defaults().
  static const std::vector<BuiltInZone> zones = [] {
    std::string ip6_zeros;
    for (int i = 0; i < 31; ++i) ip6_zeros += "0.";
    std::vector<BuiltInZone> list = {
        {"localhost.", true},
        {"127.in-addr.arpa.", true},
        {"1." + ip6_zeros + "ip6.arpa.", true},
        {"home.arpa."},
        {"onion."},
        {"test."},
        {"invalid."},
        {"10.in-addr.arpa."},  // RFC 1918; 172.16/12 below
        {"168.192.in-addr.arpa."},
        {"0.in-addr.arpa."},  // RFC 5735: this network, link local, TEST-NET-1..3, broadcast
        {"254.169.in-addr.arpa."},
        {"2.0.192.in-addr.arpa."},
        {"100.51.198.in-addr.arpa."},
        {"113.0.203.in-addr.arpa."},
        {"255.255.255.255.in-addr.arpa."},
        {"0." + ip6_zeros + "ip6.arpa."},  // the unspecified address
        {"d.f.ip6.arpa."},                 // unique local addresses
        {"8.e.f.ip6.arpa."},               // link local
        {"9.e.f.ip6.arpa."},
        {"a.e.f.ip6.arpa."},
        {"b.e.f.ip6.arpa."},
        {"8.b.d.0.1.0.0.2.ip6.arpa."},  // the documentation prefix 2001:db8::/32
    };
    for (int i = 16; i <= 31; ++i) list.push_back({std::to_string(i) + ".172.in-addr.arpa."});
    // RFC 6598 shared address space, 100.64.0.0/10.
    for (int i = 64; i <= 127; ++i) list.push_back({std::to_string(i) + ".100.in-addr.arpa."});
    return list;
  }();
  return zones;
}

std::string forward_addr_text(const UpstreamServer& server) {
  std::string text = server.endpoint.address + "@" + std::to_string(server.endpoint.port);
  if (!server.tls_name.empty()) text += "#" + server.tls_name;
  return text;
}

uint64_t answer_cache_bytes(const CacheConfig& cache) { return cache.size / 4 * 3; }

std::string unbound_config_text(const Config& config, UnboundContextRole role) {
  const UpstreamConfig& upstream = config.upstream;
  const DnssecConfig& dnssec = config.dnssec;
  bool validating = role.validating && dnssec.validate;

  uint64_t per_context =
      std::max(kMinContextCache, (config.cache.size - answer_cache_bytes(config.cache)) /
                                     std::max(1u, role.contexts));
  std::ostringstream out;
  out << "server:\n";
  out << "  verbosity: " << (config.logging.level == LogLevel::debug ? 1 : 0) << "\n";
  out << "  module-config: " << (validating ? "\"validator iterator\"" : "\"iterator\"") << "\n";
  if (role.refresh) {
    // Smaller than one entry per slab: whatever is stored is evicted at once. The key cache
    // keeps its default, so validating a refresh does not refetch the chain of trust.
    out << "  msg-cache-size: " << kNoCache << "\n";
    out << "  rrset-cache-size: " << kNoCache << "\n";
  } else {
    // The rrset cache holds the records, the message cache only references them: 1/3 to 2/3.
    out << "  msg-cache-size: " << per_context / 3 << "\n";
    out << "  rrset-cache-size: " << per_context / 3 * 2 << "\n";
  }
  // libunbound's default of 16 ports in flight throttles a busy forwarder to a crawl.
  out << "  outgoing-range: 1024\n";
  out << "  num-queries-per-thread: 2048\n";
  // A forwarder on this host (a local cache, a test world) must be reachable; otherwise
  // loopback stays off limits, where a delegation to it is a mistake or aims at local services.
  if (any_loopback_forwarder(upstream)) out << "  do-not-query-localhost: no\n";
  // Level 2 makes libunbound explain bogus answers (why_bogus), which becomes the EDE text.
  out << "  val-log-level: 2\n";
  out << "  ede: yes\n";
  // Serve-stale is the front cache's (TTL 30 and EDE 3, RFC 8767): libunbound serving its
  // own expired copies would hand them over as fresh answers.
  out << "  serve-expired: no\n";

  if (forwards_over_tls(upstream)) {
    const std::string& bundle =
        upstream.tls_ca_file.empty() ? std::string(kSystemCaBundle) : upstream.tls_ca_file;
    out << "  tls-cert-bundle: " << quoted(bundle) << "\n";
  }

  if (validating) {
    if (!dnssec.root_trust_anchor_file.empty()) {
      out << "  auto-trust-anchor-file: " << quoted(dnssec.root_trust_anchor_file) << "\n";
    }
    for (const std::string& anchor : dnssec.trust_anchors) {
      out << "  trust-anchor: " << quoted(anchor) << "\n";
    }
    for (const std::string& file : dnssec.trust_anchor_files) {
      out << "  trust-anchor-file: " << quoted(file) << "\n";
    }
  }
  // Built-in local zones answer RFC 6761/6303 names (test., 10.in-addr.arpa., ...) without
  // asking anyone; a name the operator configured in one of them must be resolved instead.
  for (const std::string& zone : builtin_zones_to_resolve(config)) {
    out << "  local-zone: " << quoted(zone) << " nodefault\n";
  }
  std::vector<std::string> insecure = dnssec.insecure_domains;
  for (const ForwardZone& zone : upstream.zones) {
    if (zone.insecure) insecure.push_back(zone.name);
  }
  if (validating) {
    for (const std::string& zone : insecure) {
      out << "  domain-insecure: " << quoted(absolute_name(zone)) << "\n";
    }
  }

  if (upstream.mode == UpstreamMode::forward) {
    write_forward_zone(out, ".", upstream.servers, uses_tls(upstream, upstream.servers));
  }
  for (const ForwardZone& zone : upstream.zones) {
    write_forward_zone(out, zone.name, zone.servers, uses_tls(upstream, zone.servers));
  }
  return out.str();
}

}  // namespace dnsvagt
