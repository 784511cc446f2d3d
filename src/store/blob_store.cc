#include "store/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "core/files.h"
#include "crypto/hash.h"

namespace cw::store {

Status ValidateBlobKey(std::string_view key) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("blob key '" + std::string(key.substr(0, 80)) + "' " + why);
  };
  if (key.empty() || key.size() > 512) return bad("must be 1-512 characters");
  if (key.find(".tmp-") != std::string_view::npos) return bad("must not contain '.tmp-' (reserved)");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view seg = key.substr(start, end - start);
    if (seg.empty()) return bad("has an empty path segment (leading, trailing or double '/')");
    if (seg[0] == '.') return bad("has a segment starting with '.'");
    for (char c : seg) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
        return bad("may contain only A-Z a-z 0-9 . _ - and '/'");
      }
    }
    start = end + 1;
  }
  return Status::Ok();
}

namespace {

Status PastTheEnd(std::string_view key, uint64_t offset, uint64_t size) {
  return InvalidArgument("offset " + std::to_string(offset) + " is beyond the end of blob " + std::string(key) + " (" +
                         std::to_string(size) + " bytes)");
}

class MemoryBlobStore final : public BlobStore {
 public:
  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    CW_RETURN_IF_ERROR(ValidateBlobKey(key));
    std::lock_guard lock(mu_);
    auto [it, fresh] = blobs_.emplace(std::string(key), std::string(data));
    if (!fresh && it->second != data) return AlreadyExists("blob " + std::string(key) + " already holds other bytes");
    return Status::Ok();
  }
  Result<std::string> Get(std::string_view key) override {
    CW_RETURN_IF_ERROR(ValidateBlobKey(key));
    std::lock_guard lock(mu_);
    auto it = blobs_.find(std::string(key));
    if (it == blobs_.end()) return NotFound("no blob " + std::string(key));
    return it->second;
  }
  Result<std::string> Read(std::string_view key, uint64_t offset, uint64_t max_bytes) override {
    CW_RETURN_IF_ERROR(ValidateBlobKey(key));
    std::lock_guard lock(mu_);
    auto it = blobs_.find(std::string(key));
    if (it == blobs_.end()) return NotFound("no blob " + std::string(key));
    if (offset > it->second.size()) return PastTheEnd(key, offset, it->second.size());
    return it->second.substr(offset, max_bytes);
  }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    std::lock_guard lock(mu_);
    std::vector<std::string> keys;
    for (auto it = blobs_.lower_bound(std::string(prefix)); it != blobs_.end() && it->first.starts_with(prefix); ++it) {
      keys.push_back(it->first);
    }
    return keys;
  }
  Result<std::string> Sha256(std::string_view key) override {
    CW_ASSIGN_OR_RETURN(std::string data, Get(key));
    return crypto::Sha256Hex(data);
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> blobs_;  // guarded by mu_
};

class FileBlobStore final : public BlobStore {
 public:
  explicit FileBlobStore(std::string root) : root_(std::move(root)) {}

  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    CW_RETURN_IF_ERROR(ValidateBlobKey(key));
    std::string path = Path(key);
    CW_RETURN_IF_ERROR(MakeDirs(std::filesystem::path(path).parent_path().string(), 0755));
    Status st = WriteFileExclusive(path, data, 0644);
    if (st.code() != Code::kAlreadyExists) return st;
    CW_ASSIGN_OR_RETURN(std::string existing, ReadFile(path));
    if (existing != data) return AlreadyExists("blob " + std::string(key) + " already holds other bytes");
    return Status::Ok();
  }
  Result<std::string> Get(std::string_view key) override {
    CW_RETURN_IF_ERROR(ValidateBlobKey(key));
    auto data = ReadFile(Path(key));
    if (!data.ok() && data.error().code() == Code::kNotFound) return NotFound("no blob " + std::string(key));
    return data;
  }
  Result<std::string> Read(std::string_view key, uint64_t offset, uint64_t max_bytes) override {
    CW_RETURN_IF_ERROR(ValidateBlobKey(key));
    int fd = ::open(Path(key).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return NotFound("no blob " + std::string(key));
      return Internal("open blob " + std::string(key) + ": " + std::strerror(errno));
    }
    struct stat st {};
    ::fstat(fd, &st);
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (offset > size) {
      ::close(fd);
      return PastTheEnd(key, offset, size);
    }
    std::string out(std::min(max_bytes, size - offset), '\0');
    size_t got = 0;
    while (got < out.size()) {
      ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fd);
        return Internal("read blob " + std::string(key) + ": " + (n < 0 ? std::strerror(errno) : "short file"));
      }
      got += static_cast<size_t>(n);
    }
    ::close(fd);
    return out;
  }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    std::vector<std::string> keys;
    std::error_code ec;
    std::filesystem::recursive_directory_iterator it(root_, ec), end;
    if (ec) return Internal("cannot list " + root_ + ": " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) return Internal("cannot list " + root_ + ": " + ec.message());
      if (!it->is_regular_file()) continue;
      std::string key = std::filesystem::relative(it->path(), root_).generic_string();
      if (!ValidateBlobKey(key).ok()) continue;  // in-flight temp files and strangers
      if (key.starts_with(prefix)) keys.push_back(std::move(key));
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }
  Result<std::string> Sha256(std::string_view key) override {
    CW_ASSIGN_OR_RETURN(std::string data, Get(key));
    return crypto::Sha256Hex(data);
  }

 private:
  std::string Path(std::string_view key) const { return root_ + "/" + std::string(key); }
  std::string root_;
};

}  // namespace

Result<std::unique_ptr<BlobStore>> OpenMemoryBlobStore() { return std::unique_ptr<BlobStore>(new MemoryBlobStore()); }

Result<std::unique_ptr<BlobStore>> OpenFileBlobStore(const std::string& root) {
  if (root.empty()) return InvalidArgument("file: needs a directory, e.g. file:/var/lib/cartwright/blobs");
  CW_RETURN_IF_ERROR(MakeDirs(root, 0755));
  return std::unique_ptr<BlobStore>(new FileBlobStore(root));
}

}  // namespace cw::store
