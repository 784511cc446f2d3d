#include "device/ota_agent.h"

#include <filesystem>

#include "core/files.h"
#include "core/log.h"
#include "core/time_format.h"
#include "crypto/hash.h"

namespace cw::device {

OtaAgent::OtaAgent(Parts parts) : parts_(std::move(parts)), self_(std::make_shared<OtaAgent*>(this)) {}

OtaAgent::~OtaAgent() = default;

Result<std::unique_ptr<OtaAgent>> OtaAgent::Open(Parts parts) {
  CW_RETURN_IF_ERROR(MakeDirs(parts.dir, 0700));
  std::unique_ptr<OtaAgent> a(new OtaAgent(std::move(parts)));
  if (auto mark = ReadFile(a->parts_.dir + "/server_time"); mark.ok()) {
    if (auto t = ParseWireTime(*mark); t.ok()) a->newest_server_time_ = *t;
  }
  if (!PathExists(a->JobPath())) return a;
  // A download a power cut interrupted: carry on from what reached flash.
  auto text = ReadFile(a->JobPath());
  auto cmd = text.ok() ? wire::ParseCommand(*text) : Result<wire::ParsedCommand>(text.error());
  auto job = cmd.ok() ? wire::ReadOtaJob(*cmd) : Result<wire::OtaJob>(cmd.error());
  if (!job.ok()) {
    log::Warn("ota.job_unreadable", {{"path", a->JobPath()}, {"error", job.error().ToString()}});
    a->Drop();
    return a;
  }
  a->job_command_ = std::move(*text);
  a->job_ = std::move(*job);
  std::error_code ec;
  auto size = std::filesystem::file_size(a->PartPath(), ec);
  a->part_size_ = ec ? 0 : size;
  if (a->part_size_ > a->job_->size) {
    a->Drop();
    return a;
  }
  a->next_fetch_at_ = a->parts_.clock->Now();
  return a;
}

void OtaAgent::Fail(const wire::OtaJob& job, const std::string& why) {
  log::Warn("ota.job_failed", {{"job", job.job_id}, {"version", job.version}, {"why", why}});
  if (parts_.on_failure) parts_.on_failure(job.job_id, job.version, why);
}

void OtaAgent::Drop() {
  job_.reset();
  part_size_ = 0;
  in_flight_ = false;
  consecutive_failures_ = 0;
  std::error_code ec;
  std::filesystem::remove(PartPath(), ec);
  std::filesystem::remove(JobPath(), ec);
}

Status OtaAgent::SaveJob() const {
  return WriteFileAtomic(JobPath(), job_command_, 0600);
}

Status OtaAgent::Accept(const wire::ParsedCommand& command, std::string_view running_version) {
  CW_ASSIGN_OR_RETURN(wire::OtaJob job, wire::ReadOtaJob(command));
  auto refuse = [&](const std::string& why) {
    Fail(job, why);
    return FailedPrecondition(why);
  };
  // The command's own lifetime, on the cloud's clock: a job the cloud issued before the newest
  // one seen, by more than that, has expired by the cloud's clock and is a replay.
  Duration lifetime = command.header.expires_at - command.header.issued_at;
  if (job.server_time + lifetime < newest_server_time_) {
    return refuse("stale job: server_time " + FormatTimeMillis(job.server_time) + " is older than " +
                  FormatTimeMillis(newest_server_time_) + " already seen");
  }
  auto manifest = wire::ParseFirmwareManifest(job.manifest);
  if (!manifest.ok()) return refuse("bad manifest: " + manifest.error().message());
  auto signature = crypto::SignatureFromHex(job.manifest_signature);
  const crypto::PublicKey* key = parts_.trust->Find(manifest->signing_key);
  if (!key) return refuse("manifest signed by untrusted key " + manifest->signing_key.substr(0, 16));
  if (!signature.ok() || !key->Verify(job.manifest, *signature)) return refuse("manifest signature does not verify");
  for (const auto& fp : manifest->required_keys) {
    if (!parts_.trust->Trusts(fp)) return refuse("image requires trust key " + fp.substr(0, 16) + " the cart lacks");
  }
  if (manifest->version != job.version || manifest->sha256 != job.sha256 || manifest->size != job.size) {
    return refuse("job does not match its manifest (version, sha256 or size)");
  }
  if (job.server_time < manifest->not_before) {
    return refuse("image not valid before " + FormatTimeMillis(manifest->not_before) + " (server time " +
                  FormatTimeMillis(job.server_time) + ")");
  }
  if (job.server_time >= manifest->expires_at) {
    return refuse("image expired at " + FormatTimeMillis(manifest->expires_at) + " (server time " +
                  FormatTimeMillis(job.server_time) + ")");
  }
  if (job.server_time > newest_server_time_) {
    newest_server_time_ = job.server_time;
    WriteFileAtomic(parts_.dir + "/server_time", FormatTimeMillis(newest_server_time_), 0600).IgnoreError();
  }
  if (job.version == running_version) return Status::Ok();  // already there
  if (wire::VersionLess(job.version, running_version)) {
    return refuse("downgrade from " + std::string(running_version) + " to " + job.version + " refused");
  }
  if (const SlotImage* armed = parts_.bootloader->armed(); armed && armed->version == job.version) {
    return Status::Ok();  // installed, waiting for the reboot
  }
  if (!parts_.source) return refuse("no firmware source on this cart");
  bool same_image = job_ && job_->version == job.version && job_->sha256 == job.sha256;
  if (!same_image) {
    Drop();  // a newer job replaces the one in progress
  }
  job_command_ = wire::OtaJobCommandJson(command.header, job);
  job_ = job;
  if (Status st = SaveJob(); !st.ok()) {
    Drop();
    return refuse("cannot write the job to flash: " + st.message());
  }
  if (!in_flight_) {
    consecutive_failures_ = 0;
    next_fetch_at_ = parts_.clock->Now();
    Poll();
  }
  return Status::Ok();
}

void OtaAgent::Poll() {
  if (!job_ || in_flight_ || parts_.clock->Now() < next_fetch_at_) return;
  FetchNext();
}

void OtaAgent::FetchNext() {
  in_flight_ = true;
  std::weak_ptr<OtaAgent*> self = self_;
  parts_.source->Fetch(job_->url, part_size_, kChunkBytes, [self](Result<std::string> bytes) {
    if (auto agent = self.lock()) (*agent)->OnChunk(std::move(bytes));
  });
}

void OtaAgent::OnChunk(Result<std::string> bytes) {
  in_flight_ = false;
  if (!job_) return;
  if (!bytes.ok() && !IsRetryable(bytes.error().code())) {
    // The server refused (no such image, not this cart's to fetch): retrying will not help.
    wire::OtaJob job = *job_;
    Drop();
    Fail(job, "download refused: " + bytes.error().message());
    return;
  }
  if (!bytes.ok() || bytes->empty()) {
    // The link dropped or the server is away: keep what is in flash and try again later.
    failed_fetches_++;
    Duration delay = kFirstRetryDelay * (1 << std::min(consecutive_failures_++, 10));
    next_fetch_at_ = parts_.clock->Now() + std::min(delay, kMaxRetryDelay);
    log::Info("ota.fetch_failed", {{"job", job_->job_id},
                                   {"offset", std::to_string(part_size_)},
                                   {"error", bytes.ok() ? "empty response" : bytes.error().ToString()}});
    return;
  }
  consecutive_failures_ = 0;
  if (part_size_ + bytes->size() > job_->size) {
    wire::OtaJob job = *job_;
    Drop();
    Fail(job, "image is larger than its manifest's " + std::to_string(job.size) + " bytes");
    return;
  }
  if (Status st = AppendToFile(PartPath(), *bytes, /*sync=*/true); !st.ok()) {
    wire::OtaJob job = *job_;
    Drop();
    Fail(job, "cannot write the image to flash: " + st.message());
    return;
  }
  part_size_ += bytes->size();
  if (part_size_ < job_->size) {
    FetchNext();
    return;
  }
  Finish();
}

void OtaAgent::Finish() {
  wire::OtaJob job = *job_;
  auto image = ReadFile(PartPath());
  Drop();
  if (!image.ok()) return Fail(job, "cannot read the downloaded image: " + image.error().message());
  std::string sha = crypto::Sha256Hex(*image);
  if (sha != job.sha256) return Fail(job, "image sha256 " + sha.substr(0, 16) + "… does not match the manifest's");
  Status st = parts_.bootloader->InstallToInactive(*image, {job.version, job.sha256, job.manifest});
  if (!st.ok()) return Fail(job, "cannot install into the inactive slot: " + st.message());
  log::Info("ota.installed", {{"job", job.job_id}, {"version", job.version}});
}

}  // namespace cw::device
