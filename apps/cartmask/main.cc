// cartmask: the PII masking kit. All logic lives in src/mask.
#include "mask/cartmask_cli.h"

int main(int argc, char** argv) { return cw::mask::RunCartmask(argc, argv); }
