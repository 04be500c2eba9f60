#include "blocklists/feed_fetcher.h"

#include <curl/curl.h>

#include <cctype>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>

#include "blocklists/incoming_file.h"
#include "version.h"

namespace dnsvagt {
namespace {

struct Transfer {
  IncomingFile* body = nullptr;
  Validators validators;
  std::string location;  // of the last response, for the error of a refused redirect
  const std::atomic<bool>* stop = nullptr;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  // Chunked and compressed bodies announce no length: MAXFILESIZE cannot catch them, the
  // body's max_size does. A refused piece aborts the transfer with CURLE_WRITE_ERROR.
  return transfer->body->append(std::string_view(data, bytes)) ? bytes : 0;
}

std::string_view trim_header_value(std::string_view value) {
  size_t start = value.find_first_not_of(" \t");
  if (start == std::string_view::npos) return {};
  size_t end = value.find_last_not_of(" \t\r\n");
  return value.substr(start, end - start + 1);
}

bool header_is(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  }
  return true;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  // A status line starts the headers of each response (redirects, 100 Continue): only the
  // last response's validators count.
  if (line.substr(0, 5) == "HTTP/") {
    transfer->validators = {};
    transfer->location.clear();
  }
  if (header_is(line, "location")) {
    transfer->location = trim_header_value(line.substr(9));
  } else if (header_is(line, "etag")) {
    transfer->validators.etag = trim_header_value(line.substr(5));
  } else if (header_is(line, "last-modified")) {
    transfer->validators.last_modified = trim_header_value(line.substr(14));
  }
  return size * count;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  return transfer->stop && transfer->stop->load() ? 1 : 0;  // non-zero aborts
}

UpdateFailure failure_of(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return UpdateFailure::timeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
      return UpdateFailure::tls;
    case CURLE_FILESIZE_EXCEEDED:
      return UpdateFailure::too_large;
    default:
      return UpdateFailure::connect;
  }
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

using Easy = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

FetchResult failed(UpdateFailure failure, std::string error, long status = 0) {
  FetchResult result;
  result.outcome = FetchResult::Outcome::failed;
  result.failure = failure;
  result.error = std::move(error);
  result.http_status = status;
  return result;
}

}  // namespace

FetchResult fetch_feed(const std::string& url, const Validators& cached, const FetchLimits& limits,
                       const std::string& body_path, const std::atomic<bool>* stop) {
  global_init();
  IncomingFile body(body_path, limits.max_size);  // removed unless kept by finish()
  if (!body.error().empty()) return failed(UpdateFailure::io, body.error());
  Easy easy(curl_easy_init(), curl_easy_cleanup);
  if (!easy) return failed(UpdateFailure::connect, "curl_easy_init failed");
  CURL* curl = easy.get();

  Transfer transfer;
  transfer.body = &body;
  transfer.stop = stop;

  HeaderList headers(nullptr, curl_slist_free_all);
  auto add_header = [&headers](const std::string& line) {
    curl_slist* appended = curl_slist_append(headers.get(), line.c_str());
    if (appended) {
      headers.release();
      headers.reset(appended);
    }
  };
  if (!cached.etag.empty()) add_header("If-None-Match: " + cached.etag);
  if (!cached.last_modified.empty()) add_header("If-Modified-Since: " + cached.last_modified);

  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  // An https feed is authenticated: a redirect must not hand it to plain http, where anyone on
  // the path could change it.
  const bool https = url.starts_with("https://");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, limits.max_redirects);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "dnsvagt/" DNSVAGT_VERSION);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // every encoding libcurl can decode
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!limits.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, limits.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(limits.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(limits.total_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(limits.low_speed_bytes));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(limits.low_speed_time.count()));
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.max_size));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM in threads
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);

  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (body.too_large()) {
    return failed(UpdateFailure::too_large,
                  "body larger than " + std::to_string(limits.max_size) + " bytes", status);
  }
  if (!body.error().empty()) return failed(UpdateFailure::io, body.error(), status);
  if (code == CURLE_UNSUPPORTED_PROTOCOL && https && !transfer.location.empty()) {
    return failed(UpdateFailure::insecure_redirect,
                  "redirect from https to " + transfer.location +
                      " refused: an https feed is only followed to https",
                  status);
  }
  if (code != CURLE_OK) {
    std::string error = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
    return failed(failure_of(code), std::move(error), status);
  }

  FetchResult result;
  result.http_status = status;
  if (status == 304) {
    result.outcome = FetchResult::Outcome::not_modified;
    result.validators = cached;
    return result;
  }
  if (status != 200) {
    return failed(UpdateFailure::http_status, "HTTP status " + std::to_string(status), status);
  }
  if (!body.finish()) return failed(UpdateFailure::io, body.error(), status);
  if (!limits.sha256.empty() && body.sha256() != limits.sha256) {
    std::error_code ignored;  // a file left behind is truncated by the next download
    std::filesystem::remove(body_path, ignored);
    return failed(UpdateFailure::checksum,
                  "content SHA-256 " + body.sha256() + " is not the pinned sha256 " +
                      limits.sha256,
                  status);
  }
  result.outcome = FetchResult::Outcome::fetched;
  result.size = body.size();
  result.sha256 = body.sha256();
  result.validators = std::move(transfer.validators);
  return result;
}

}  // namespace dnsvagt
