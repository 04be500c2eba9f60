#include "resolver/doh_session.h"

#include <http_parser.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dns/ascii_text.h"
#include "resolver/doh_request.h"

namespace dnsvagt {
namespace {

// An HTTP/1.1 request line and its headers beyond this are refused (400): no DoH request
// needs them (a GET of the largest DNS message fits).
constexpr size_t kMaxTarget = 90 * 1024;
// Concurrent HTTP/2 streams per connection, as the TCP transport's queries waiting per
// connection: a client gets no more room over HTTP/2 than over DNS over TLS.
constexpr uint32_t kMaxStreams = 64;

constexpr std::string_view kDnsMessage = "application/dns-message";

// What one request has said so far, and its answer once there is one.
struct Request {
  std::string method;
  std::string target;
  std::string content_type;
  std::vector<uint8_t> body;
  bool body_too_large = false;

  void add_body(std::span<const uint8_t> data) {
    if (body_too_large) return;
    if (body.size() + data.size() > kMaxDohMessage) {
      body_too_large = true;
      body = {};
      return;
    }
    body.insert(body.end(), data.begin(), data.end());
  }
  DohJudgement judge(std::string_view path) const {
    return judge_doh_request({method, target, content_type, body, body_too_large}, path);
  }
};

std::string max_age_value(std::span<const uint8_t> answer) {
  const std::optional<uint32_t> age = doh_max_age(answer);
  return age ? "max-age=" + std::to_string(*age) : std::string();
}

// The path and query of an HTTP/1.1 request target in absolute-form
// ("https://doh.example/dns-query?dns=..."), which a server must accept (RFC 9112 3.2.2);
// any other target as it is.
std::string origin_form(const std::string& target) {
  if (target.empty() || target.front() == '/') return target;
  http_parser_url url;
  http_parser_url_init(&url);
  if (http_parser_parse_url(target.data(), target.size(), 0, &url) != 0 ||
      !(url.field_set & (1 << UF_SCHEMA))) {
    return target;
  }
  auto field = [&](http_parser_url_fields which) {
    return target.substr(url.field_data[which].off, url.field_data[which].len);
  };
  std::string origin = url.field_set & (1 << UF_PATH) ? field(UF_PATH) : "/";
  if (url.field_set & (1 << UF_QUERY)) origin += "?" + field(UF_QUERY);
  return origin;
}

// ---------------------------------------------------------------------------------------------
// HTTP/2 (RFC 9113) through an nghttp2 server session; each stream is one request.

class Http2Session final : public DohSession {
 public:
  Http2Session(std::string path, Peer& peer) : path_(std::move(path)), peer_(peer) {
    nghttp2_session_callbacks* callbacks = nullptr;
    if (nghttp2_session_callbacks_new(&callbacks) != 0) throw std::bad_alloc();
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
    const int made = nghttp2_session_server_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    if (made != 0) throw std::bad_alloc();
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxStreams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, kMaxTarget},
    };
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    flush();
  }
  ~Http2Session() override { nghttp2_session_del(session_); }

  size_t receive(std::span<const uint8_t> bytes) override {
    receiving_ = true;
    const ssize_t taken = nghttp2_session_mem_recv(session_, bytes.data(), bytes.size());
    receiving_ = false;
    // A protocol error: nghttp2 has queued its GOAWAY; after it the connection ends.
    if (taken < 0) broken_ = true;
    flush();
    return bytes.size();
  }
  bool reading() const override { return !broken_; }

