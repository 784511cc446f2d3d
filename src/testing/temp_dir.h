// testing/temp_dir.h — a private directory for one test, removed when it goes out of scope.
#pragma once

#include <string>

namespace cw::testing {

// A fresh directory under /tmp. Mode 0755 so a broker that dropped to the `mosquitto` user can
// still reach files below it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cw::testing
