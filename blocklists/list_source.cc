#include "blocklists/list_source.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace dnsvagt {
namespace {

// Reads `path` into `out`; returns an error text, "" on success.
std::string read_file(const std::string& path, uint64_t max_size, std::string& out) {
  std::error_code error;
  uint64_t size = std::filesystem::file_size(path, error);
  if (error) return "cannot read " + path + ": " + error.message();
  if (size > max_size) {
    return path + " has " + std::to_string(size) + " bytes, more than max_size " +
           std::to_string(max_size);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot open " + path + ": " + std::strerror(errno);
  out.resize(size);
  in.read(out.data(), static_cast<std::streamsize>(size));
  out.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) return "cannot read " + path + ": " + std::strerror(errno);
  return "";
}

}  // namespace

std::string list_cache_path(const std::string& cache_dir, const std::string& list_name) {
  return (std::filesystem::path(cache_dir) / (list_name + ".list")).string();
}

ListText read_list_text(const ListSource& source, const std::string& cache_dir) {
  ListText result;
  if (!source.file.empty()) {
    result.path = source.file;
    result.error = read_file(result.path, source.max_size, result.text);
    return result;
  }
  result.path = list_cache_path(cache_dir, source.name);
  std::error_code error;
  if (!std::filesystem::exists(result.path, error)) {
    result.note = "no cached copy of " + source.url + " yet (" + result.path + ")";
    return result;
  }
  result.error = read_file(result.path, source.max_size, result.text);
  return result;
}

}  // namespace dnsvagt
