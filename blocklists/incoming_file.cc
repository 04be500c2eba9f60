#include "blocklists/incoming_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

namespace dnsvagt {

IncomingFile::IncomingFile(std::string path, uint64_t max_size)
    : path_(std::move(path)), max_size_(max_size) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) error_ = "cannot create " + path_ + ": " + std::strerror(errno);
}

IncomingFile::~IncomingFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!kept_) ::unlink(path_.c_str());
}

void IncomingFile::fail(const std::string& what) {
  if (error_.empty()) error_ = what + " " + path_ + ": " + std::strerror(errno);
}

bool IncomingFile::append(std::string_view piece) {
  if (fd_ < 0 || !error_.empty()) return false;
  if (piece.size() > max_size_ - size_) {
    too_large_ = true;
    return false;
  }
  try {
    hash_.update(piece);
  } catch (const std::exception& error) {
    error_ = error.what();
    return false;
  }
  size_ += piece.size();
  while (!piece.empty()) {
    ssize_t put = ::write(fd_, piece.data(), piece.size());
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) {
      fail("cannot write");
      return false;
    }
    piece.remove_prefix(static_cast<size_t>(put));
  }
  return true;
}

bool IncomingFile::finish() {
  if (fd_ < 0 || !error_.empty() || too_large_) return false;
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    fail("cannot close");
    return false;
  }
  try {
    sha256_ = hash_.hex();
  } catch (const std::exception& error) {
    error_ = error.what();
    return false;
  }
  kept_ = true;
  return true;
}

}  // namespace dnsvagt
