#include "resolver/upstream.h"

#include <event2/event.h>
#include <unbound-event.h>
#include <unbound.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include "resolver/logging.h"
#include "resolver/unbound_config.h"

// Why one context per worker: each context runs on its worker's own event_base, so a query
// never crosses threads or takes a lock between client and libunbound. The alternative, one
// context shared by all workers through the thread-safe ub_resolve, sets up a libunbound worker
// per call: bench/resolver_bench.cc measures 0.36 us per lookup on a per-worker event context
// against 2 ms on a shared one (docs/benchmarks.md, "Design choices, measured").

namespace dnsvagt {

struct Upstream::Request {
  Upstream* upstream;
  Callback done;
  void* context;
  bool validated;  // asked the validating context (sec 0 then means insecure)
};

namespace {

// libunbound logs through a FILE*; this one turns its lines into our log lines and leaves
// out the per-query "validation failure" lines val-log-level 2 produces (the reason reaches
// the client as EDE text instead).
ssize_t write_libunbound_log(void*, const char* data, size_t size) {
  std::string_view text(data, size);
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    // "[1700000000] libunbound[123:0] error: message"
    struct Level {
      const char* tag;
      void (*log)(const char*, ...);
    };
    static const Level kLevels[] = {{" error: ", log_error}, {" warning: ", log_warning},
                                    {" notice: ", log_info},  {" info: ", log_info},
                                    {" debug: ", log_debug}};
    for (const Level& level : kLevels) {
      size_t at = line.find(level.tag);
      if (at == std::string_view::npos) continue;
      std::string_view message = line.substr(at + strlen(level.tag));
      if (message.starts_with("validation failure")) break;
      level.log("libunbound: %.*s", static_cast<int>(message.size()), message.data());
      break;
    }
  }
  return static_cast<ssize_t>(size);
}

FILE* libunbound_log_stream() {
  static FILE* stream = [] {
    cookie_io_functions_t functions = {};
    functions.write = write_libunbound_log;
    FILE* file = fopencookie(nullptr, "w", functions);
    if (file) setvbuf(file, nullptr, _IOLBF, 4096);
    return file;
  }();
  return stream;
}

void ignore_result(void*, int, void*, int, int, char*, int) {}

// Writes `text` into a private temporary directory, hands it to ub_ctx_config and removes it.
int load_config_text(ub_ctx* context, const std::string& text) {
  char directory[] = "/tmp/dnsvagt-unbound-XXXXXX";
  if (!mkdtemp(directory)) return UB_READFILE;
  std::string path = std::string(directory) + "/unbound.conf";
  int result = UB_READFILE;
  if (FILE* file = fopen(path.c_str(), "w")) {
    bool written = fwrite(text.data(), 1, text.size(), file) == text.size();
    if (fclose(file) == 0 && written) result = ub_ctx_config(context, path.c_str());
  }
  unlink(path.c_str());
  rmdir(directory);
  return result;
}

}  // namespace

unsigned Upstream::contexts_per_worker(const Config& config) {
  return config.dnssec.validate ? 2 : 1;
}

ub_ctx* Upstream::make_context(event_base* base, const Config& config, UnboundContextRole role) {
  ub_ctx* context = ub_ctx_create_event(base);
  if (!context) throw std::runtime_error("cannot create a libunbound context");
  if (FILE* log = libunbound_log_stream()) ub_ctx_debugout(context, log);
  int result = load_config_text(context, unbound_config_text(config, role));
  if (result == 0) {
    // Makes libunbound apply its config and read the trust anchors now, not at the first
    // client query; "localhost." is answered from a built-in local zone, never sent out.
    result = ub_resolve_event(context, "localhost.", 1, 1, nullptr, ignore_result, nullptr);
  }
  if (result != 0) {
    ub_ctx_delete(context);
    throw std::runtime_error(std::string("cannot start libunbound (") +
                             (role.refresh     ? "prefetch"
                              : role.validating ? "validating"
                                                : "non-validating") +
                             " context): " + ub_strerror(result) +
                             "; see the libunbound messages above" +
                             (forwards_over_tls(config.upstream)
                                  ? " (DNS over TLS to forwarders needs a libunbound built "
                                    "with OpenSSL, which Debian 12's is not: README, Known "
                                    "issues)"
                                  : ""));
  }
  return context;
}

