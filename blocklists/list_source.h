// Where the text of a configured list comes from: a `file:` list from its file, a `url:` list
// from the last good download kept in blocking.cache_dir (feed fetching writes it there).
#pragma once

#include <string>

#include "config/config.h"

namespace dnsvagt {

struct ListText {
  std::string path;   // the file read (or looked for)
  std::string text;
  std::string error;  // non-empty: the list could not be read
  std::string note;   // e.g. that a url: list has no cached copy yet (then text is empty)
};

// cache_dir/<name>.list: the last good copy of a downloaded list.
std::string list_cache_path(const std::string& cache_dir, const std::string& list_name);

// Reads the list text. A url: list without a cached copy is empty (a note says so), not an
// error: it has simply not been downloaded yet. A file larger than source.max_size is an error.
ListText read_list_text(const ListSource& source, const std::string& cache_dir);

}  // namespace dnsvagt
