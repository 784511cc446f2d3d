// device/ota_agent.h — the cart's side of an OTA job: verify, download, install.
//
// An ota-job (wire/firmware.h) names a version, its image's URL, SHA-256 and size, and carries the
// signed manifest. The agent acts on it only if
//   - the manifest's signature verifies with a key in the cart's trust store, every key the
//     manifest requires is trusted, and the job's version, hash and size are the manifest's;
//   - the manifest's validity window holds at the job's signed server_time — never at the cart's
//     own clock, which may be hours off after a flat battery;
//   - the job is not older than one already seen (server_time below the newest one accepted, by
//     more than the command's own lifetime, is a replay);
//   - the version is newer than the running one (no downgrades; the same version is a no-op).
// It then downloads the image in chunks into flash (ota/image.part, so a power cut or a dropped
// link resumes where it stopped), checks size and SHA-256 of the whole, and hands it to the
// bootloader for the inactive slot. The cart reboots into it when no shopper is using it.
// Whatever goes wrong is reported through `on_failure` (the cart turns it into an OTA_VERIFY_FAIL
// fault naming the job) and leaves the running firmware untouched.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "device/bootloader.h"
#include "device/trust_store.h"
#include "wire/firmware.h"

namespace cw::device {

// Where the cart fetches image bytes from: ranged reads of an ota-job's URL (an HTTPS GET with
// the cart's client certificate in cartsim).
class FirmwareSource {
 public:
  virtual ~FirmwareSource() = default;
  using Done = std::function<void(Result<std::string>)>;
  // Asks for up to `max_bytes` of the image at `url` from byte `offset`. `done` is called exactly
  // once, with the bytes (fewer at the image's end) or the error, on the thread that drives the
  // cart and never from inside Fetch. A retryable error (Unavailable, DeadlineExceeded: the link
  // or the server is away) makes the cart try again later; any other fails the job. A Fetch whose cart is gone by then is simply dropped by the
  // cart (the callback checks), so a source may outlive the carts it serves.
  virtual void Fetch(const std::string& url, uint64_t offset, uint64_t max_bytes, Done done) = 0;
};

class OtaAgent {
 public:
  static constexpr uint64_t kChunkBytes = 64 * 1024;
  // A failed fetch is retried after this, doubling per failure up to kMaxRetryDelay.
  static constexpr Duration kFirstRetryDelay = std::chrono::seconds(10);
  static constexpr Duration kMaxRetryDelay = std::chrono::minutes(10);

  struct Parts {
    std::string dir;  // in flash: job.json, image.part, server_time
    Bootloader* bootloader;
    const TrustStore* trust;
    FirmwareSource* source;  // nullptr: the cart cannot download (every job fails)
    Clock* clock;
    // A job failed for good: its id, version and why (one line).
    std::function<void(const std::string& job_id, const std::string& version, const std::string& why)> on_failure;
  };
  // Opens the agent's flash directory and resumes a download that a power cut interrupted.
  static Result<std::unique_ptr<OtaAgent>> Open(Parts parts);
  ~OtaAgent();

  // Checks a job against everything above and starts (or resumes) its download. The error is the
  // refusal, already reported through on_failure. A job for the version already running, armed or
  // being downloaded is Ok and changes nothing but the job id being worked on.
  // `command` is an ota-job the CommandVerifier accepted.
  Status Accept(const wire::ParsedCommand& command, std::string_view running_version);
  // Issues the next fetch when one is due (after a retry delay). Call it from the cart's Tick.
  void Poll();

  // The job being downloaded, if any.
  const std::optional<wire::OtaJob>& job() const { return job_; }
  uint64_t downloaded_bytes() const { return part_size_; }
  uint64_t failed_fetches() const { return failed_fetches_; }
  // An image is installed and armed: the next boot tries it.
  bool update_ready() const { return parts_.bootloader->armed() != nullptr; }

 private:
  explicit OtaAgent(Parts parts);
  std::string JobPath() const { return parts_.dir + "/job.json"; }
  std::string PartPath() const { return parts_.dir + "/image.part"; }
  void Fail(const wire::OtaJob& job, const std::string& why);
  void Drop();  // forgets the job and its partial image
  void FetchNext();
  void OnChunk(Result<std::string> bytes);
  void Finish();
  Status SaveJob() const;

  Parts parts_;
  std::optional<wire::OtaJob> job_;
  std::string job_command_;  // the command that brought job_, as kept in flash (job.json)
  uint64_t part_size_ = 0;
  bool in_flight_ = false;
  Time next_fetch_at_{};
  int consecutive_failures_ = 0;
  uint64_t failed_fetches_ = 0;
  Time newest_server_time_{};
  // Callbacks of fetches still in flight hold a weak reference: after the agent is gone (the cart
  // rebooted) they do nothing.
  std::shared_ptr<OtaAgent*> self_;
};

}  // namespace cw::device
