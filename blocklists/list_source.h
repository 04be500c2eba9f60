// Where the text of a configured list comes from: a `file:` list from its file, a `url:` list
// from the last good download kept in blocking.cache_dir (feed fetching writes it there).
#pragma once

#include <string>

#include "blocklists/list_status.h"
#include "blocklists/policy.h"
#include "config/config.h"

namespace dnsvagt {

// cache_dir/<name>.list: the last good copy of a downloaded list.
std::string list_cache_path(const std::string& cache_dir, const std::string& list_name);

// Finds the list's text without reading it (PolicyBuilder::add_list_file reads it a piece at
// a time). A url: list without a cached copy has a note, not an error: it has simply not been
// downloaded yet. A file that is missing or larger than source.max_size is an error.
PolicyList locate_list(const ListSource& source, bool allow_list, const std::string& cache_dir);

// The config's facts about a list as its status shows them; nothing updated yet.
ListStatus configured_status(const ListSource& source, bool allow_list);

}  // namespace dnsvagt
