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
  // Leaves the directory in place when this object goes (for a fixture that outlives its process).
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

}  // namespace cw::testing
