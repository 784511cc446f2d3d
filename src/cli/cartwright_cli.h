// cli/cartwright_cli.h — the `cartwright` command line. apps/cartwright/main.cc only calls this.
//
// Contract (tooling and tests rely on it): every command takes --data-dir DIR (default
// var/cartwright) at any level and --help at every level; a bad flag or argument prints one line to
// stderr and exits 2; a failed operation prints one line and exits 1.
#pragma once

namespace cw::cli {

int RunCartwright(int argc, char** argv);

}  // namespace cw::cli
