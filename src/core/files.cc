#include "core/files.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace cw {
namespace {

Status ErrnoStatus(const std::string& what, const std::string& path) {
  int e = errno;
  std::string msg = what + " " + path + ": " + std::strerror(e);
  if (e == ENOENT) return NotFound(msg);
  if (e == EACCES || e == EPERM) return PermissionDenied(msg);
  if (e == EEXIST) return AlreadyExists(msg);
  return Internal(msg);
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status SyncDir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync directory", dir);
  return Status::Ok();
}

Status WriteTemp(const std::string& path, std::string_view data, mode_t mode, std::string& tmp) {
  tmp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return ErrnoStatus("create temp file for", path);
  Status st = WriteAll(fd, data, tmp);
  if (st.ok() && ::fchmod(fd, mode) != 0) st = ErrnoStatus("chmod", tmp);
  if (st.ok() && ::fsync(fd) != 0) st = ErrnoStatus("fsync", tmp);
  ::close(fd);
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = ErrnoStatus("read", path);
      ::close(fd);
      return st;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp;
  CW_RETURN_IF_ERROR(WriteTemp(path, data, mode, tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status st = ErrnoStatus("rename onto", path);
    ::unlink(tmp.c_str());
    return st;
  }
  return SyncDir(path);
}

Status AppendToFile(const std::string& path, std::string_view data, bool sync) {
  // Opened per append: a fleet of thousands of simulated carts cannot hold a descriptor each.
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return Internal("cannot write " + path + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (sync && ::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return Internal("cannot fsync " + path + ": " + std::strerror(err));
  }
  ::close(fd);
  return Status::Ok();
}

Status WriteFileExclusive(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp;
  CW_RETURN_IF_ERROR(WriteTemp(path, data, mode, tmp));
  // link() fails with EEXIST instead of replacing: put-if-absent with atomic contents.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    Status st = ErrnoStatus("create", path);
    ::unlink(tmp.c_str());
    return st;
  }
  ::unlink(tmp.c_str());
  return SyncDir(path);
}

Status MakeDirs(const std::string& path, mode_t mode) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) return ErrnoStatus("mkdir", partial);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path);
  if (!S_ISDIR(st.st_mode)) return FailedPrecondition(path + " exists and is not a directory");
  return Status::Ok();
}

uint64_t RaiseOpenFileLimit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace cw
