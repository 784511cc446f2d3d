// The cart test fixture: a cart on a recording uplink, a manual clock and a flash directory, with
// helpers that decode and check what it sent. Shared by the cart's and the OTA agent's tests.
#pragma once

#include <gtest/gtest.h>

#include "core/files.h"
#include "core/time_format.h"
#include "device/cart.h"
#include "testing/temp_dir.h"
#include "wire/envelope.h"
#include "wire/event.h"
#include "wire/json.h"
#include "wire/topic.h"

namespace cw::device::testing_support {


const Time kT0 = *ParseWireTime("2026-11-22T10:00:00.000Z");
constexpr char kCatalog[] =
    "sku,name,price_cents,expected_weight_g,category\n"
    "4006381333931,Milk 1l,129,1030,dairy\n"
    "0012345678905,Bread,249,500,bakery\n"
    "GIFTCARD-25,Gift card,2500,,misc\n";

class RecordingUplink : public Uplink {
 public:
  bool connected() const override { return up; }
  std::string_view link() const override { return link_name; }
  bool Publish(const std::string& topic, const std::string& payload) override {
    if (!up) return false;
    sent.push_back({topic, payload});
    return true;
  }
  bool up = true;
  std::string link_name = "wifi";
  std::vector<std::pair<std::string, std::string>> sent;
};

// Serves images from memory when the test says so (Deliver), so a test controls every chunk: it
// can stop midway, fail a fetch or corrupt a byte.
class MemoryFirmwareSource : public FirmwareSource {
 public:
  struct Request {
    std::string url;
    uint64_t offset, max_bytes;
    Done done;
  };
  void Fetch(const std::string& url, uint64_t offset, uint64_t max_bytes, Done done) override {
    requests.push_back({url, offset, max_bytes, std::move(done)});
  }
  // Answers the oldest request from `images` (by URL); false if none is waiting.
  bool Deliver() {
    if (requests.empty()) return false;
    Request r = std::move(requests.front());
    requests.erase(requests.begin());
    offsets.push_back(r.offset);
    auto it = images.find(r.url);
    if (it == images.end()) {
      r.done(NotFound("no image at " + r.url));
    } else if (fail_next > 0) {
      fail_next--;
      r.done(Unavailable("connection reset"));
    } else {
      r.done(it->second.substr(std::min<size_t>(r.offset, it->second.size()), r.max_bytes));
    }
    return true;
  }
  // Delivers until nothing is waiting; returns how many were answered.
  int DeliverAll() {
    int n = 0;
    while (Deliver()) n++;
    return n;
  }
  std::map<std::string, std::string> images;
  std::vector<Request> requests;
  std::vector<uint64_t> offsets;  // of every answered request
  int fail_next = 0;
};

class CartTest : public ::testing::Test {
 protected:
  CartTest() {
    se_ = *crypto::SoftKeyStore::Generate();
    cloud_ = *crypto::SoftKeyStore::Generate();
    firmware_key_ = *crypto::SoftKeyStore::Generate();
    seq_ = *SeqCounter::Open(dir_.path() + "/seq");
    catalog_ = *Catalog::Parse(kCatalog);
    PowerOn();
  }

  // Boots the cart from its flash directory, as after a power cycle. The boot event it sends live
  // goes to boots_, so the tests of the shopper's events see only those.
  void PowerOn(Battery battery = Battery()) {
    cart_.reset();
    size_t before = uplink_.sent.size();
    auto booted = Cart::Boot(Cart::Parts{CartId::FromNumber(7), "2.0.0", se_.get(), seq_.get(), &clock_, &random_,
                                         &catalog_, &uplink_, cloud_->public_key(), battery, dir_.path(),
                                         {firmware_key_->public_key()}, &source_});
    ASSERT_TRUE(booted.ok()) << booted.error().ToString();
    cart_ = std::move(*booted);
    for (size_t i = before; i < uplink_.sent.size();) {
      if (uplink_.sent[i].first == wire::EventTopic(cart_->id(), wire::EventType::kBoot)) {
        boots_.push_back(uplink_.sent[i]);
        uplink_.sent.erase(uplink_.sent.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
  }

  std::vector<std::string> Types() {
    std::vector<std::string> out;
    for (const auto& d : Sent()) out.push_back(Type(d));
    return out;
  }

  std::vector<rapidjson::Document> OfType(const std::string& type) {
    std::vector<rapidjson::Document> out;
    for (auto& d : Sent()) {
      if (Type(d) == type) out.push_back(std::move(d));
    }
    return out;
  }

  // Decodes every sent message, asserting wire validity, a valid signature and rising seq.
  std::vector<rapidjson::Document> Sent() {
    std::vector<rapidjson::Document> out;
    uint64_t last = 0;
    for (const auto& [topic, payload] : uplink_.sent) {
      auto checked = wire::CheckEvent(topic, payload);
      EXPECT_TRUE(checked.ok()) << topic << ": " << (checked.ok() ? "" : checked.error().detail);
      auto env = *wire::SplitEnvelope(payload);
      EXPECT_TRUE(se_->public_key().Verify(env.json, env.signature));
      rapidjson::Document d;
      EXPECT_TRUE(wire::ParseStrictObject(env.json, d).ok());
      EXPECT_GT(*wire::GetUint(d, "seq"), last);
      last = *wire::GetUint(d, "seq");
      out.push_back(std::move(d));
    }
    return out;
  }

  static std::string Type(const rapidjson::Document& d) { return std::string(*wire::GetString(d, "type")); }

  std::string Command(wire::CommandKind kind, const std::function<void(wire::JsonBuilder&)>& fields) {
    wire::JsonBuilder b;
    wire::WriteCommandHeader({kind, random_.UuidV4(), cart_->id(), clock_.Now(), clock_.Now() + std::chrono::minutes(5)}, b);
    fields(b);
    std::string json = b.Finish();
    return wire::JoinEnvelope(json, *cloud_->Sign(json));
  }

  testing::TempDir dir_;
  ManualClock clock_{kT0};
  SeededRandom random_{11};
  std::unique_ptr<crypto::SoftKeyStore> se_, cloud_, firmware_key_;
  MemoryFirmwareSource source_;
  std::unique_ptr<SeqCounter> seq_;
  Catalog catalog_;
  RecordingUplink uplink_;
  std::vector<std::pair<std::string, std::string>> boots_;  // boot events sent live
  std::unique_ptr<Cart> cart_;
};

}  // namespace cw::device::testing_support