Upstream::Upstream(event_base* base, const Config& config, unsigned contexts_in_process)
    : validation_enabled_(config.dnssec.validate) {
  validating_ = make_context(base, config, {validation_enabled_, contexts_in_process});
  checking_disabled_ = refreshing_ = validating_;
  try {
    if (validation_enabled_) {
      checking_disabled_ = make_context(base, config, {false, contexts_in_process});
    }
    if (config.cache.prefetch) {
      refreshing_ = make_context(base, config, {validation_enabled_, contexts_in_process, true});
    }
  } catch (...) {
    if (checking_disabled_ != validating_) ub_ctx_delete(checking_disabled_);
    ub_ctx_delete(validating_);
    throw;
  }
}

Upstream::~Upstream() {
  if (refreshing_ != validating_) ub_ctx_delete(refreshing_);
  if (checking_disabled_ != validating_) ub_ctx_delete(checking_disabled_);
  ub_ctx_delete(validating_);
  for (Request* request : in_flight_) delete request;
}

bool Upstream::resolve(const std::string& name, uint16_t qtype, uint16_t qclass,
                       bool checking_disabled, bool refresh, Callback done, void* context) {
  bool validated = validation_enabled_ && !checking_disabled;
  auto* request = new Request{this, done, context, validated};
  in_flight_.insert(request);
  ub_ctx* resolver = !validated ? checking_disabled_ : refresh ? refreshing_ : validating_;
  int result = ub_resolve_event(resolver, name.c_str(), qtype, qclass, request, on_result,
                                nullptr);
  if (result != 0) {
    // libunbound calls back only for queries it started.
    if (in_flight_.erase(request)) delete request;
    return false;
  }
  return true;
}

void Upstream::on_result(void* opaque, int rcode, void* packet, int packet_length, int sec,
                         char* why_bogus, int) {
  auto* request = static_cast<Request*>(opaque);
  request->upstream->in_flight_.erase(request);
  UpstreamReply reply;
  reply.rcode = rcode;
  if (rcode == 0 && packet) {
    reply.packet = {static_cast<const uint8_t*>(packet), static_cast<size_t>(packet_length)};
  }
  if (!request->validated) {
    reply.status = DnssecStatus::indeterminate;
  } else {
    reply.status = sec == 2   ? DnssecStatus::secure
                   : sec == 1 ? DnssecStatus::bogus
                              : DnssecStatus::insecure;
  }
  if (why_bogus) reply.why_bogus = why_bogus;
  Callback done = request->done;
  void* context = request->context;
  delete request;
  done(context, reply);
}

uint16_t ede_code_for_bogus(std::string_view why_bogus) {
  // Substrings of the reasons libunbound 1.17's validator writes (validator/val_sigcrypt.c,
  // validator/validator.c), matched case-insensitively in this order ("No DNSKEY record" and
  // "no DNSKEY rrset" are both key failures), as the Unbound daemon with `ede: yes` classifies
  // the same failures.
  struct Reason {
    const char* text;
    uint16_t code;
  };
  static const Reason kReasons[] = {
      {"signature expired", 7},
      {"signature before inception", 8},
      {"not yet valid", 8},
      {"no DNSKEY", 9},
      {"DNSKEY missing", 9},
      {"no keys", 9},
      {"RRSIGs missing", 10},
      {"no signatures", 10},
      {"NSEC missing", 12},
      {"no NSEC", 12},
  };
  auto contains = [why_bogus](std::string_view text) {
    auto same = [](char a, char b) { return std::tolower(uint8_t(a)) == std::tolower(uint8_t(b)); };
    return std::search(why_bogus.begin(), why_bogus.end(), text.begin(), text.end(), same) !=
           why_bogus.end();
  };
  for (const Reason& reason : kReasons) {
    if (contains(reason.text)) return reason.code;
  }
  return 6;
}

uint16_t ede_code_for_failure(int rcode) {
  // libunbound reports SERVFAIL when no authority (or forwarder) gave a usable answer;
  // anything else means it could not even get the query out.
  return rcode == 2 ? 22 : 23;
}

}  // namespace dnsvagt
