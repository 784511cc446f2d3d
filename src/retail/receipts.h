// retail/receipts.h — a signed receipt for every completed session, written once to the blob
// store at receipts/{store}/{yyyy}/{mm}/{dd}/{session_id}.json (UTC date of the session's end).
//
// The receipt is the customer's and the auditor's record of what was paid: store, session, cart,
// items with names from the catalog, totals, the payment's authorisation reference and time. The
// customer appears only as the opaque Tier-2 account id (null for a guest); nothing personal.
//
// Format (JWS-like, so the signed bytes are carried exactly rather than re-serialised):
//   {"v":1,"payload":"<the receipt JSON, as a string>","alg":"ES256","key":"<signer fingerprint>",
//    "signature":"<base64 of the raw r‖s over SHA-256(payload)>"}
#pragma once

#include "crypto/key_store.h"
#include "ingest/event_sink.h"
#include "store/blob_store.h"
#include "store/entity_store.h"

namespace cw::retail {

std::string ReceiptKey(const StoreId& store, const SessionId& session, Time ended_at);

// The payload of a receipt blob if its signature verifies under `key`; InvalidArgument if the
// blob is malformed, PermissionDenied if the signature does not verify.
Result<std::string> VerifyReceipt(std::string_view blob, const crypto::PublicKey& key);

class ReceiptWriter final : public ingest::EventSink {
 public:
  // `signer` is the cloud's signing key (the command key carts pin).
  ReceiptWriter(store::EntityStore& entities, store::BlobStore& blobs, crypto::KeyStore& signer)
      : entities_(entities), blobs_(blobs), signer_(signer), signer_fingerprint_(signer.public_key().Fingerprint()) {}

  // Add for session-end, after the Projector. Writes a receipt for each completed session; a
  // receipt already written (a redelivery) is left as it is.
  Status OnBatch(std::span<const ingest::RoutedEvent> events) override;

  // The receipt of one completed session (after its session-end is projected).
  Status Write(const store::TelemetryEvent& session_end, const rapidjson::Value& doc);

 private:
  store::EntityStore& entities_;
  store::BlobStore& blobs_;
  crypto::KeyStore& signer_;
  std::string signer_fingerprint_;  // computed once: it costs a DER encoding and a hash
};

}  // namespace cw::retail
