// wire/notice.h — the reject notice the cloud sends on devices/errors/{cart_id}, and the common
// header of cloud → cart commands. Both travel in the signed envelope (cloud command key).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/ids.h"
#include "core/status.h"
#include "wire/json.h"
#include "wire/types.h"

namespace cw::wire {

struct RejectNotice {
  CartId cart;
  std::optional<uint64_t> seq;
  RejectReason reason;
  std::string detail;
  std::string topic;
  Time received_at;
};
// Schema-valid JSON; detail and topic are truncated to the schema's limits.
std::string RejectNoticeJson(const RejectNotice& notice);
// InvalidArgument when the JSON is not a valid notice.
Result<RejectNotice> ParseRejectNotice(std::string_view json);

struct CommandHeader {
  CommandKind kind;
  std::string cmd_id;  // UUID v4
  CartId cart;
  Time issued_at;
  Time expires_at;
};
// Writes the common command fields into a fresh builder; the caller adds the kind's fields and
// Finish()es.
void WriteCommandHeader(const CommandHeader& header, JsonBuilder& b);

// Parses and schema-validates a command's JSON (envelope already verified by the caller).
struct ParsedCommand {
  CommandHeader header;
  rapidjson::Document doc;
};
Result<ParsedCommand> ParseCommand(std::string_view json);

}  // namespace cw::wire
