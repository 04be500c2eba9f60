// ListStore: the last good copy of every list in blocking.cache_dir, with what is known about
// it (validators, times, checksum, entries), written so that a crash at any moment loses nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

#include "blocklists/feed_fetcher.h"

namespace dnsvagt {

using WallClock = std::chrono::system_clock;

// What the store keeps beside a list's content (cache_dir/<name>.meta).
struct StoredListInfo {
  std::string source;     // the feed URL or the local file's path
  Validators validators;  // of the feed response this content came from
  WallClock::time_point fetched_at{};  // when this content was downloaded or read
  WallClock::time_point checked_at{};  // when the source last confirmed it (fetch or 304)
  uint64_t entries = 0;
  uint64_t size = 0;      // bytes of content
  std::string sha256;     // lowercase hex of content
  bool operator==(const StoredListInfo&) const = default;
};

// A disk problem of the store (unwritable directory, full disk): the update it was part of
// fails with UpdateFailure::io.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Files per list: <name>.list (the content, as fetched: readable for people and tools),
// <name>.meta (StoredListInfo as "key value" lines), <name>.rejected (the last version a gate
// refused). A new version arrives as a file in the directory, <name>.incoming.tmp, written a
// piece at a time (never whole in memory). A save stages it as <name>.list.new, commits by
// renaming the new .meta into place (its checksum names the new content), then renames the
// content: a load that finds .list not matching .meta but .list.new matching finishes the
// interrupted save. Other files are written as *.tmp and renamed; leftovers of a crash (an
// incoming version too) are removed on start. Thread-safe; one store per directory and
// process.
class ListStore {
 public:
  enum class LoadStatus {
    ok,
    missing,  // never saved
    damaged,  // content or metadata unreadable or not matching its checksum
  };
  struct Loaded {
    LoadStatus status = LoadStatus::missing;
    std::string content;  // load() only
    StoredListInfo info;
    std::string problem;  // damaged: what is wrong, for the log
  };

  // Creates `directory` if missing (throws StoreError if it cannot).
  explicit ListStore(std::string directory);

  const std::string& directory() const { return directory_; }
  std::string list_path(std::string_view name) const;
  std::string rejected_path(std::string_view name) const;
  // Where a new version of the list is written before save_file() or keep_rejected() takes
  // it: in the directory (a rename never crosses file systems), never read as a list, and
  // removed by remove_temp_files() if a crash leaves it.
  std::string incoming_path(std::string_view name) const;

  // Removes *.tmp files a crash left behind.
  void remove_temp_files();

  // The committed version, verified against its checksum.
  Loaded load(std::string_view name);
  // The same without the content (read a piece at a time to verify it): for a caller that
  // then parses list_path(name) piece by piece.
  Loaded check(std::string_view name);

  // Makes `file`, a file in directory() (usually incoming_path(name)), the list's last good
  // version; `info` describes it, size and sha256 included. The file is moved, not copied.
  // Durable (fsync'd) when it returns. Throws StoreError.
  void save_file(std::string_view name, const std::string& file, const StoredListInfo& info);
  // Replaces the metadata of the stored version (e.g. checked_at after a 304); `info` must
  // describe the stored content (same sha256). Throws StoreError.
  void save_info(std::string_view name, const StoredListInfo& info);
  // Keeps `file`, a file in directory() holding a version a gate refused, as
  // rejected_path(name) for inspection. The file is moved. Throws StoreError.
  void keep_rejected(std::string_view name, const std::string& file);

 private:
  std::string path(std::string_view name, std::string_view suffix) const;
  Loaded check_locked(std::string_view name);
  void write_durably(const std::string& path, std::string_view data);
  void rename_durably(const std::string& from, const std::string& to);

  std::string directory_;
  std::mutex mutex_;  // one save or load at a time: a load may finish a save
};

// StoredListInfo as "key value" lines, and back (throws std::invalid_argument).
std::string format_list_info(const StoredListInfo& info);
StoredListInfo parse_list_info(std::string_view text);

}  // namespace dnsvagt
