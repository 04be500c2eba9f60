// The DNSSEC root trust anchor file: created from the built-in root KSK DS records when
// missing, then kept up to date by libunbound's RFC 5011 tracking (auto-trust-anchor-file).
// And the zones that configured trust anchors are for.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace dnsvagt {

// The root zone's key-signing keys as DS records (IANA root-anchors.xml): KSK-2017 and KSK-2024.
extern const char* const kRootTrustAnchors[2];

struct CreatedAnchor {
  bool file = false;       // the file was missing and has been written
  bool directory = false;  // its directory was missing too and has been made
};

// Makes sure `path` exists: if not, creates its directory and writes kRootTrustAnchors into
// it. Throws std::runtime_error saying what failed.
CreatedAnchor ensure_root_trust_anchor_file(const std::string& path);

// Lets `uid`/`gid` rewrite the anchor file (libunbound writes a temporary file next to it and
// renames it): chowns the file, and its directory when we made it (never someone's /etc or
// /var). Logs a warning when RFC 5011 updates will not be writable; never throws.
void give_trust_anchor_to_user(const std::string& path, bool chown_directory, uid_t uid,
                               gid_t gid);

// The owner of a DS or DNSKEY record in zone-file syntax (a dnssec.trust_anchors line),
// lowercase and absolute ("lab.example."); "" if the line is no such record.
std::string trust_anchor_owner(const std::string& record);

// The owners of the DS and DNSKEY records in a file of them in zone-file syntax ($ORIGIN,
// $TTL, relative names, parentheses: what libunbound's trust-anchor-file reads), each once in
// file order, lowercase and absolute; empty if the file cannot be read.
std::vector<std::string> trust_anchor_file_owners(const std::string& path);

}  // namespace dnsvagt