  void reply(uint32_t request, std::span<const uint8_t> answer) override {
    auto found = streams_.find(static_cast<int32_t>(request));
    if (found == streams_.end() || found->second.answered) return;
    Stream& stream = found->second;
    stream.answered = true;
    stream.answer.assign(answer.begin(), answer.end());
    unsent_ += answer.size();
    respond(static_cast<int32_t>(request), 200, max_age_value(answer), true);
  }
  void drop(uint32_t request) override {
    auto found = streams_.find(static_cast<int32_t>(request));
    if (found == streams_.end() || found->second.answered) return;
    found->second.answered = true;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, static_cast<int32_t>(request),
                              NGHTTP2_CANCEL);
    flush();
  }
  void shut_down() override {
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
    flush();
  }
  bool finished() const override {
    return broken_ || (!nghttp2_session_want_read(session_) &&
                       !nghttp2_session_want_write(session_));
  }
  size_t unsent() const override { return unsent_; }

 private:
  struct Stream {
    Request request;
    bool answered = false;
    std::vector<uint8_t> answer;
    size_t sent = 0;  // of `answer`
  };

  // Writes out what nghttp2 has queued, unless inside its receive (which must not send).
  void flush() {
    if (receiving_) return;
    for (;;) {
      const uint8_t* data = nullptr;
      const ssize_t length = nghttp2_session_mem_send(session_, &data);
      if (length <= 0) {
        if (length < 0) broken_ = true;
        return;
      }
      peer_.write({data, static_cast<size_t>(length)});
    }
  }

  void respond(int32_t stream_id, int status, const std::string& max_age, bool with_body) {
    const std::string status_text = std::to_string(status);
    Stream& stream = streams_.at(stream_id);
    const std::string length = std::to_string(with_body ? stream.answer.size() : 0);
    std::vector<nghttp2_nv> headers;
    auto add = [&headers](std::string_view name, std::string_view value) {
      headers.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                         reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
                         name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
    };
    add(":status", status_text);
    if (with_body) add("content-type", kDnsMessage);
    add("content-length", length);
    if (!max_age.empty()) add("cache-control", max_age);
    if (status == 405) add("allow", "GET, POST");
    nghttp2_data_provider body{};
    body.read_callback = read_answer;
    nghttp2_submit_response(session_, stream_id, headers.data(), headers.size(),
                            with_body ? &body : nullptr);
    flush();
  }

  void request_complete(int32_t stream_id) {
    Stream& stream = streams_.at(stream_id);
    DohJudgement judged = stream.request.judge(path_);
    stream.request = {};
    if (judged.status != 200) {
      stream.answered = true;
      respond(stream_id, judged.status, {}, false);
      peer_.refused(judged.status);
      return;
    }
    peer_.query(static_cast<uint32_t>(stream_id), judged.query);
  }

  static Http2Session& of(void* session) { return *static_cast<Http2Session*>(session); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* self) {
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      of(self).streams_[frame->hd.stream_id];
    }
    return 0;
  }
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t name_length, const uint8_t* value, size_t value_length,
                       uint8_t, void* self) {
    auto found = of(self).streams_.find(frame->hd.stream_id);
    if (found == of(self).streams_.end()) return 0;
    const std::string_view header(reinterpret_cast<const char*>(name), name_length);
    std::string text(reinterpret_cast<const char*>(value), value_length);
    Request& request = found->second.request;
    // nghttp2 has checked the pseudo-headers and lowercase names (RFC 9113 8.3).
    if (header == ":method") {
      request.method = std::move(text);
    } else if (header == ":path") {
      request.target = std::move(text);
    } else if (header == "content-type") {
      request.content_type = std::move(text);
    }
    return 0;
  }
  static int on_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                           size_t length, void* self) {
    auto found = of(self).streams_.find(stream_id);
    if (found != of(self).streams_.end()) found->second.request.add_body({data, length});
    return 0;
  }
  static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* self) {
    const bool request_end = (frame->hd.type == NGHTTP2_HEADERS ||
                              frame->hd.type == NGHTTP2_DATA) &&
                             (frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
    if (request_end && of(self).streams_.count(frame->hd.stream_id)) {
      of(self).request_complete(frame->hd.stream_id);
    }
    return 0;
  }
  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t, void* self) {
    auto found = of(self).streams_.find(stream_id);
    if (found == of(self).streams_.end()) return 0;
    of(self).unsent_ -= found->second.answer.size() - found->second.sent;
    of(self).streams_.erase(found);
    return 0;
  }
  static ssize_t read_answer(nghttp2_session*, int32_t stream_id, uint8_t* buffer, size_t length,
                             uint32_t* flags, nghttp2_data_source*, void* self) {
    Stream& stream = of(self).streams_.at(stream_id);
    const size_t count = std::min(length, stream.answer.size() - stream.sent);
    std::memcpy(buffer, stream.answer.data() + stream.sent, count);
    stream.sent += count;
    of(self).unsent_ -= count;
    if (stream.sent == stream.answer.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(count);
  }

  const std::string path_;
  Peer& peer_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, Stream> streams_;
  size_t unsent_ = 0;
  bool receiving_ = false;
  bool broken_ = false;
};

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 (RFC 9112) through http_parser: one request at a time, each answered before the
// next is parsed, so that responses keep the order of requests.

class Http1Session final : public DohSession {
 public:
  Http1Session(std::string path, Peer& peer) : path_(std::move(path)), peer_(peer) {
    http_parser_init(&parser_, HTTP_REQUEST);
    parser_.data = this;
    http_parser_settings_init(&settings_);
    settings_.on_message_begin = on_message_begin;
    settings_.on_url = on_url;
    settings_.on_header_field = on_header_field;
    settings_.on_header_value = on_header_value;
    settings_.on_headers_complete = on_headers_complete;
    settings_.on_body = on_body;
    settings_.on_message_complete = on_message_complete;
  }

  size_t receive(std::span<const uint8_t> bytes) override {
    size_t taken = 0;
    while (reading() && taken < bytes.size()) {
      const std::span<const uint8_t> rest = bytes.subspan(taken);
      const size_t parsed = http_parser_execute(
          &parser_, &settings_, reinterpret_cast<const char*>(rest.data()), rest.size());
      taken += parsed;
      const http_errno error = HTTP_PARSER_ERRNO(&parser_);
      if (error == HPE_PAUSED) {
        handle_request();  // answered at once (a cache hit, an error) or waiting
      } else if (error != HPE_OK || parser_.upgrade || parsed < rest.size()) {
        // Not HTTP/1.1 we can follow (an upgrade to another protocol included): say so, end.
        close_after_ = true;
        respond(400, {});
        peer_.refused(400);
        return bytes.size();
      }
    }
    return taken;
  }
  bool reading() const override { return !waiting_ && !close_after_; }

