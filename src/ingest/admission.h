// ingest/admission.h — the per-message checks, in the order the contract gives them.
//
//   size (4 KiB) → envelope split → cart lookup (unknown, revoked) → topic, payload cart_id and
//   type agree → ECDSA verify over the exact bytes → schema → clock skew (ts > 24 h ahead)
//
// Pure apart from the directory lookup: no broker, no store writes, so a worker pool can run it in
// parallel and a fuzz target can run it on anything. Dedup needs the store and the rest of the
// batch, so it is a later stage (dedup.h). Errors are values; nothing here throws.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "core/clock.h"
#include "ingest/cart_directory.h"
#include "store/telemetry_store.h"
#include "wire/event.h"

namespace cw::ingest {

struct AdmissionOptions {
  Duration max_future_skew = std::chrono::hours(24);
  // expires_at = max(ts, received_at) + this: the event ts, unless the cart's clock is behind.
  Duration hot_retention = std::chrono::hours(24 * 90);
};

// A message that passed every check: the telemetry item to store and the parsed document for the
// per-type handlers.
struct Admitted {
  store::TelemetryEvent event;
  rapidjson::Document doc;  // the verified payload; an identify's credential removed…
  std::string credential;   // …and kept here, for the identity service alone ("" for other types)
};

// A message that failed one: the contract's reason, and what to keep of it in the dead letters.
struct Refused {
  wire::Rejection rejection;
  store::DeadLetter dead_letter;
  std::optional<CartId> notify;  // the cart to send a reject notice to, when the topic named one
};

class Admission {
 public:
  Admission(CartDirectory& directory, AdmissionOptions options = {}) : directory_(directory), options_(options) {}

  // Checks one message received at `received_at`. An internal failure (the registry is down) is a
  // Refused with internal_error, which the caller must not treat as the cart's fault: it retries
  // rather than dead-lettering (see Refused::rejection.reason).
  Result<Admitted, Refused> Check(std::string_view topic, std::string_view payload, Time received_at) const;

  // The dead-letter record for a message refused later (dedup's seq_conflict).
  store::DeadLetter DeadLetterFor(std::string_view topic, std::string_view payload, const wire::Rejection& r,
                                  Time received_at) const;

 private:
  CartDirectory& directory_;
  AdmissionOptions options_;
};

// The payload as it may be kept: an identify credential removed (the JSON re-serialised without
// it), or nothing if the payload mentions a credential and cannot be parsed to remove it.
std::string WithoutCredential(std::string_view payload);

}  // namespace cw::ingest
