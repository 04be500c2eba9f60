// save_content: puts a list version into a ListStore for a test the way the updater does,
// through the store's incoming file and save_file().
#pragma once

#include <fstream>
#include <string>
#include <string_view>

#include "blocklists/list_store.h"
#include "blocklists/sha256.h"

namespace dnsvagt {

// Saves `content` as the list's good version; returns `info` with its size and sha256 set, as
// the store keeps it.
inline StoredListInfo save_content(ListStore& store, const std::string& name,
                                   std::string_view content, StoredListInfo info) {
  const std::string incoming = store.incoming_path(name);
  std::ofstream(incoming, std::ios::binary) << content;
  info.size = content.size();
  info.sha256 = Sha256().update(content).hex();
  store.save_file(name, incoming, info);
  return info;
}

}  // namespace dnsvagt