  void reply(uint32_t request, std::span<const uint8_t> answer) override {
    if (!waiting_ || request != request_number_) return;
    waiting_ = false;
    respond(200, answer);
    http_parser_pause(&parser_, 0);
  }
  void drop(uint32_t request) override {
    if (!waiting_ || request != request_number_) return;
    waiting_ = false;
    close_after_ = true;  // HTTP/1.1 has no way to say "no response" but to end
  }
  void shut_down() override { close_after_ = true; }
  bool finished() const override { return close_after_ && !waiting_; }
  size_t unsent() const override { return 0; }

 private:
  void handle_request() {
    ++request_number_;
    if (!http_should_keep_alive(&parser_)) close_after_ = true;
    request_.target = origin_form(request_.target);
    DohJudgement judged = request_.judge(path_);
    request_ = {};
    if (judged.status != 200) {
      // The body of a request over the limit was not kept: its framing is still known, but a
      // client that sends one is not one to read on from.
      if (judged.status == 413) close_after_ = true;
      respond(judged.status, {});
      http_parser_pause(&parser_, 0);
      peer_.refused(judged.status);
      return;
    }
    waiting_ = true;
    peer_.query(request_number_, judged.query);
  }

  void respond(int status, std::span<const uint8_t> answer) {
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + http_reason(status) + "\r\n";
    if (status == 200) {
      head += "content-type: application/dns-message\r\n";
      const std::string max_age = max_age_value(answer);
      if (!max_age.empty()) head += "cache-control: " + max_age + "\r\n";
    }
    if (status == 405) head += "allow: GET, POST\r\n";
    head += "content-length: " + std::to_string(answer.size()) + "\r\n";
    if (close_after_) head += "connection: close\r\n";
    head += "\r\n";
    peer_.write({reinterpret_cast<const uint8_t*>(head.data()), head.size()});
    if (!answer.empty()) peer_.write(answer);
  }

  static Http1Session& of(http_parser* parser) { return *static_cast<Http1Session*>(parser->data); }

  static int on_message_begin(http_parser* parser) {
    of(parser).request_ = {};
    of(parser).header_ = {};
    of(parser).expect_ = {};
    return 0;
  }
  static int on_url(http_parser* parser, const char* at, size_t length) {
    std::string& target = of(parser).request_.target;
    if (target.size() + length > kMaxTarget) return 1;
    target.append(at, length);
    return 0;
  }
  static int on_header_field(http_parser* parser, const char* at, size_t length) {
    Http1Session& self = of(parser);
    if (self.in_value_) self.header_.clear();
    self.in_value_ = false;
    if (self.header_.size() + length > kMaxTarget) return 1;
    self.header_.append(at, length);
    return 0;
  }
  static int on_header_value(http_parser* parser, const char* at, size_t length) {
    Http1Session& self = of(parser);
    self.in_value_ = true;
    std::string* value = nullptr;
    if (self.header_is("content-type")) {
      value = &self.request_.content_type;
    } else if (self.header_is("expect")) {
      value = &self.expect_;
    } else {
      return 0;
    }
    if (value->size() + length > kMaxTarget) return 1;
    value->append(at, length);
    return 0;
  }
  // A client that asks to be told to send its body (curl does for a POST of over 1 KiB) is
  // told at once, not after its own wait for the interim response runs out (RFC 9110 10.1.1).
  static int on_headers_complete(http_parser* parser) {
    Http1Session& self = of(parser);
    if (parser->http_major == 1 && parser->http_minor >= 1 &&
        ascii_equal_ignoring_case(self.expect_, "100-continue")) {
      constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      self.peer_.write({reinterpret_cast<const uint8_t*>(kContinue.data()), kContinue.size()});
    }
    return 0;
  }
  bool header_is(std::string_view name) const { return ascii_equal_ignoring_case(header_, name); }
  static int on_body(http_parser* parser, const char* at, size_t length) {
    of(parser).request_.add_body({reinterpret_cast<const uint8_t*>(at), length});
    return 0;
  }
  static int on_message_complete(http_parser* parser) {
    of(parser).request_.method = http_method_str(static_cast<http_method>(parser->method));
    http_parser_pause(parser, 1);  // the answer goes out before the next request is read
    return 0;
  }

  const std::string path_;
  Peer& peer_;
  http_parser parser_;
  http_parser_settings settings_;
  Request request_;
  std::string header_;     // the name of the header whose value is being read
  bool in_value_ = false;  // a header's value came since its name began
  std::string expect_;     // the request's Expect header
  uint32_t request_number_ = 0;
  bool waiting_ = false;      // the request is the query engine's until reply() or drop()
  bool close_after_ = false;  // no more requests on this connection
};

}  // namespace

std::unique_ptr<DohSession> DohSession::make(Protocol protocol, std::string path, Peer& peer) {
  if (protocol == Protocol::http2) return std::make_unique<Http2Session>(std::move(path), peer);
  return std::make_unique<Http1Session>(std::move(path), peer);
}

}  // namespace dnsvagt
