#include "wire/examples.h"

#include "wire/json.h"

namespace cw::wire {

std::string ExampleEventJson(EventType type, const CartId& cart, uint64_t seq) {
  JsonBuilder b;
  b.Field("v", kWireVersion)
      .Field("type", Name(type))
      .Field("cart_id", cart.str())
      .Field("seq", seq)
      .Field("ts", "2026-11-22T10:15:30.123Z")
      .Field("fw", "2.0.0");
  auto& w = b.writer();
  switch (type) {
    case EventType::kSessionStart:
      b.Field("session_id", kExampleSessionId);
      break;
    case EventType::kScan:
      b.Field("session_id", kExampleSessionId)
          .Field("sku", "4006381333931")
          .Field("symbology", "ean13")
          .Field("qty", 1)
          .Field("price_cents", 249)
          .Field("weight_delta_g", 512)
          .Field("expected_weight_g", 500);
      break;
    case EventType::kIdentify:
      b.Field("session_id", kExampleSessionId).Field("method", "loyalty").Field("credential", "6012345678901234");
      break;
    case EventType::kSessionEnd:
      b.Field("session_id", kExampleSessionId).Field("status", "complete").Field("item_count", 2)
          .Field("total_cents", 747);
      b.Key("items");
      w.StartArray();
      w.StartObject();
      w.Key("sku"); w.String("4006381333931");
      w.Key("qty"); w.Int(1);
      w.Key("price_cents"); w.Int(249);
      w.EndObject();
      w.StartObject();
      w.Key("sku"); w.String("0012345678905");
      w.Key("qty"); w.Int(2);
      w.Key("price_cents"); w.Int(249);
      w.EndObject();
      w.EndArray();
      b.Key("payment");
      w.StartObject();
      w.Key("auth_token"); w.String("AUTH-7f3a9c21d4e8");
      w.Key("amount_cents"); w.Int(747);
      w.EndObject();
      break;
    case EventType::kHealth:
      b.Field("state", "active").Field("battery_pct", 81).Field("battery_mv", 7920).Field("charging", false)
          .Field("link", "wifi").Field("rssi_dbm", -61).Field("scanner_temp_c", 31.5)
          .Field("weight_drift_g", 1.2);
      b.Key("location");
      w.StartObject();
      w.Key("x_m"); w.Double(12.5);
      w.Key("y_m"); w.Double(40.25);
      w.Key("zone"); w.String("dairy");
      w.EndObject();
      b.Field("uptime_s", 3600).Field("buffered", 0);
      break;
    case EventType::kFault:
      b.Field("code", "SCANNER_JAM").Field("severity", "warn").Field("detail", "scanner did not read for 3 tries")
          .Field("session_id", kExampleSessionId);
      break;
    case EventType::kBoot:
      b.Field("slot", "A").Field("reason", "power_on").Null("previous_fw").Field("boot_count", 1);
      b.Key("trusted_keys");
      w.StartArray();
      w.String("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
      w.EndArray();
      break;
  }
  return b.Finish();
}

}  // namespace cw::wire
