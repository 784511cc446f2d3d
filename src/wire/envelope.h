// wire/envelope.h — the signed envelope: JSON bytes immediately followed by a 64-byte raw ECDSA
// P-256 signature (r‖s) over SHA-256 of exactly those bytes. No canonicalisation: what was received
// is what is verified.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "wire/types.h"

namespace cw::wire {

using Signature = std::array<uint8_t, kSignatureSize>;

struct Envelope {
  std::string_view json;  // view into the payload
  Signature signature;
};

// Splits a payload. InvalidArgument if it is too short to hold a signature and a JSON object, or if
// the JSON part does not look like one object ('{' … '}'). Does not parse or verify.
Result<Envelope> SplitEnvelope(std::string_view payload);

std::string JoinEnvelope(std::string_view json, const Signature& signature);

}  // namespace cw::wire
