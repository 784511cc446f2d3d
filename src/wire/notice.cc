#include "wire/notice.h"

#include "core/time_format.h"
#include "wire/schema.h"

namespace cw::wire {
namespace {
// Cuts at a UTF-8 character boundary so a truncated detail stays valid UTF-8.
std::string Truncate(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}
}  // namespace

std::string RejectNoticeJson(const RejectNotice& n) {
  JsonBuilder b;
  b.Field("v", kWireVersion).Field("cart_id", n.cart.str());
  if (n.seq && *n.seq >= 1) b.Field("seq", *n.seq);
  b.Field("reason", Name(n.reason))
      .Field("detail", Truncate(n.detail, 512))
      .Field("topic", Truncate(n.topic, 256))
      .Field("received_at", FormatTimeMillis(n.received_at));
  return b.Finish();
}

Result<RejectNotice> ParseRejectNotice(std::string_view json) {
  rapidjson::Document doc;
  CW_RETURN_IF_ERROR(ParseStrictObject(json, doc));
  CW_RETURN_IF_ERROR(SchemaSet::Get().ValidateRejectNotice(doc));
  CW_ASSIGN_OR_RETURN(CartId cart, CartId::Parse(*GetString(doc, "cart_id")));
  CW_ASSIGN_OR_RETURN(Time at, ParseWireTime(*GetString(doc, "received_at")));
  RejectNotice n{cart, GetUint(doc, "seq"), *ParseRejectReason(*GetString(doc, "reason")),
                 std::string(*GetString(doc, "detail")), std::string(*GetString(doc, "topic")), at};
  return n;
}

void WriteCommandHeader(const CommandHeader& h, JsonBuilder& b) {
  b.Field("v", kWireVersion)
      .Field("cmd", Name(h.kind))
      .Field("cmd_id", h.cmd_id)
      .Field("cart_id", h.cart.str())
      .Field("issued_at", FormatTimeMillis(h.issued_at))
      .Field("expires_at", FormatTimeMillis(h.expires_at));
}

Result<ParsedCommand> ParseCommand(std::string_view json) {
  ParsedCommand c{CommandHeader{CommandKind::kWake, "", CartId::FromNumber(0), Time{}, Time{}},
                  rapidjson::Document()};
  CW_RETURN_IF_ERROR(ParseStrictObject(json, c.doc));
  auto kind_name = GetString(c.doc, "cmd");
  if (!kind_name) return InvalidArgument("missing required field 'cmd'");
  auto kind = ParseCommandKind(*kind_name);
  if (!kind) return InvalidArgument("unknown command kind");
  CW_RETURN_IF_ERROR(SchemaSet::Get().ValidateCommand(*kind, c.doc));
  c.header.kind = *kind;
  c.header.cmd_id = std::string(*GetString(c.doc, "cmd_id"));
  CW_ASSIGN_OR_RETURN(c.header.cart, CartId::Parse(*GetString(c.doc, "cart_id")));
  CW_ASSIGN_OR_RETURN(c.header.issued_at, ParseWireTime(*GetString(c.doc, "issued_at")));
  CW_ASSIGN_OR_RETURN(c.header.expires_at, ParseWireTime(*GetString(c.doc, "expires_at")));
  return c;
}

}  // namespace cw::wire
