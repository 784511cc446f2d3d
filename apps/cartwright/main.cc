// cartwright: the cloud side of a Cartwright fleet. All logic lives in src/; see src/cli.
#include "cli/cartwright_cli.h"

int main(int argc, char** argv) { return cw::cli::RunCartwright(argc, argv); }
