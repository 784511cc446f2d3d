#include "mask/evalset.h"

#include <cstdio>
#include <optional>

#include "mask/checksums.h"

namespace cw::mask {
namespace {

// Held out from the detector: no name here is in lexicon.cc (mask_test holds the lists to that).
constexpr std::string_view kFirst[] = {
    "adaeze",      "adebayo",    "amara",      "anselm",     "araminta",  "babajide",   "barnaby",
    "bartholomew", "beatrix",    "benedikt",   "briony",     "casimir",   "cassius",    "chiamaka",
    "chidi",       "clementine", "cordelia",   "cornelius",  "davina",    "delphine",   "desmond",
    "dorian",      "emeka",      "emeric",     "esmeralda",  "eulalia",   "ezekiel",    "fabian",
    "fenella",     "feodora",    "florian",    "folake",     "genevieve", "gideon",     "gustav",
    "gwendolyn",   "henrietta",  "hilario",    "honoria",    "horatio",   "ignatius",   "ildefonso",
    "imogen",      "isolde",     "jasper",     "jessamine",  "jiro",      "juniper",    "kaito",
    "kalliope",    "kirsi",      "kofi",       "kwame",      "leocadia",  "leopold",    "linnea",
    "lorcan",      "lysander",   "maelle",     "marisol",    "mattias",   "montgomery", "nerissa",
    "ngozi",       "nikodem",    "noemi",      "olumide",    "oriana",    "orrin",      "ottilie",
    "pascoe",      "percival",   "persephone", "philippa",   "quentin",   "quilla",     "rainer",
    "rhiannon",    "roderick",   "rosalind",   "saoirse",    "sebastian", "seraphina",  "sipho",
    "soren",       "tadeo",      "tamsin",     "tendai",     "thabo",     "thaddeus",   "thandiwe",
    "tobias",      "ugo",        "ulysses",    "una",        "ursula",    "vasco",      "verity",
    "vesna",       "wanjiru",    "wendell",    "wilhelmina", "winifred",  "wolfgang",   "xavier",
    "xiomara",     "yannick",    "yolanda",    "yoshiro",    "yseult",    "zebulon",    "zinnia",
    "zoltan",      "zuleika",    "zyler",
};
constexpr std::string_view kLast[] = {
    "abara",         "abernathy",   "achebe",      "antonopoulos", "ashcombe",    "balogun",
    "bexley",        "blackwood",   "brannigan",   "brightwater",  "calloway",    "castellanos",
    "cavendish",     "chukwu",      "crabtree",    "danjuma",      "delacroix",   "dewhurst",
    "drummond",      "dunmore",     "eckersley",   "ekwueme",      "ellsworth",   "entwistle",
    "everleigh",     "fairweather", "farquhar",    "fashola",      "fitzgerald",  "galbraith",
    "gallagher",     "gbadamosi",   "gorski",      "hakeem",       "hargreaves",  "haverford",
    "hollingsworth", "ikenna",      "inglethorpe", "ishikawa",     "iwasaki",     "jablonski",
    "jegede",        "jorgensen",   "jovanovic",   "kaczmarek",    "kariuki",     "kettleborough",
    "kowalczyk",     "lachlan",     "lindqvist",   "lockhart",     "lungu",       "marchetti",
    "mcallister",    "montague",    "mwangi",      "nakashima",    "nightingale", "nkemelu",
    "norbury",       "obiora",      "oduya",       "okafor",       "okonkwo",     "oyelaran",
    "pemberton",     "pennington",  "pritchard",   "pryce",        "quarrie",     "quimby",
    "quinlivan",     "radcliffe",   "rasmussen",   "ravenscroft",  "rutherford",  "sedgwick",
    "sotomayor",     "stanhope",    "strickland",  "tennyson",     "thistlewood", "tolliver",
    "trelawney",     "umberger",    "underhill",   "urquhart",     "uttley",      "vance",
    "vandermeer",    "vickery",     "villanueva",  "wainwright",   "wetherby",    "whitlock",
    "winterbottom",  "yamaguchi",   "yarborough",  "yelverton",    "zabinski",    "zeller",
    "zielinski",
};

std::string Capitalised(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z')
    out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

template <size_t N>
std::string_view Pick(Random& r, const std::string_view (&list)[N]) {
  return list[r.Uniform(N)];
}

}  // namespace

std::span<const std::string_view> HeldOutFirstNames() { return kFirst; }
std::span<const std::string_view> HeldOutSurnames() { return kLast; }

std::string TextForge::Digits(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + r_.Uniform(10));
  return s;
}

std::string TextForge::FirstName() { return Capitalised(Pick(r_, kFirst)); }
std::string TextForge::Surname() { return Capitalised(Pick(r_, kLast)); }

std::string TextForge::Email(std::string_view first, std::string_view last) {
  static constexpr std::string_view kDomains[] = {
      "buildco.example",  "acme-tools.com", "sitecrew.net",
      "gmail.com",        "outlook.com",    "northwind-construction.co.uk",
      "fleet.example.org"};
  std::string f(first), l(last);
  for (auto* s : {&f, &l}) {
    for (char& c : *s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  switch (r_.Uniform(4)) {
    case 0:
      return f + "." + l + "@" + std::string(Pick(r_, kDomains));
    case 1:
      return f.substr(0, 1) + l + "@" + std::string(Pick(r_, kDomains));
    case 2:
      return f + "_" + l + Digits(2) + "@" + std::string(Pick(r_, kDomains));
    default:
      return l + "+site" + Digits(1) + "@" + std::string(Pick(r_, kDomains));
  }
}

std::string TextForge::Phone() {
  static constexpr std::string_view kAreas[] = {"212", "312", "415", "617", "206", "303", "404",
                                                "512", "602", "713", "801", "919", "503", "702"};
  std::string area(Pick(r_, kAreas));
  std::string exchange = std::to_string(200 + r_.Uniform(800));
  if (exchange == "555" || exchange[1] == '1') exchange = "736";
  std::string line = Digits(4);
  switch (r_.Uniform(9)) {
    case 0:
      return "(" + area + ") " + exchange + "-" + line;
    case 1:
      return area + "-" + exchange + "-" + line;
    case 2:
      return area + "." + exchange + "." + line;
    case 3:
      return "+1 " + area + " " + exchange + " " + line;
    case 4:
      return "+1-" + area + "-" + exchange + "-" + line;
    case 5:
      return area + " " + exchange + " " + line;
    case 6:
      return "+44 20 7" + Digits(3) + " " + Digits(4);
    case 7:
      return "+49 30 " + Digits(4) + " " + Digits(4);
    default:
      return "+44 7700 9" + Digits(5);
  }
}

std::string TextForge::Card() {
  std::string payload;
  int kind = static_cast<int>(r_.Uniform(3));
  if (kind == 0)
    payload = "4" + Digits(14);
  else if (kind == 1)
    payload = "5" + std::to_string(1 + r_.Uniform(5)) + Digits(13);
  else
    payload = std::string(r_.Bernoulli(0.5) ? "34" : "37") + Digits(12);
  std::string number = payload + LuhnCheckDigit(payload);
  int style = static_cast<int>(r_.Uniform(3));
  if (style == 0) return number;
  char sep = style == 1 ? ' ' : '-';
  if (number.size() == 15)
    return number.substr(0, 4) + sep + number.substr(4, 6) + sep + number.substr(10);
  std::string out;
  for (size_t i = 0; i < number.size(); i += 4)
    out += (i ? std::string(1, sep) : "") + number.substr(i, 4);
  return out;
}

std::string TextForge::Imei() {
  std::string payload = "35" + Digits(12);
  return payload + LuhnCheckDigit(payload);
}

std::string TextForge::Iccid() {
  std::string payload = "8901" + Digits(14);
  return payload + LuhnCheckDigit(payload);
}

std::string TextForge::Iban() {
  static constexpr struct {
    const char* cc;
    const char* shape;  // L: letter, D: digit
  } kShapes[] = {{"DE", "DDDDDDDDDDDDDDDDDD"},
                 {"GB", "LLLLDDDDDDDDDDDDDD"},
                 {"FR", "DDDDDDDDDDDDDDDDDDDDDDD"},
                 {"NL", "LLLLDDDDDDDDDD"}};
  const auto& shape = kShapes[r_.Uniform(4)];
  std::string bban;
  for (const char* p = shape.shape; *p; ++p) {
    bban += *p == 'L' ? static_cast<char>('A' + r_.Uniform(26))
                      : static_cast<char>('0' + r_.Uniform(10));
  }
  int rem = Mod97(bban + shape.cc + "00");
  char check[16];  // two digits; sized for any int, which -Wformat-truncation checks
  std::snprintf(check, sizeof check, "%02d", 98 - rem);
  std::string iban = std::string(shape.cc) + check + bban;
  if (r_.Bernoulli(0.4)) return iban;
  std::string out;
  for (size_t i = 0; i < iban.size(); i += 4) out += (i ? " " : "") + iban.substr(i, 4);
  return out;
}

std::string TextForge::Ipv4() {
  return std::to_string(1 + r_.Uniform(223)) + "." + std::to_string(r_.Uniform(256)) + "." +
         std::to_string(r_.Uniform(256)) + "." + std::to_string(1 + r_.Uniform(254));
}

std::string TextForge::Ipv6() {
  char buf[64];
  if (r_.Bernoulli(0.5)) {
    std::snprintf(buf, sizeof buf, "2001:db8:%x:%x::%x", static_cast<unsigned>(r_.Uniform(0x10000)),
                  static_cast<unsigned>(r_.Uniform(0x10000)),
                  static_cast<unsigned>(1 + r_.Uniform(0xfffe)));
  } else {
    std::snprintf(
        buf, sizeof buf, "fe80::%x:%xff:fe%x:%x", static_cast<unsigned>(r_.Uniform(0x10000)),
        static_cast<unsigned>(r_.Uniform(0x100)), static_cast<unsigned>(r_.Uniform(0x100)),
        static_cast<unsigned>(r_.Uniform(0x10000)));
  }
  return buf;
}

std::string TextForge::Mac() {
  bool upper = r_.Bernoulli(0.5);
  char sep = r_.Bernoulli(0.7) ? ':' : '-';
  std::string out;
  for (int i = 0; i < 6; ++i) {
    char b[16];
    std::snprintf(b, sizeof b, upper ? "%02X" : "%02x", static_cast<unsigned>(r_.Uniform(256)));
    out += (i ? std::string(1, sep) : "") + b;
  }
  return out;
}

std::string TextForge::Ssn() {
  int area = 1 + static_cast<int>(r_.Uniform(899));
  if (area == 666) area = 667;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%03d-%02d-%04d", area, 1 + static_cast<int>(r_.Uniform(99)),
                1 + static_cast<int>(r_.Uniform(9999)));
  return buf;
}

std::string TextForge::Url() {
  static constexpr std::string_view kHosts[] = {
      "https://portal.buildco.example/tickets/", "http://fleet.example.com/tools/",
      "https://support.acme-tools.com/case?id=", "www.sitecrew.net/jobs/"};
  return std::string(Pick(r_, kHosts)) + Digits(5);
}

std::string TextForge::StreetAddress() {
  static constexpr std::string_view kSuffixes[] = {"Street",    "Avenue", "Road", "Lane", "Drive",
                                                   "Boulevard", "Court",  "Way",  "St.",  "Ave"};
  std::string out = std::to_string(1 + r_.Uniform(9998)) + " " + Surname() + " " +
                    std::string(Pick(r_, kSuffixes));
  if (r_.Bernoulli(0.25)) out += ", Suite " + std::to_string(100 + r_.Uniform(800));
  return out;
}

std::string TextForge::Serial() {
  static constexpr char kAlnum[] = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
  std::string s = "DT-";
  for (int i = 0; i < 8; ++i) s += kAlnum[r_.Uniform(sizeof kAlnum - 1)];
  return s;
}

LabelledText TextForge::Note() {
  static constexpr std::string_view kTemplates[] = {
      "Technician {FULL} replaced the battery pack on {SERIAL}.",
      "{FULL} reported the clutch slipping at 40 Nm.",
      "Spoke with {FULL} about the warranty claim, call back at {PHONE}.",
      "Called {FIRST} at {PHONE} - no answer, left voicemail.",
      "Customer contact: {FULL}, {EMAIL}, {PHONE}.",
      "Tool returned by {FIRST}; charger missing.",
      "Per {FIRST}, the unit was dropped from the scaffold.",
      "{FIRST} said the trigger sticks when cold.",
      "Mr. {LAST} wants a replacement before Friday.",
      "Ms. {LAST} confirmed the site address: {ADDRESS}.",
      "Assigned to {FULL} for follow-up.",
      "{FIRST}'s impact driver shows error E{ERR} after the update.",
      "Operator {FIRST} logged in from {IP} to pair the tool.",
      "Please email {EMAIL} with the calibration report.",
      "cc {FULL} and {FULL}",
      "Foreman {LAST} asked for two more packs on site.",
      "Delivered to {ADDRESS}, signed by {FULL}.",
      "Job moved to {ADDRESS}; supervisor {FULL} on site from 7am.",
      "{FULL} ({EMAIL}) requested a loaner.",
      "Paged {FULL} twice, escalated to {FULL}.",
      "Note from {FIRST}: the LED blinks red three times.",
      "Met {FULL} at the gate.",
      "Invoice paid by card {CARD}, receipt to {EMAIL}.",
      "Refund to IBAN {IBAN} approved by {FULL}.",
      "Replacement gateway IMEI {IMEI}, SIM ICCID {ICCID}.",
      "Bluetooth module MAC {MAC} would not pair.",
      "Device reached the portal at {URL} but the upload failed.",
      "Background check SSN {SSN} on file for {FULL}.",
      "New hire {FULL}, SSN {SSN}, badge pending.",
      "Telemetry gateway at {IP6} dropped offline.",
      "{FULL} dropped the saw; the guard cracked.",
      "Thanks {FIRST}, the firmware fix worked.",
      "Left the charger with {FULL} at {ADDRESS}.",
      "Customer {FULL} phoned from {PHONE} about a late delivery.",
      "Text {PHONE} when the tool is ready.",
      "Reach {FIRST} on {PHONE} or {EMAIL}.",
      "Card ending {CARD} declined twice; {FIRST} will call the bank.",
      "Shipped to {ADDRESS} for {FULL}.",
      // Harder: no cue, lists of first names, lowercase, national numbers without a country
      // code, and capitalised places and brands that are not people.
      "{FIRST} dropped the grinder off the roof.",
      "Crew today: {FIRST}, {FIRST} and {FIRST}.",
      "Picked up by {FIRST} from the Home Depot on Elm.",
      "Drove to Salt Lake City for the {LAST} job.",
      "spoke to {first} in the yard, all good",
      "Ring {FIRST} back on {UKPHONE} after lunch.",
      "Tell {FIRST} the New Holland site is closed.",
      "{FULL} and {FULL} swapped shifts.",
      "Ordered via Milwaukee Tool support; {FIRST} to confirm.",
      "Black Friday order for {FULL} shipped to {ADDRESS}.",
      "Unit stolen from the Riverside Plaza lot, reported to Officer {LAST}.",
      "Dispatch: {FULL}, {PHONE}, site {ADDRESS}.",
      "Routine inspection, no issues found.",
      "Replaced carbon brushes; torque within spec at 45.5 Nm.",
      "Firmware updated to 2.14.3, error E{ERR} cleared.",
      "Battery drained overnight, charged to 100 percent by 7:30.",
      "Unit {SERIAL} overheated after 45 minutes of continuous use.",
      "Chuck wobble measured at 0.3 mm, sent for repair.",
      "Left on the Level 2 deck near Gate B.",
      "Calibration due on 2026-12-15, reminder set.",
      "Error E{ERR} appeared 3 times between 14:00 and 15:30.",
      "Ordered 2 packs and 1 charger, PO 48213 pending.",
      "Hammer Drill stalls under load in cold weather.",
      "Returned to Main Warehouse, Bay 14, after the Denver job.",
  };
  LabelledText out;
  std::string_view tpl = Pick(r_, kTemplates);
  auto add = [&](std::string value, std::optional<Entity> kind) {
    size_t b = out.text.size();
    out.text += value;
    if (kind) out.gold.push_back({b, out.text.size(), *kind});
  };
  for (size_t i = 0; i < tpl.size();) {
    if (tpl[i] != '{') {
      out.text += tpl[i++];
      continue;
    }
    size_t close = tpl.find('}', i);
    std::string_view slot = tpl.substr(i + 1, close - i - 1);
    i = close + 1;
    if (slot == "FIRST")
      add(FirstName(), Entity::kPerson);
    else if (slot == "LAST")
      add(Surname(), Entity::kPerson);
    else if (slot == "first") {
      std::string name = FirstName();
      name[0] = static_cast<char>(name[0] - 'A' + 'a');
      add(name, Entity::kPerson);
    } else if (slot == "FULL") {
      std::string first = FirstName(), last = Surname();
      int style = static_cast<int>(r_.Uniform(6));
      if (style == 0)
        add(first.substr(0, 1) + ". " + last, Entity::kPerson);
      else if (style == 1)
        add(first + " " + static_cast<char>('A' + r_.Uniform(26)) + ". " + last, Entity::kPerson);
      else
        add(first + " " + last, Entity::kPerson);
    } else if (slot == "EMAIL")
      add(Email(FirstName(), Surname()), Entity::kEmail);
    else if (slot == "PHONE")
      add(Phone(), Entity::kPhone);
    else if (slot == "UKPHONE")
      add("020 7946 0" + Digits(3), Entity::kPhone);  // national format, no +44
    else if (slot == "CARD")
      add(Card(), Entity::kCard);
    else if (slot == "IMEI")
      add(Imei(), Entity::kImei);
    else if (slot == "ICCID")
      add(Iccid(), Entity::kIccid);
    else if (slot == "IBAN")
      add(Iban(), Entity::kIban);
    else if (slot == "IP")
      add(Ipv4(), Entity::kIp);
    else if (slot == "IP6")
      add(Ipv6(), Entity::kIp);
    else if (slot == "MAC")
      add(Mac(), Entity::kMac);
    else if (slot == "SSN")
      add(Ssn(), Entity::kSsn);
    else if (slot == "URL")
      add(Url(), Entity::kUrl);
    else if (slot == "ADDRESS")
      add(StreetAddress(), Entity::kAddress);
    else if (slot == "SERIAL")
      add(Serial(), std::nullopt);
    else if (slot == "ERR")
      add(std::to_string(10 + r_.Uniform(90)), std::nullopt);
  }
  return out;
}

std::vector<LabelledText> BuildEvalSet(size_t n, uint64_t seed) {
  SeededRandom random(seed);
  TextForge forge(random);
  std::vector<LabelledText> set;
  set.reserve(n);
  for (size_t i = 0; i < n; ++i) set.push_back(forge.Note());
  return set;
}

Result<std::vector<EvalRow>> Evaluate(const Redactor& redactor,
                                      const std::vector<LabelledText>& set,
                                      std::vector<EvalExample>* examples, size_t max_examples) {
  auto example = [&](const LabelledText& note, const EntitySpan& span, bool missed) {
    if (examples && examples->size() < max_examples) {
      examples->push_back(
          {span.kind, missed, note.text, note.text.substr(span.begin, span.end - span.begin)});
    }
  };
  std::vector<EvalRow> rows(kEntityKinds);
  for (size_t k = 0; k < kEntityKinds; ++k) rows[k].kind = static_cast<Entity>(k);
  for (size_t i = 0; i < set.size(); ++i) {
    const LabelledText& note = set[i];
    auto found = redactor.Find(note.text);
    if (!found.ok()) return found.error().WithContext("evaluation note " + std::to_string(i + 1));
    for (const EntitySpan& g : note.gold) {
      EvalRow& row = rows[static_cast<size_t>(g.kind)];
      ++row.gold;
      bool recalled = false;
      for (const EntitySpan& f : *found)
        recalled |= f.kind == g.kind && f.begin <= g.begin && f.end >= g.end;
      row.recalled += recalled;
      if (!recalled) example(note, g, true);
    }
    for (const EntitySpan& f : *found) {
      EvalRow& row = rows[static_cast<size_t>(f.kind)];
      ++row.found;
      bool correct = false;
      for (const EntitySpan& g : note.gold)
        correct |= g.kind == f.kind && f.begin < g.end && g.begin < f.end;
      row.correct += correct;
      if (!correct) example(note, f, false);
    }
  }
  std::erase_if(rows, [](const EvalRow& r) { return r.gold == 0 && r.found == 0; });
  return rows;
}

EvalTarget TargetFor(Entity kind) {
  switch (kind) {
    case Entity::kEmail:
    case Entity::kCard:
    case Entity::kIban:
    case Entity::kIp:
    case Entity::kMac:
    case Entity::kSsn:
      return {0.98, 0};
    case Entity::kPerson:
      return {0.90, 0.75};
    default:
      return {};
  }
}

std::string FormatEval(const std::vector<EvalRow>& rows, size_t notes) {
  auto target = [](Entity kind) {
    EvalTarget t = TargetFor(kind);
    char text[64] = "";
    if (t.min_precision > 0)
      std::snprintf(text, sizeof text, "recall ≥ %.2f, precision ≥ %.2f", t.min_recall,
                    t.min_precision);
    else if (t.min_recall > 0)
      std::snprintf(text, sizeof text, "recall ≥ %.2f", t.min_recall);
    return std::string(text);
  };
  auto met = [](const EvalRow& r) -> std::string {
    EvalTarget t = TargetFor(r.kind);
    if (!t.any()) return "";
    return t.MetBy(r) ? "met" : "**missed**";
  };
  char buf[256];
  std::string out = "Evaluation set: " + std::to_string(notes) +
                    " notes from templates, names from lists disjoint from the detector's.\n\n"
                    "| entity | in set | reported | precision | recall | F2 | target | |\n"
                    "|---|---:|---:|---:|---:|---:|---|---|\n";
  for (const EvalRow& r : rows) {
    std::snprintf(buf, sizeof buf, "| %s | %llu | %llu | %.3f | %.3f | %.3f | %s | %s |\n",
                  std::string(EntityName(r.kind)).c_str(), static_cast<unsigned long long>(r.gold),
                  static_cast<unsigned long long>(r.found), r.precision(), r.recall(), r.f2(),
                  target(r.kind).c_str(), met(r).c_str());
    out += buf;
  }
  return out;
}

}  // namespace cw::mask
