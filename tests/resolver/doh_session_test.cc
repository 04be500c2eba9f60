#include "resolver/doh_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <list>
#include <map>
#include <string>
#include <vector>

namespace dnsvagt {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::vector<uint8_t> kQuery = {0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x00, 0x03, 'w',  'w',  'w',  0x00, 0x00,
                                     0x01, 0x00, 0x01};
constexpr std::string_view kQueryParameter = "AAABAAABAAAAAAAAA3d3dwAAAQAB";
// The answer to kQuery: www. 300 A 10.0.0.1.
const std::vector<uint8_t> kAnswer = {0x00, 0x00, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00,
                                      0x00, 0x00, 0x00, 0x03, 'w',  'w',  'w',  0x00, 0x00,
                                      0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01,
                                      0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 10,   0,    0,    1};

// The connection side: what the session wrote, asked and refused; answers at once if told to.
class RecordingPeer : public DohSession::Peer {
 public:
  void write(std::span<const uint8_t> bytes) override { written.append(bytes.begin(), bytes.end()); }
  void query(uint32_t request, std::span<const uint8_t> message) override {
    queries.emplace_back(request, std::vector<uint8_t>(message.begin(), message.end()));
    if (answer_at_once) session->reply(request, kAnswer);
  }
  void refused(int status) override { statuses.push_back(status); }
  std::string take_written() { return std::exchange(written, {}); }

  DohSession* session = nullptr;
  bool answer_at_once = false;
  std::string written;
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> queries;
  std::vector<int> statuses;
};

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

class Http1SessionTest : public testing::Test {
 protected:
  Http1SessionTest()
      : session_(DohSession::make(DohSession::Protocol::http1, "/dns-query", peer_)) {
    peer_.session = session_.get();
  }
  size_t receive(std::string_view text) { return session_->receive(bytes_of(text)); }
  static std::string get_request(std::string_view extra_headers = "") {
    return "GET /dns-query?dns=" + std::string(kQueryParameter) +
           " HTTP/1.1\r\nHost: doh.test\r\n" + std::string(extra_headers) + "\r\n";
  }

  RecordingPeer peer_;
  std::unique_ptr<DohSession> session_;
};

TEST_F(Http1SessionTest, AGetBecomesAQueryAndItsAnswerA200WithTheDnsMessage) {
  const std::string request = get_request();
  EXPECT_EQ(receive(request), request.size());
  ASSERT_EQ(peer_.queries.size(), 1u);
  EXPECT_EQ(peer_.queries[0].second, kQuery);
  EXPECT_FALSE(session_->reading());
  session_->reply(peer_.queries[0].first, kAnswer);
  const std::string response = peer_.take_written();
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("content-type: application/dns-message\r\n"));
  EXPECT_THAT(response, HasSubstr("cache-control: max-age=300\r\n"));
  EXPECT_THAT(response, HasSubstr("content-length: " + std::to_string(kAnswer.size()) + "\r\n"));
  EXPECT_EQ(response.substr(response.size() - kAnswer.size()),
            std::string(kAnswer.begin(), kAnswer.end()));
  EXPECT_TRUE(session_->reading());
  EXPECT_FALSE(session_->finished());
}

TEST_F(Http1SessionTest, APostInPiecesIsOneQuery) {
  const std::string request =
      "POST /dns-query HTTP/1.1\r\nHost: doh.test\r\nContent-Type: application/dns-message\r\n"
      "Content-Length: " + std::to_string(kQuery.size()) + "\r\n\r\n" +
      std::string(kQuery.begin(), kQuery.end());
  for (char c : request) EXPECT_EQ(receive(std::string_view(&c, 1)), 1u);
  ASSERT_EQ(peer_.queries.size(), 1u);
  EXPECT_EQ(peer_.queries[0].second, kQuery);
}

TEST_F(Http1SessionTest, PipelinedRequestsWaitForTheAnswerBeforeThemInOrder) {
  const std::string first = get_request();
  const std::string both = first + get_request();
  EXPECT_EQ(receive(both), first.size());  // the second stays with the caller
  ASSERT_EQ(peer_.queries.size(), 1u);
  session_->reply(peer_.queries[0].first, kAnswer);
  EXPECT_EQ(receive(std::string_view(both).substr(first.size())), both.size() - first.size());
  ASSERT_EQ(peer_.queries.size(), 2u);
  EXPECT_NE(peer_.queries[0].first, peer_.queries[1].first);
  // A reply for a request that is not the one waiting is not sent out of order.
  peer_.take_written();
  session_->reply(peer_.queries[0].first, kAnswer);
  EXPECT_EQ(peer_.written, "");
}

