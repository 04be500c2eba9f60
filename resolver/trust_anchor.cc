#include "resolver/trust_anchor.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "resolver/logging.h"

namespace dnsvagt {

const char* const kRootTrustAnchors[2] = {
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
};

CreatedAnchor ensure_root_trust_anchor_file(const std::string& path) {
  namespace fs = std::filesystem;
  CreatedAnchor created;
  std::error_code error;
  if (fs::exists(path, error)) return created;
  fs::path file(path);
  if (file.has_parent_path()) {
    created.directory = fs::create_directories(file.parent_path(), error);
    if (error) {
      throw std::runtime_error("cannot create directory " + file.parent_path().string() +
                               " for the root trust anchor: " + error.message());
    }
  }
  // Written beside and renamed, so a crash never leaves a half-written anchor behind.
  std::string temporary = path + ".new";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "; root trust anchors (KSK-2017, KSK-2024) written by dnsvagt; libunbound keeps\n"
           "; this file current by RFC 5011 key rollover tracking.\n";
    for (const char* anchor : kRootTrustAnchors) out << anchor << "\n";
    out.close();
    if (!out) throw std::runtime_error("cannot write root trust anchor file " + temporary);
  }
  fs::rename(temporary, path, error);
  if (error) {
    throw std::runtime_error("cannot create root trust anchor file " + path + ": " +
                             error.message());
  }
  created.file = true;
  return created;
}

void give_trust_anchor_to_user(const std::string& path, bool chown_directory, uid_t uid,
                               gid_t gid) {
  namespace fs = std::filesystem;
  if (chown(path.c_str(), uid, gid) != 0) {
    log_warning("cannot chown trust anchor file %s: %s", path.c_str(),
                std::generic_category().message(errno).c_str());
  }
  fs::path directory = fs::path(path).parent_path();
  if (directory.empty()) directory = ".";
  if (chown_directory) {
    if (chown(directory.c_str(), uid, gid) != 0) {
      log_warning("cannot chown %s: %s", directory.c_str(),
                  std::generic_category().message(errno).c_str());
    }
  }
  struct stat info;
  if (stat(directory.c_str(), &info) == 0 && info.st_uid != uid &&
      !(info.st_mode & S_IWOTH) && !(info.st_gid == gid && (info.st_mode & S_IWGRP))) {
    log_warning("directory %s is not writable by the service user: RFC 5011 updates of the "
                "root trust anchor cannot be saved", directory.c_str());
  }
}

}  // namespace dnsvagt
