#include "metrics/metrics_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/config.h"
#include "metrics/compliance.h"
#include "metrics/exposition.h"

namespace dnsvagt {

namespace {

bool wants_json(const evhttp_uri* uri) {
  const char* query = evhttp_uri_get_query(uri);
  if (!query) return false;
  evkeyvalq parameters;
  if (evhttp_parse_query_str(query, &parameters) != 0) return false;
  const char* format = evhttp_find_header(&parameters, "format");
  bool json = format && std::strcmp(format, "json") == 0;
  evhttp_clear_headers(&parameters);
  return json;
}

// The input filter of a refused connection: nothing it sends reaches evhttp.
bufferevent_filter_result discard_input(evbuffer* source, evbuffer*, ev_ssize_t,
                                        bufferevent_flush_mode, void*) {
  evbuffer_drain(source, evbuffer_get_length(source));
  return BEV_OK;
}

void reply(evhttp_request* request, int status, const char* reason, const char* content_type,
           const std::string& body) {
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Content-Type", content_type);
  evhttp_add_header(headers, "Cache-Control", "no-store");
  evbuffer* buffer = evbuffer_new();
  evbuffer_add(buffer, body.data(), body.size());
  evhttp_send_reply(request, status, reason, buffer);
  evbuffer_free(buffer);
}

}  // namespace

MetricsServer::MetricsServer(const Endpoint& listen, const Metrics& metrics,
                             const MetricsServerLimits& limits)
    : metrics_(metrics), max_connections_(limits.max_connections) {
  const std::string where = "metrics.listen \"" + listen.to_string() + "\": ";
  sockaddr_storage address;
  socklen_t address_length = 0;
  if (!make_sockaddr(listen, address, address_length)) {
    throw MetricsServerError(where + "not a numeric IPv4 or IPv6 address");
  }
  base_ = event_base_new();
  http_ = base_ ? evhttp_new(base_) : nullptr;
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  stop_event_ = base_ && stop_fd_ >= 0
                    ? event_new(base_, stop_fd_, EV_READ, &MetricsServer::handle_stop, this)
                    : nullptr;
  refuse_event_ = base_ ? event_new(base_, -1, 0, &MetricsServer::refuse_pending, this) : nullptr;
  if (!http_ || !stop_event_ || !refuse_event_ || event_add(stop_event_, nullptr) != 0) {
    release();
    throw MetricsServerError(where + "cannot set up the HTTP server");
  }
  evconnlistener* listener =
      evconnlistener_new_bind(base_, nullptr, nullptr,
                              LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
                              -1, reinterpret_cast<sockaddr*>(&address), address_length);
  if (!listener) {
    std::string error = std::strerror(errno);
    release();
    throw MetricsServerError(where + "cannot listen: " + error);
  }
  evhttp_bind_listener(http_, listener);  // http_ owns it now
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  getsockname(evconnlistener_get_fd(listener), reinterpret_cast<sockaddr*>(&bound), &bound_length);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
  evhttp_set_timeout(http_, static_cast<int>(limits.timeout.count()));
  evhttp_set_max_headers_size(http_, limits.max_header_bytes);
  evhttp_set_max_body_size(http_, 0);
  evhttp_set_bevcb(http_, &MetricsServer::open_connection, this);
  evhttp_set_gencb(http_, &MetricsServer::handle_request, this);
  thread_ = std::thread([base = base_] { event_base_dispatch(base); });
}

MetricsServer::~MetricsServer() {
  uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof one) != sizeof one) {
    // Cannot happen for an eventfd far below its maximum count; without the wake-up, join()
    // would hang forever.
    std::terminate();
  }
  thread_.join();
  release();
}

