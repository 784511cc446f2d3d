// core/crc32.h — CRC-32 (IEEE 802.3, as zlib computes it) for framing records in on-disk logs.
//
// Not a security measure: it tells a torn or bit-rotted record from a whole one.
#pragma once

#include <cstdint>
#include <string_view>

namespace cw {

// CRC of `data`, continuing from `crc` (0 to start).
uint32_t Crc32(std::string_view data, uint32_t crc = 0);

}  // namespace cw
