#include "blocklists/list_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <system_error>

#include "blocklists/sha256.h"
#include "config/config.h"

namespace dnsvagt {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMetaHeader = "dnsvagt-list-meta 1";

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Passes the file to `piece` a piece at a time; false if it does not exist. Throws StoreError
// on other errors.
bool read_file_in_pieces(const std::string& path,
                         const std::function<void(std::string_view)>& piece) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return false;
    throw StoreError(errno_text("cannot open", path));
  }
  // Closed however this ends: `piece` may throw too.
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* open_fd) { ::close(*open_fd); });
  char buffer[1 << 16];
  for (;;) {
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw StoreError(errno_text("cannot read", path));
    if (got == 0) break;
    piece(std::string_view(buffer, static_cast<size_t>(got)));
  }
  return true;
}

// Reads the whole file into `data`; false if it does not exist. Throws StoreError on other
// errors.
bool read_file(const std::string& path, std::string& data) {
  data.clear();
  return read_file_in_pieces(path, [&data](std::string_view piece) { data.append(piece); });
}

// Lowercase hex SHA-256 of the file, read a piece at a time; nullopt if it does not exist.
std::optional<std::string> file_sha256(const std::string& path) {
  Sha256 hash;
  bool exists = read_file_in_pieces(path, [&hash](std::string_view piece) { hash.update(piece); });
  if (!exists) return std::nullopt;
  return hash.hex();
}

// Flushes a file, or with O_DIRECTORY in `flags` a directory's entries, to the disk.
void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) throw StoreError(errno_text("cannot open", path));
  int result = ::fsync(fd);
  ::close(fd);
  if (result != 0) throw StoreError(errno_text("cannot fsync", path));
}

int64_t to_unix(WallClock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

WallClock::time_point from_unix(std::string_view text) {
  std::optional<uint64_t> seconds = parse_decimal(text);
  if (!seconds) throw std::invalid_argument("expected seconds since 1970, got " + std::string(text));
  return WallClock::time_point(std::chrono::seconds(*seconds));
}

uint64_t number(std::string_view text) {
  std::optional<uint64_t> value = parse_decimal(text);
  if (!value) throw std::invalid_argument("expected a number, got " + std::string(text));
  return *value;
}

// Header values and paths never hold line breaks; drop any so the format stays line-based.
std::string one_line(std::string_view text) {
  std::string line(text);
  std::erase_if(line, [](char c) { return c == '\n' || c == '\r'; });
  return line;
}

}  // namespace

std::string format_list_info(const StoredListInfo& info) {
  std::string text(kMetaHeader);
  text += "\nsource " + one_line(info.source);
  text += "\netag " + one_line(info.validators.etag);
  text += "\nlast_modified " + one_line(info.validators.last_modified);
  text += "\nfetched_at " + std::to_string(to_unix(info.fetched_at));
  text += "\nchecked_at " + std::to_string(to_unix(info.checked_at));
  text += "\nentries " + std::to_string(info.entries);
  text += "\nsize " + std::to_string(info.size);
  text += "\nsha256 " + info.sha256 + "\n";
  return text;
}

StoredListInfo parse_list_info(std::string_view text) {
  if (!text.starts_with(kMetaHeader)) throw std::invalid_argument("not a dnsvagt list metadata file");
  StoredListInfo info;
  bool has_sha256 = false;
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t end = text.find('\n', line_start);
    if (end == std::string_view::npos) throw std::invalid_argument("last line is incomplete");
    std::string_view line = text.substr(line_start, end - line_start);
    line_start = end + 1;
    size_t space = line.find(' ');
    std::string_view key = line.substr(0, space);
    std::string_view value = space == std::string_view::npos ? "" : line.substr(space + 1);
    if (key == "source") info.source = value;
    else if (key == "etag") info.validators.etag = value;
    else if (key == "last_modified") info.validators.last_modified = value;
    else if (key == "fetched_at") info.fetched_at = from_unix(value);
    else if (key == "checked_at") info.checked_at = from_unix(value);
    else if (key == "entries") info.entries = number(value);
    else if (key == "size") info.size = number(value);
    else if (key == "sha256") {
      info.sha256 = value;
      has_sha256 = value.size() == 64;
    }
  }
  if (!has_sha256) throw std::invalid_argument("no sha256 checksum");
  return info;
}

ListStore::ListStore(std::string directory) : directory_(std::move(directory)) {
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error) throw StoreError("cannot create " + directory_ + ": " + error.message());
}

