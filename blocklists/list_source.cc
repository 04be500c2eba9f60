#include "blocklists/list_source.h"

#include <filesystem>
#include <system_error>

namespace dnsvagt {
namespace {

// Why `path` cannot be read as a list of at most `max_size` bytes; "" if it can.
std::string check_file(const std::string& path, uint64_t max_size) {
  std::error_code error;
  uint64_t size = std::filesystem::file_size(path, error);
  if (error) return "cannot read " + path + ": " + error.message();
  if (size > max_size) {
    return path + " has " + std::to_string(size) + " bytes, more than max_size " +
           std::to_string(max_size);
  }
  return "";
}

}  // namespace

std::string list_cache_path(const std::string& cache_dir, const std::string& list_name) {
  return (std::filesystem::path(cache_dir) / (list_name + ".list")).string();
}

PolicyList locate_list(const ListSource& source, bool allow_list, const std::string& cache_dir) {
  PolicyList result;
  result.name = source.name;
  result.allow_list = allow_list;
  result.format = source.format;
  if (!source.file.empty()) {
    result.path = source.file;
    result.error = check_file(result.path, source.max_size);
    return result;
  }
  result.path = list_cache_path(cache_dir, source.name);
  std::error_code error;
  if (!std::filesystem::exists(result.path, error)) {
    result.note = "no cached copy of " + source.url + " yet (" + result.path + ")";
    return result;
  }
  result.error = check_file(result.path, source.max_size);
  return result;
}

ListStatus configured_status(const ListSource& source, bool allow_list) {
  ListStatus status;
  status.name = source.name;
  status.allow = allow_list;
  status.source = source.url.empty() ? source.file : source.url;
  status.format = to_string(source.format);
  status.refresh = source.refresh;
  return status;
}

}  // namespace dnsvagt
