// Where the text of a configured list comes from: a `file:` list from its file, a `url:` list
// from the last good download kept in blocking.cache_dir (feed fetching writes it there).
#pragma once

#include <string>

#include "config/config.h"

namespace dnsvagt {

struct ListFile {
  std::string path;   // the file to read (or looked for)
  std::string error;  // non-empty: the list cannot be read
  std::string note;   // e.g. that a url: list has no cached copy yet (then path is unused)
};

// cache_dir/<name>.list: the last good copy of a downloaded list.
std::string list_cache_path(const std::string& cache_dir, const std::string& list_name);

// Finds the list's text without reading it (parse_list_file reads it a piece at a time). A
// url: list without a cached copy has a note, not an error: it has simply not been downloaded
// yet. A file that is missing or larger than source.max_size is an error.
ListFile locate_list(const ListSource& source, const std::string& cache_dir);

}  // namespace dnsvagt
