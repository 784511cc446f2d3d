// mask/cartmask_cli.h — the `cartmask` command line: keys, generate, mask, verify, eval, remask,
// reveal. apps/cartmask/main.cc only calls RunCartmask.
#pragma once

namespace cw::mask {

// Exit codes: 0 success; 1 the work failed (mask refused, verify found violations); 2 an input is
// missing or unreadable, or the command line is wrong.
int RunCartmask(int argc, char** argv);

}  // namespace cw::mask