TEST_F(Http1SessionTest, AnswersAtOnceLetTheNextRequestsThroughInOneCall) {
  peer_.answer_at_once = true;
  const std::string three = get_request() + get_request() + get_request();
  EXPECT_EQ(receive(three), three.size());
  EXPECT_EQ(peer_.queries.size(), 3u);
}

TEST_F(Http1SessionTest, AnAbsoluteFormTargetIsTheSameRequest) {
  const std::string request = "GET https://doh.test:443/dns-query?dns=" +
                              std::string(kQueryParameter) + " HTTP/1.1\r\nHost: doh.test\r\n\r\n";
  EXPECT_EQ(receive(request), request.size());
  ASSERT_EQ(peer_.queries.size(), 1u);
  EXPECT_EQ(peer_.queries[0].second, kQuery);
  session_->reply(peer_.queries[0].first, kAnswer);
  // Elsewhere on that host is still elsewhere.
  receive("GET http://doh.test/other?dns=" + std::string(kQueryParameter) +
          " HTTP/1.1\r\nHost: doh.test\r\n\r\n");
  EXPECT_EQ(peer_.statuses, std::vector<int>{404});
}

TEST_F(Http1SessionTest, ExpectContinueGetsAnInterimResponseBeforeTheBodyIsSent) {
  const std::string head =
      "POST /dns-query HTTP/1.1\r\nHost: doh.test\r\nContent-Type: application/dns-message\r\n"
      "Expect: 100-Continue\r\nContent-Length: " + std::to_string(kQuery.size()) + "\r\n\r\n";
  EXPECT_EQ(receive(head), head.size());
  EXPECT_EQ(peer_.take_written(), "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_TRUE(peer_.queries.empty());
  receive(std::string(kQuery.begin(), kQuery.end()));
  ASSERT_EQ(peer_.queries.size(), 1u);
  session_->reply(peer_.queries[0].first, kAnswer);
  EXPECT_THAT(peer_.take_written(), StartsWith("HTTP/1.1 200 OK\r\n"));
  // Without the header, or over HTTP/1.0, there is no interim response.
  peer_.answer_at_once = true;
  const std::string body(kQuery.begin(), kQuery.end());
  const std::string rest = "\r\nHost: doh.test\r\nContent-Type: application/dns-message\r\n"
                           "Content-Length: " + std::to_string(kQuery.size()) + "\r\n";
  receive("POST /dns-query HTTP/1.1" + rest + "\r\n" + body);
  receive("POST /dns-query HTTP/1.0" + rest + "Expect: 100-continue\r\n\r\n" + body);
  EXPECT_EQ(peer_.queries.size(), 3u);
  EXPECT_THAT(peer_.written, Not(HasSubstr("100 Continue")));
}

TEST_F(Http1SessionTest, ErrorStatusesKeepTheConnectionAndAreReported) {
  receive("PUT /dns-query HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  receive("GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n");
  receive("GET /dns-query HTTP/1.1\r\nHost: x\r\n\r\n");
  receive("POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
          "Content-Length: 2\r\n\r\nhi");
  EXPECT_EQ(peer_.statuses, (std::vector<int>{405, 404, 400, 415}));
  const std::string written = peer_.take_written();
  EXPECT_THAT(written, HasSubstr("HTTP/1.1 405 Method Not Allowed\r\nallow: GET, POST\r\n"));
  EXPECT_THAT(written, HasSubstr("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_THAT(written, HasSubstr("HTTP/1.1 415 Unsupported Media Type\r\n"));
  EXPECT_FALSE(session_->finished());
  EXPECT_TRUE(peer_.queries.empty());
  receive(get_request());
  EXPECT_EQ(peer_.queries.size(), 1u);
}

TEST_F(Http1SessionTest, ABodyOverTheLimitIs413AndTheEnd) {
  const std::string head = "POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: "
                           "application/dns-message\r\nContent-Length: 70000\r\n\r\n";
  receive(head + std::string(70000, 'x'));
  EXPECT_EQ(peer_.statuses, std::vector<int>{413});
  EXPECT_THAT(peer_.written, HasSubstr("HTTP/1.1 413 Content Too Large\r\n"));
  EXPECT_THAT(peer_.written, HasSubstr("connection: close\r\n"));
  EXPECT_TRUE(session_->finished());
  EXPECT_FALSE(session_->reading());
}

TEST_F(Http1SessionTest, WhatIsNotHttpIs400AndTheEnd) {
  const std::string junk = "\x16\x03\x01 not http at all\r\n\r\n";
  EXPECT_EQ(receive(junk), junk.size());
  EXPECT_EQ(peer_.statuses, std::vector<int>{400});
  EXPECT_THAT(peer_.written, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_TRUE(session_->finished());
}

TEST_F(Http1SessionTest, ConnectionCloseEndsAfterTheAnswer) {
  receive(get_request("Connection: close\r\n"));
  EXPECT_FALSE(session_->finished());  // an answer is owed
  session_->reply(peer_.queries.at(0).first, kAnswer);
  EXPECT_THAT(peer_.written, HasSubstr("connection: close\r\n"));
  EXPECT_TRUE(session_->finished());
}

TEST_F(Http1SessionTest, ADropEndsTheConnectionWithoutAResponse) {
  receive(get_request());
  session_->drop(peer_.queries.at(0).first);
  EXPECT_EQ(peer_.written, "");
  EXPECT_TRUE(session_->finished());
}

// An nghttp2 client on the other end of an HTTP/2 session: requests out, responses in.
class Http2Client {
 public:
  struct Response {
    int status = 0;
    std::map<std::string, std::string> headers;
    std::string body;
    uint32_t reset = 0;  // the RST_STREAM error code, if the stream was reset
    bool closed = false;
  };

  Http2Client() {
    nghttp2_session_callbacks* callbacks;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_close);
    nghttp2_session_client_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Http2Client() { nghttp2_session_del(session_); }

  int32_t request(std::string_view method, std::string_view path, std::string_view body = {},
                  std::string_view content_type = "application/dns-message") {
    std::vector<nghttp2_nv> headers;
    auto add = [&headers](std::string_view name, std::string_view value) {
      headers.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                         reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
                         name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
    };
    add(":method", method);
    add(":scheme", "https");
    add(":authority", "doh.test");
    add(":path", path);
    if (!body.empty()) add("content-type", content_type);
    bodies_.emplace_back(body);
    nghttp2_data_provider provider{};
    provider.source.ptr = &bodies_.back();
    provider.read_callback = read_body;
    return nghttp2_submit_request(session_, nullptr, headers.data(), headers.size(),
                                  body.empty() ? nullptr : &provider, nullptr);
  }
  std::string output() {
    std::string out;
    const uint8_t* data;
    for (ssize_t n; (n = nghttp2_session_mem_send(session_, &data)) > 0;) {
      out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    return out;
  }
  void input(std::string_view bytes) {
    ASSERT_EQ(nghttp2_session_mem_recv(session_, bytes_of(bytes).data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
  }
  std::map<int32_t, Response> responses;

 private:
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                       void* self) {
    Response& response = static_cast<Http2Client*>(self)->responses[frame->hd.stream_id];
    const std::string key(reinterpret_cast<const char*>(name), name_length);
    const std::string text(reinterpret_cast<const char*>(value), value_length);
    if (key == ":status") response.status = std::stoi(text);
    response.headers[key] = text;
    return 0;
  }
  static int on_data(nghttp2_session*, uint8_t, int32_t stream, const uint8_t* data,
                     size_t length, void* self) {
    static_cast<Http2Client*>(self)->responses[stream].body.append(
        reinterpret_cast<const char*>(data), length);
    return 0;
  }
  static int on_close(nghttp2_session*, int32_t stream, uint32_t error, void* self) {
    Response& response = static_cast<Http2Client*>(self)->responses[stream];
    response.reset = error;
    response.closed = true;
    return 0;
  }
  static ssize_t read_body(nghttp2_session*, int32_t, uint8_t* buffer, size_t length,
                           uint32_t* flags, nghttp2_data_source* source, void*) {
    std::string& body = *static_cast<std::string*>(source->ptr);
    const size_t count = std::min(length, body.size());
    std::copy_n(body.begin(), count, buffer);
    body.erase(0, count);
    if (body.empty()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(count);
  }

  nghttp2_session* session_ = nullptr;
  std::list<std::string> bodies_;
};

class Http2SessionTest : public testing::Test {
 protected:
  Http2SessionTest()
      : session_(DohSession::make(DohSession::Protocol::http2, "/dns-query", peer_)) {
    peer_.session = session_.get();
  }
  // Client to server and back until neither has more to say.
  void exchange() {
    for (int round = 0; round < 8; ++round) {
      const std::string out = client_.output();
      if (!out.empty()) session_->receive(bytes_of(out));
      const std::string back = peer_.take_written();
      if (!back.empty()) client_.input(back);
      if (out.empty() && back.empty()) return;
    }
  }
  static std::string get_path() { return "/dns-query?dns=" + std::string(kQueryParameter); }

  RecordingPeer peer_;
  std::unique_ptr<DohSession> session_;
  Http2Client client_;
};

TEST_F(Http2SessionTest, StreamsAtOnceAreAnsweredInAnyOrder) {
  const int32_t get = client_.request("GET", get_path());
  const int32_t post = client_.request("POST", "/dns-query",
                                       std::string_view(reinterpret_cast<const char*>(kQuery.data()),
                                                        kQuery.size()));
  exchange();
  ASSERT_EQ(peer_.queries.size(), 2u);
  EXPECT_EQ(peer_.queries[0].second, kQuery);
  EXPECT_EQ(peer_.queries[1].second, kQuery);
  session_->reply(peer_.queries[1].first, kAnswer);  // the later one first
  session_->reply(peer_.queries[0].first, kAnswer);
  exchange();
  for (int32_t stream : {get, post}) {
    const Http2Client::Response& response = client_.responses[stream];
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.headers.at("content-type"), "application/dns-message");
    EXPECT_EQ(response.headers.at("cache-control"), "max-age=300");
    EXPECT_EQ(response.body, std::string(kAnswer.begin(), kAnswer.end()));
  }
  EXPECT_EQ(session_->unsent(), 0u);
  EXPECT_FALSE(session_->finished());
}

TEST_F(Http2SessionTest, ErrorStatusesGoToTheirStreamsAndTheConnectionGoesOn) {
  const int32_t put = client_.request("PUT", get_path());
  const int32_t elsewhere = client_.request("GET", "/elsewhere");
  const int32_t text = client_.request("POST", "/dns-query", "hello", "text/plain");
  const int32_t large = client_.request("POST", "/dns-query", std::string(70000, 'x'));
  exchange();
  EXPECT_EQ(client_.responses[put].status, 405);
  EXPECT_EQ(client_.responses[put].headers.at("allow"), "GET, POST");
  EXPECT_EQ(client_.responses[elsewhere].status, 404);
  EXPECT_EQ(client_.responses[text].status, 415);
  EXPECT_EQ(client_.responses[large].status, 413);
  EXPECT_EQ(peer_.statuses, (std::vector<int>{405, 404, 415, 413}));
  const int32_t good = client_.request("GET", get_path());
  peer_.answer_at_once = true;
  exchange();
  EXPECT_EQ(client_.responses[good].status, 200);
  EXPECT_FALSE(session_->finished());
}

TEST_F(Http2SessionTest, ADropResetsTheStream) {
  const int32_t stream = client_.request("GET", get_path());
  exchange();
  session_->drop(peer_.queries.at(0).first);
  exchange();
  EXPECT_TRUE(client_.responses[stream].closed);
  EXPECT_EQ(client_.responses[stream].reset, static_cast<uint32_t>(NGHTTP2_CANCEL));
  EXPECT_EQ(client_.responses[stream].status, 0);
}

TEST_F(Http2SessionTest, AnAnswerForAStreamTheClientResetGoesNowhere) {
  client_.request("GET", get_path());
  exchange();
  const uint32_t request = peer_.queries.at(0).first;
  // RST_STREAM (type 3) with CANCEL (8), as a client that gave up would send it.
  const std::string rst = std::string("\x00\x00\x04\x03\x00", 5) +
                          std::string({0, 0, 0, static_cast<char>(request)}) +
                          std::string("\x00\x00\x00\x08", 4);
  session_->receive(bytes_of(rst));
  session_->reply(request, kAnswer);
  EXPECT_EQ(session_->unsent(), 0u);
  EXPECT_FALSE(session_->finished());
}

TEST_F(Http2SessionTest, WhatIsNotHttp2EndsTheSession) {
  session_->receive(bytes_of("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(session_->finished());
  EXPECT_FALSE(session_->reading());
}

TEST_F(Http2SessionTest, AShutDownSaysGoawayAndEndsOnceAnswered) {
  client_.request("GET", get_path());
  exchange();
  session_->shut_down();
  EXPECT_FALSE(peer_.written.empty());  // the GOAWAY
  session_->reply(peer_.queries.at(0).first, kAnswer);
  exchange();
  EXPECT_TRUE(session_->finished());
}

}  // namespace
}  // namespace dnsvagt
