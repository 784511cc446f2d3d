// libFuzzer target: everything the cloud does with an untrusted (topic, payload) pair before it
// touches a key or a store — topic parsing, envelope split, strict JSON, topic agreement, schema
// validation — plus the command and reject-notice parsers a cart runs on cloud messages, the status parser
// the cloud runs on births and wills, and the firmware-manifest parser both run on uploads and ota-jobs.
//
// Input layout: byte 0 picks the topic (event type, and whether the topic's cart id matches the
// one in the examples); the rest is the payload as received.
#include <cstddef>
#include <cstdint>
#include <string>

#include "wire/envelope.h"
#include "wire/event.h"
#include "wire/firmware.h"
#include "wire/notice.h"
#include "wire/status.h"
#include "wire/topic.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  using cw::wire::kAllEventTypes;
  uint8_t selector = data[0];
  auto type = kAllEventTypes[selector % kAllEventTypes.size()];
  cw::CartId cart = cw::CartId::FromNumber((selector & 0x80) ? 2 : 1);
  std::string topic = (selector & 0x40) ? "carts/" + cart.str() + "/events/x" : cw::wire::EventTopic(cart, type);
  std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);

  auto result = cw::wire::CheckEvent(topic, payload);
  if (!result.ok()) {
    // Every rejection must be classified and explained.
    if (result.error().detail.empty()) __builtin_trap();
  }
  // The same bytes as a cloud → cart command or notice (signature stripped if present).
  auto env = cw::wire::SplitEnvelope(payload);
  std::string_view json = env.ok() ? env->json : payload;
  auto command = cw::wire::ParseCommand(json);
  if (command.ok() && command->header.kind == cw::wire::CommandKind::kOtaJob) {
    auto job = cw::wire::ReadOtaJob(*command);
    if (job.ok()) (void)cw::wire::ParseFirmwareManifest(job->manifest);
  }
  (void)cw::wire::ParseFirmwareManifest(json);
  (void)cw::wire::ParseRejectNotice(json);
  // And as a connection status (birth or will) on carts/{id}/status.
  (void)cw::wire::ParseStatusPayload(payload);
  return 0;
}
