// Writing a Config back as YAML (check-config's output): every key present, in the shape that
// parse_config() reads, so that reading the output gives the same Config.
#include <yaml-cpp/yaml.h>

#include <charconv>

#include "config/config.h"

namespace dnsvagt {
namespace {

// The largest unit that divides the value exactly, so that 86400s prints as 1d.
std::string format_duration(std::chrono::seconds duration) {
  int64_t seconds = duration.count();
  for (auto [unit, suffix] : {std::pair{86400, "d"}, std::pair{3600, "h"}, std::pair{60, "m"}}) {
    if (seconds != 0 && seconds % unit == 0) return std::to_string(seconds / unit) + suffix;
  }
  return std::to_string(seconds) + "s";
}

// Whole seconds as format_duration writes them, else milliseconds ("1800ms").
std::string format_short_duration(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0) {
    return format_duration(std::chrono::duration_cast<std::chrono::seconds>(duration));
  }
  return std::to_string(duration.count()) + "ms";
}

// The shortest text that reads back as the same double.
std::string format_number(double value) {
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

// Emits key/value pairs; every string value double-quoted so that addresses such as "::" and
// texts such as "" read back as the same strings.
class YamlWriter {
 public:
  YAML::Emitter& out() { return out_; }
  void key(const char* name) { out_ << YAML::Key << name << YAML::Value; }
  void text(const char* name, const std::string& value) {
    key(name);
    out_ << YAML::DoubleQuoted << value;
  }
  void plain(const char* name, const std::string& value) {
    key(name);
    out_ << value;
  }
  void number(const char* name, uint64_t value) {
    key(name);
    out_ << value;
  }
  void boolean(const char* name, bool value) {
    key(name);
    out_ << (value ? "true" : "false");
  }
  void texts(const char* name, const std::vector<std::string>& values) {
    key(name);
    out_ << YAML::Flow << YAML::BeginSeq;
    for (const std::string& value : values) out_ << YAML::DoubleQuoted << value;
    out_ << YAML::EndSeq;
  }
  // A list of maps: block style, but "[]" when empty.
  void begin_list(const char* name, bool empty) {
    key(name);
    if (empty) out_ << YAML::Flow;
    out_ << YAML::BeginSeq;
  }
  void begin_section(const char* name) {
    key(name);
    out_ << YAML::BeginMap;
  }
  void end_section() { out_ << YAML::EndMap; }

 private:
  YAML::Emitter out_;
};

// "127.0.0.1:53", "192.0.2.1@853#dns.example", ... of endpoints or upstream servers.
template <typename Each>
std::vector<std::string> texts_of(const std::vector<Each>& values) {
  std::vector<std::string> texts;
  for (const Each& value : values) texts.push_back(value.to_string());
  return texts;
}

void write_lists(YamlWriter& w, const char* name, const std::vector<ListSource>& lists) {
  w.begin_list(name, lists.empty());
  for (const ListSource& list : lists) {
    w.out() << YAML::BeginMap;
    w.text("name", list.name);
    w.text("url", list.url);
    w.text("file", list.file);
    w.plain("format", to_string(list.format));
    w.plain("refresh", format_duration(list.refresh));
    w.number("min_entries", list.min_entries);
    w.plain("max_shrink", format_number(list.max_shrink));
    w.plain("max_size", format_size(list.max_size));
    w.text("ca_file", list.ca_file);
    w.text("sha256", list.sha256);
    w.out() << YAML::EndMap;
  }
  w.out() << YAML::EndSeq;
}

}  // namespace

std::string to_yaml(const Config& config) {
  YamlWriter w;
  w.out() << YAML::Comment("effective dnsvagt config, from " +
                           (config.source.empty() ? "built-in defaults" : config.source));
  w.out() << YAML::BeginMap;

  const ServerConfig& server = config.server;
  w.begin_section("server");
  w.texts("listen", texts_of(server.listen));
  w.plain("threads", server.threads == 0 ? "auto" : std::to_string(server.threads));
  for (auto [key, prefixes] : {std::pair{"allow", &server.allow},
                                std::pair{"proxy_protocol_from", &server.proxy_protocol_from}}) {
    w.texts(key, prefix_texts(*prefixes));
  }
  w.plain("tcp_idle_timeout", format_duration(server.tcp_idle_timeout));
  w.plain("tcp_query_timeout", format_duration(server.tcp_query_timeout));
  w.plain("tcp_write_timeout", format_duration(server.tcp_write_timeout));
  w.number("max_tcp_connections", server.max_tcp_connections);
  w.number("max_tcp_connections_per_client", server.max_tcp_connections_per_client);
  w.key("rate_limit");
  w.out() << YAML::Flow << YAML::BeginMap;
  w.number("qps", server.rate_limit.qps);
  w.number("burst", server.rate_limit.burst);
  w.number("ipv4_prefix", server.rate_limit.ipv4_prefix);
  w.number("ipv6_prefix", server.rate_limit.ipv6_prefix);
  w.out() << YAML::EndMap;
  w.text("user", server.user);
  w.plain("private_zones", to_string(server.private_zones));
  w.key("tls");
  w.out() << YAML::BeginMap;
  w.texts("listen", texts_of(server.tls.listen));
  w.texts("doh_listen", texts_of(server.tls.doh_listen));
  w.text("doh_path", server.tls.doh_path);
  w.text("certificate", server.tls.certificate);
  w.text("key", server.tls.key);
  w.text("client_ca", server.tls.client_ca);
  w.out() << YAML::EndMap;
  w.end_section();

  const UpstreamConfig& upstream = config.upstream;
  w.begin_section("upstream");
  w.plain("mode", to_string(upstream.mode));
  w.texts("servers", texts_of(upstream.servers));
  w.boolean("tls", upstream.tls);
  w.text("tls_ca_file", upstream.tls_ca_file);
  w.plain("timeout", format_short_duration(upstream.timeout));
  w.begin_list("zones", upstream.zones.empty());
  for (const ForwardZone& zone : upstream.zones) {
    w.out() << YAML::Flow << YAML::BeginMap;
    w.text("name", zone.name);
    w.texts("servers", texts_of(zone.servers));
    w.boolean("insecure", zone.insecure);
    w.out() << YAML::EndMap;
  }
  w.out() << YAML::EndSeq;
  w.end_section();

  const DnssecConfig& dnssec = config.dnssec;
  w.begin_section("dnssec");
  w.boolean("validate", dnssec.validate);
  w.text("root_trust_anchor_file", dnssec.root_trust_anchor_file);
  w.texts("trust_anchors", dnssec.trust_anchors);
  w.texts("trust_anchor_files", dnssec.trust_anchor_files);
  w.texts("insecure_domains", dnssec.insecure_domains);
  w.end_section();

  const CacheConfig& cache = config.cache;
  w.begin_section("cache");
  w.plain("size", format_size(cache.size));
  w.boolean("serve_stale", cache.serve_stale);
  w.boolean("prefetch", cache.prefetch);
  w.number("max_ttl", cache.max_ttl);
  w.end_section();

  const BlockingConfig& blocking = config.blocking;
  w.begin_section("blocking");
  w.plain("action", to_string(blocking.action));
  std::vector<std::string> sinkhole;
  for (const IpAddress& address : blocking.sinkhole) sinkhole.push_back(address.to_string());
  w.texts("sinkhole", sinkhole);
  w.number("ttl", blocking.ttl);
  w.boolean("cname_check", blocking.cname_check);
  w.text("cache_dir", blocking.cache_dir);
  write_lists(w, "lists", blocking.lists);
  write_lists(w, "allow", blocking.allow);
  w.end_section();

  w.begin_list("clients", config.clients.empty());
  for (const ClientGroup& group : config.clients) {
    w.out() << YAML::BeginMap;
    w.text("name", group.name);
    w.texts("networks", prefix_texts(group.networks));
    w.texts("certificate_subjects", group.certificate_subjects);
    w.texts("lists", group.lists);
    w.texts("allow", group.allow);
    w.plain("action", to_string(group.action));
    w.out() << YAML::EndMap;
  }
  w.out() << YAML::EndSeq;

  w.begin_section("metrics");
  w.text("listen", config.metrics.listen ? config.metrics.listen->to_string() : "");
  w.end_section();

  const LoggingConfig& logging = config.logging;
  w.begin_section("logging");
  w.plain("level", to_string(logging.level));
  w.text("query_log", logging.query_log);
  w.text("query_log_rotate", logging.query_log_rotate.to_string());
  w.plain("query_log_retention", format_duration(logging.query_log_retention));
  w.end_section();

  const AuditConfig& audit = config.audit;
  w.begin_section("audit");
  w.plain("interval", format_duration(audit.interval));
  w.plain("timeout", format_short_duration(audit.timeout));
  w.begin_list("domains", audit.domains.empty());
  for (const AuditDomain& domain : audit.domains) {
    w.out() << YAML::BeginMap;
    w.text("name", domain.name);
    w.begin_list("subdomains", domain.subdomains.empty());
    for (const AuditSubdomain& subdomain : domain.subdomains) {
      w.out() << YAML::Flow << YAML::BeginMap;
      w.text("name", subdomain.name);
      w.boolean("mail_flow", subdomain.mail_flow);
      w.out() << YAML::EndMap;
    }
    w.out() << YAML::EndSeq;
    w.texts("dkim_selectors", domain.dkim_selectors);
    w.boolean("foreign_cooperation", domain.foreign_cooperation);
    w.out() << YAML::EndMap;
  }
  w.out() << YAML::EndSeq;
  w.end_section();

  w.out() << YAML::EndMap;
  return std::string(w.out().c_str()) + "\n";
}

}  // namespace dnsvagt
