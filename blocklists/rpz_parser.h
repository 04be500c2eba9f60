// The Response Policy Zone parser (zone-file syntax read with ldns): QNAME triggers with the
// actions NXDOMAIN, NODATA, DROP, PASSTHRU and A/AAAA local data; other triggers are counted.
#pragma once

#include <cstdint>
#include <string_view>

#include "blocklists/parsed_list.h"

namespace dnsvagt {

// Adds the entries of the RPZ zone text to `collector`; returns the number of lines.
// Owner names are taken relative to the zone apex: the owner of the first SOA, else the first
// $ORIGIN, else the file's implicit origin (relative names). `name CNAME .` is NXDOMAIN for
// the name only and `*.name CNAME .` for names below it (RPZ semantics, not the apex).
uint64_t parse_rpz(std::string_view content, ListCollector& collector);

}  // namespace dnsvagt
