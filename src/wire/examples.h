// wire/examples.h — one valid, representative message of every event type.
//
// For tests, fuzz seeds and documentation; each is checked against the schemas by wire tests, so
// they double as executable documentation of the contract.
#pragma once

#include <string>

#include "core/ids.h"
#include "wire/types.h"

namespace cw::wire {

inline constexpr std::string_view kExampleSessionId = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";

// Schema-valid JSON (no signature) for `type` from `cart` with `seq`.
std::string ExampleEventJson(EventType type, const CartId& cart, uint64_t seq);

}  // namespace cw::wire
