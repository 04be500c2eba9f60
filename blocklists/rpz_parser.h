// The Response Policy Zone parser (zone-file syntax read with ldns): QNAME triggers with the
// actions NXDOMAIN, NODATA, DROP, PASSTHRU and A/AAAA local data; other triggers are counted.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string_view>

#include "blocklists/parsed_list.h"

namespace dnsvagt {

// Adds the entries of the RPZ zone read from `zone` (from where it is to its end; seekable)
// to `collector`, a record at a time: the zone is never held whole. Owner names are taken
// relative to the zone apex: the owner of the first SOA, else the first $ORIGIN, else the
// file's implicit origin (relative names). `name CNAME .` is NXDOMAIN for the name only and
// `*.name CNAME .` for names below it (RPZ semantics, not the apex). Lines are not counted.
void parse_rpz(FILE* zone, ListCollector& collector);
// The same for zone text in memory; returns the number of lines.
uint64_t parse_rpz(std::string_view content, ListCollector& collector);

}  // namespace dnsvagt
