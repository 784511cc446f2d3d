// What every store conformance suite is parameterised by: one row per backend.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>

namespace cw::store {

struct Backend {
  std::string name;
  // A URI for a fresh, empty store; `dir` is a private temp directory.
  std::function<std::string(const std::string& dir)> uri;
  bool persistent = true;  // false: a reopened store starts empty (cases about durability skip)
};

// gtest prints a failing case's parameter: the backend's name, not its bytes.
inline void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

// Test names read "Backends/Suite.Case/Name".
inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) { return info.param.name; }

}  // namespace cw::store
