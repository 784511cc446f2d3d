#include "device/battery.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace cw::device {

void Battery::Draw(double amps, Duration d) {
  double hours = std::chrono::duration<double, std::ratio<3600>>(d).count();
  double usable_ah = spec_.nameplate_ah * spec_.usable_fraction;
  soc_ = std::clamp(soc_ - amps * hours / usable_ah, 0.0, 1.0);
}

int Battery::percent() const { return static_cast<int>(std::lround(soc_ * 100.0)); }

double Battery::OpenCircuitVolts() const {
  // Per-cell OCV of a typical NMC cell at 0,10,...,100% of the usable range (3.2 V cutoff, 4.2 V full).
  static constexpr std::array<double, 11> kCell = {3.20, 3.45, 3.55, 3.62, 3.68, 3.74, 3.80, 3.88, 3.96, 4.06, 4.20};
  double x = soc_ * 10.0;
  size_t i = std::min<size_t>(static_cast<size_t>(x), 9);
  double cell = kCell[i] + (kCell[i + 1] - kCell[i]) * (x - static_cast<double>(i));
  // Scale the cell curve onto this pack's full/cutoff voltages.
  double frac = (cell - kCell.front()) / (kCell.back() - kCell.front());
  return spec_.cutoff_v + frac * (spec_.full_v - spec_.cutoff_v);
}

int Battery::millivolts(double amps) const {
  return static_cast<int>(std::lround((OpenCircuitVolts() - amps * spec_.internal_resistance_ohm) * 1000.0));
}

}  // namespace cw::device
