// mask/lexicon.h — the word lists the free-text redactor's person and address detectors use.
//
// Two sets of name lists live in the kit, and they share no name (a test holds them to that):
//   - the detector's lists, here, which the redactor looks names up in;
//   - the held-out lists (evalset.h), which `cartmask eval` and `cartmask generate` fill text
//     with, so that the evaluation measures the context cues and not a lookup of its own answers.
// All entries are lowercase ASCII or UTF-8.
#pragma once

#include <span>
#include <string_view>

namespace cw::mask {

std::span<const std::string_view> DetectorFirstNames();
std::span<const std::string_view> DetectorSurnames();
// Capitalised words that are not names when they start a sentence or a title: function words,
// calendar words, and the vocabulary of field-service notes ("Battery", "Replaced", "Site").
std::span<const std::string_view> CommonWords();
// Words that announce a person: "technician", "called", "per", "Mr" …
std::span<const std::string_view> PersonCuesBefore();
// Words that follow a person: "said", "reported" …
std::span<const std::string_view> PersonCuesAfter();
// Street types ("street", "st", "ave", "straße" …) and unit words ("suite", "apt", "box" …): the
// redactor finds addresses by them, and the address generaliser refuses a "city" holding one.
std::span<const std::string_view> StreetSuffixes();
std::span<const std::string_view> UnitWords();

}  // namespace cw::mask
