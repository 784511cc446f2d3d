// device/battery.h — the cart's battery, as the PRD specifies it.
//
// 2S Li-ion pack: 7.4 V nominal, 7.8 Ah nameplate, 8.4 V full, 6.4 V cutoff. Load: 0.4 A mixed
// average while shopping or idle-awake, 0.1 A asleep. The PRD's "~12-hour shift" at 0.4 A means
// about 4.8 Ah is usable between full and cutoff (an aged pack in a cold store, with the reserve
// the BMS keeps below cutoff), so the model counts coulombs against 62% of nameplate. Voltage
// follows a 2S Li-ion open-circuit curve over that usable range, less the I·R drop under load.
#pragma once

#include "core/clock.h"

namespace cw::device {

struct BatterySpec {
  double nameplate_ah = 7.8;
  double usable_fraction = 0.62;
  double full_v = 8.4;
  double cutoff_v = 6.4;
  double internal_resistance_ohm = 0.15;
  double active_a = 0.4;
  double sleep_a = 0.1;
  double charge_a = 2.0;
};

class Battery {
 public:
  explicit Battery(BatterySpec spec = {}, double state_of_charge = 1.0) : spec_(spec), soc_(state_of_charge) {}

  // Draws `amps` for `d` (negative amps charge). Clamped to [0, 1] state of charge.
  void Draw(double amps, Duration d);

  double state_of_charge() const { return soc_; }
  int percent() const;
  // Terminal voltage while drawing `amps`.
  int millivolts(double amps) const;
  bool at_cutoff() const { return soc_ <= 0.0; }
  const BatterySpec& spec() const { return spec_; }
  // Hours from full to cutoff at a constant draw.
  double HoursToCutoff(double amps) const { return spec_.nameplate_ah * spec_.usable_fraction / amps; }

 private:
  double OpenCircuitVolts() const;
  BatterySpec spec_;
  double soc_;
};

}  // namespace cw::device
