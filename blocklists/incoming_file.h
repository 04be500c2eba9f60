// IncomingFile: a new version of a list (a download, or a copy of a local file) written to a
// file a piece at a time, counted and hashed on the way, so it never sits in memory whole.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "blocklists/sha256.h"

namespace dnsvagt {

class IncomingFile {
 public:
  // Creates or truncates `path`; a failure shows as error(). At most `max_size` bytes are
  // taken.
  IncomingFile(std::string path, uint64_t max_size);
  // Closes the file, and removes it unless finish() kept it.
  ~IncomingFile();
  IncomingFile(const IncomingFile&) = delete;
  IncomingFile& operator=(const IncomingFile&) = delete;

  // Writes `piece`; false if the file would grow past max_size (too_large(), nothing of the
  // piece written) or cannot be written (error()). Never throws: it runs inside libcurl.
  bool append(std::string_view piece);
  // Closes the file and keeps it (not fsync'd: the store does that when it takes the file);
  // then size() and sha256() describe the content. False if closing failed or an append had:
  // the file then goes with this object.
  bool finish();

  const std::string& path() const { return path_; }
  bool too_large() const { return too_large_; }
  const std::string& error() const { return error_; }  // "" unless the disk failed
  uint64_t size() const { return size_; }
  const std::string& sha256() const { return sha256_; }  // after a successful finish()

 private:
  void fail(const std::string& what);

  std::string path_;
  uint64_t max_size_;
  int fd_ = -1;
  uint64_t size_ = 0;
  bool too_large_ = false;
  bool kept_ = false;
  std::string error_;
  Sha256 hash_;
  std::string sha256_;
};

}  // namespace dnsvagt
