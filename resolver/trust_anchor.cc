#include "resolver/trust_anchor.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <system_error>

#include "dns/ascii_text.h"
#include "resolver/logging.h"
// Last: without <stdbool.h> before it, ldns/common.h makes bool, true and false macros, which
// <optional> (from config.h) cannot be compiled after.
#include <ldns/ldns.h>

namespace dnsvagt {
namespace {

// The owner of an anchor record, or "" for a record of another type. A relative owner (a file
// without $ORIGIN) counts from the root, as libunbound reads it.
std::string anchor_owner(const ldns_rr* record) {
  ldns_rr_type type = ldns_rr_get_type(record);
  if (type != LDNS_RR_TYPE_DS && type != LDNS_RR_TYPE_DNSKEY) return "";
  char* text = ldns_rdf2str(ldns_rr_owner(record));
  std::string owner = ascii_lowercase(text ? text : "");
  std::free(text);
  if (owner.empty() || owner.back() != '.') owner += '.';
  return owner;
}

}  // namespace

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

std::string trust_anchor_owner(const std::string& record) {
  ldns_rr* parsed = nullptr;
  if (ldns_rr_new_frm_str(&parsed, record.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
    return "";
  }
  std::string owner = anchor_owner(parsed);
  ldns_rr_free(parsed);
  return owner;
}

std::vector<std::string> trust_anchor_file_owners(const std::string& path) {
  std::vector<std::string> owners;
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "r"), std::fclose);
  if (!file) return owners;
  uint32_t default_ttl = 3600;
  ldns_rdf* origin = nullptr;
  ldns_rdf* previous = nullptr;
  int line = 0;
  // A line ldns cannot read is skipped: libunbound reports it when it loads the file.
  while (!std::feof(file.get())) {
    ldns_rr* record = nullptr;
    if (ldns_rr_new_frm_fp_l(&record, file.get(), &default_ttl, &origin, &previous, &line) !=
        LDNS_STATUS_OK) {
      continue;
    }
    std::string owner = anchor_owner(record);
    ldns_rr_free(record);
    if (!owner.empty() && std::find(owners.begin(), owners.end(), owner) == owners.end()) {
      owners.push_back(owner);
    }
  }
  ldns_rdf_deep_free(origin);
  ldns_rdf_deep_free(previous);
  return owners;
}

}  // namespace dnsvagt