void MetricsServer::release() {
  if (stop_event_) event_free(stop_event_);
  if (refuse_event_) event_free(refuse_event_);
  if (http_) evhttp_free(http_);
  for (bufferevent* connection : connections_) bufferevent_decref(connection);
  for (bufferevent* refused : refusing_) bufferevent_decref(refused);
  if (base_) event_base_free(base_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

void MetricsServer::handle_stop(int, short, void* server) {
  event_base_loopbreak(static_cast<MetricsServer*>(server)->base_);
}

// evhttp 2.1 has no connection limit (evhttp_set_max_connections is 2.2's) and tells nothing
// of a connection's end. So the server makes each connection's bufferevent and keeps a
// reference to it: freed by evhttp, it has no callbacks left (bufferevent_free clears them)
// but lives on, its socket half closed, until the next connection counts the open ones and
// lets it go. At most max_connections sockets wait so.
bufferevent* MetricsServer::open_connection(event_base* base, void* context) {
  auto* server = static_cast<MetricsServer*>(context);
  server->forget_closed();
  // On failure evhttp makes a bufferevent of its own: uncounted, but only when memory runs out.
  bufferevent* socket = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  if (!socket) return nullptr;
  if (server->connections_.size() < server->max_connections_) {
    bufferevent_incref(socket);
    server->connections_.push_back(socket);
    return socket;
  }
  // Refused: nothing it sends reaches evhttp, and once evhttp has given the bufferevent its
  // socket (before this accept's callback returns), refuse_pending() shuts that down.
  bufferevent* refused = bufferevent_filter_new(socket, &discard_input, nullptr,
                                                BEV_OPT_CLOSE_ON_FREE, nullptr, nullptr);
  if (!refused) return socket;  // uncounted, as above
  bufferevent_incref(refused);
  server->refusing_.push_back(refused);
  event_active(server->refuse_event_, EV_TIMEOUT, 0);
  return refused;
}

void MetricsServer::forget_closed() {
  std::erase_if(connections_, [](bufferevent* connection) {
    bufferevent_event_cb event_callback = nullptr;
    bufferevent_getcb(connection, nullptr, nullptr, &event_callback, nullptr);
    if (event_callback != nullptr) return false;  // evhttp's, set as long as it uses it
    bufferevent_decref(connection);
    return true;
  });
}

void MetricsServer::refuse_pending(int, short, void* context) {
  auto* server = static_cast<MetricsServer*>(context);
  for (bufferevent* refused : server->refusing_) {
    // evhttp reads the end of the connection and frees it. A socket evhttp has let go of
    // already needs no shutdown, so its result does not matter.
    if (const evutil_socket_t fd = bufferevent_getfd(refused); fd >= 0) {
      (void)shutdown(fd, SHUT_RDWR);
    }
    bufferevent_decref(refused);
  }
  server->refusing_.clear();
}

void MetricsServer::handle_request(evhttp_request* request, void* server) {
  static_cast<MetricsServer*>(server)->serve(request);
}

void MetricsServer::serve(evhttp_request* request) {
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  std::string path = uri && evhttp_uri_get_path(uri) ? evhttp_uri_get_path(uri) : "";
  try {
    if (path == "/metrics") {
      reply(request, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
            exposition_text(metric_families(metrics_.snapshot())));
    } else if (path == "/healthz") {
      reply(request, 200, "OK", "text/plain; charset=utf-8", "ok\n");
    } else if (path == "/compliance.json" || (path == "/compliance" && wants_json(uri))) {
      reply(request, 200, "OK", "application/json",
            to_json(build_compliance_report(metrics_.snapshot())));
    } else if (path == "/compliance") {
      reply(request, 200, "OK", "text/html; charset=utf-8",
            to_html(build_compliance_report(metrics_.snapshot())));
    } else {
      reply(request, 404, "Not Found", "text/plain; charset=utf-8", "not found\n");
    }
  } catch (const std::exception& error) {
    reply(request, 500, "Internal Server Error", "text/plain; charset=utf-8",
          std::string(error.what()) + "\n");
  }
}

}  // namespace dnsvagt
