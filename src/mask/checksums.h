// mask/checksums.h — the check digits the redactor validates and the generator writes: one
// implementation, so the evaluation cannot drift from the detector it measures.
#pragma once

#include <string_view>

namespace cw::mask {

// Luhn (ISO/IEC 7812): payment cards, IMEI, ICCID. `digits` holds only '0'…'9'.
bool LuhnValid(std::string_view digits);
// The digit that makes `payload` + it pass Luhn.
char LuhnCheckDigit(std::string_view payload);

// ISO 7064 mod 97-10 of `alnum` (digits and uppercase letters, letters counted as 10…35), the
// IBAN checksum: an IBAN is valid when Mod97(BBAN ‖ country ‖ check digits) is 1, and its check
// digits are 98 − Mod97(BBAN ‖ country ‖ "00").
int Mod97(std::string_view alnum);

}  // namespace cw::mask
