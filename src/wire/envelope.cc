#include "wire/envelope.h"

#include <cstring>

namespace cw::wire {

Result<Envelope> SplitEnvelope(std::string_view payload) {
  if (payload.size() < kSignatureSize + 2) {
    return InvalidArgument("payload of " + std::to_string(payload.size()) +
                           " bytes is too short for a JSON object and a 64-byte signature");
  }
  Envelope env;
  env.json = payload.substr(0, payload.size() - kSignatureSize);
  std::memcpy(env.signature.data(), payload.data() + env.json.size(), kSignatureSize);
  if (env.json.front() != '{' || env.json.back() != '}') {
    return InvalidArgument("payload is not a JSON object followed by a 64-byte signature");
  }
  return env;
}

std::string JoinEnvelope(std::string_view json, const Signature& signature) {
  std::string out;
  out.reserve(json.size() + signature.size());
  out.append(json);
  out.append(reinterpret_cast<const char*>(signature.data()), signature.size());
  return out;
}

}  // namespace cw::wire