std::string ListStore::path(std::string_view name, std::string_view suffix) const {
  // Config names are letters, digits, '_', '.' and '-': only these two could leave the directory.
  if (name.empty() || name == "." || name == "..") {
    throw StoreError("unusable list name \"" + std::string(name) + "\"");
  }
  return directory_ + "/" + std::string(name) + std::string(suffix);
}

std::string ListStore::list_path(std::string_view name) const { return path(name, ".list"); }
std::string ListStore::rejected_path(std::string_view name) const {
  return path(name, ".rejected");
}
std::string ListStore::incoming_path(std::string_view name) const {
  return path(name, ".incoming.tmp");
}

void ListStore::remove_temp_files() {
  std::lock_guard lock(mutex_);
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory_, error)) {
    if (entry.path().extension() == ".tmp") fs::remove(entry.path(), error);
  }
}

ListStore::Loaded ListStore::load(std::string_view name) {
  std::lock_guard lock(mutex_);
  Loaded loaded = check_locked(name);
  if (loaded.status == LoadStatus::ok && !read_file(path(name, ".list"), loaded.content)) {
    loaded.status = LoadStatus::damaged;
    loaded.problem = path(name, ".list") + " is missing";
  }
  return loaded;
}

ListStore::Loaded ListStore::check(std::string_view name) {
  std::lock_guard lock(mutex_);
  return check_locked(name);
}

ListStore::Loaded ListStore::check_locked(std::string_view name) {
  Loaded loaded;
  const std::string list_file = path(name, ".list");
  const std::string staged_file = path(name, ".list.new");
  std::string meta;
  const bool has_meta = read_file(path(name, ".meta"), meta);
  const std::optional<std::string> content_sha256 = file_sha256(list_file);
  if (!has_meta) {
    if (!content_sha256) return loaded;  // missing
    loaded.status = LoadStatus::damaged;
    loaded.problem = list_file + " has no metadata";
    return loaded;
  }
  try {
    loaded.info = parse_list_info(meta);
  } catch (const std::invalid_argument& error) {
    loaded.status = LoadStatus::damaged;
    loaded.problem = path(name, ".meta") + ": " + error.what();
    return loaded;
  }
  const std::optional<std::string> staged_sha256 = file_sha256(staged_file);
  std::error_code ignored;
  if (content_sha256 == loaded.info.sha256) {
    if (staged_sha256) fs::remove(staged_file, ignored);  // a save that crashed before its commit
  } else if (staged_sha256 == loaded.info.sha256) {
    rename_durably(staged_file, list_file);  // a save that crashed after its commit
  } else {
    loaded.status = LoadStatus::damaged;
    loaded.problem = list_file + (content_sha256 ? " does not match its sha256 checksum" : " is missing");
    return loaded;
  }
  loaded.status = LoadStatus::ok;
  return loaded;
}

void ListStore::save_file(std::string_view name, const std::string& file,
                          const StoredListInfo& info) {
  std::lock_guard lock(mutex_);
  const std::string staged_file = path(name, ".list.new");
  fsync_path(file, 0);
  rename_durably(file, staged_file);
  write_durably(path(name, ".meta"), format_list_info(info));  // the commit
  rename_durably(staged_file, path(name, ".list"));
}

void ListStore::save_info(std::string_view name, const StoredListInfo& info) {
  std::lock_guard lock(mutex_);
  write_durably(path(name, ".meta"), format_list_info(info));
}

void ListStore::keep_rejected(std::string_view name, const std::string& file) {
  std::lock_guard lock(mutex_);
  fsync_path(file, 0);
  rename_durably(file, path(name, ".rejected"));
}

void ListStore::write_durably(const std::string& target, std::string_view data) {
  const std::string temp = target + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw StoreError(errno_text("cannot create", temp));
  size_t written = 0;
  while (written < data.size()) {
    ssize_t put = ::write(fd, data.data() + written, data.size() - written);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) {
      std::string error = errno_text("cannot write", temp);
      ::close(fd);
      ::unlink(temp.c_str());
      throw StoreError(error);
    }
    written += static_cast<size_t>(put);
  }
  if (::fsync(fd) != 0) {
    std::string error = errno_text("cannot fsync", temp);
    ::close(fd);
    ::unlink(temp.c_str());
    throw StoreError(error);
  }
  ::close(fd);
  rename_durably(temp, target);
}

void ListStore::rename_durably(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    throw StoreError(errno_text("cannot rename " + from + " to", to));
  }
  fsync_path(directory_, O_DIRECTORY);
}

}  // namespace dnsvagt
