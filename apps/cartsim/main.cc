// cartsim: a fleet of simulated smart carts. All logic lives in src/device and src/sim.
#include "sim/cartsim_cli.h"

int main(int argc, char** argv) { return cw::sim::RunCartsim(argc, argv); }
