#include "testing/temp_dir.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

namespace cw::testing {

TempDir::TempDir() {
  char tmpl[] = "/tmp/cw-test-XXXXXX";
  path_ = ::mkdtemp(tmpl);
  ::chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  if (keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace cw::testing
