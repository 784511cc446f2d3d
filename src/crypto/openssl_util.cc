#include "crypto/openssl_util.h"

#include <openssl/err.h>

namespace cw::crypto::internal {
namespace {
std::string DrainErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error queued" : out;
}
}  // namespace

Status OpensslError(const std::string& what) { return Internal(what + ": " + DrainErrors()); }
Status OpensslBadInput(const std::string& what) {
  ERR_clear_error();
  return InvalidArgument(what);
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

BioPtr MemBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

bool IsP256(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64];
  size_t len = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) return false;
  return std::string_view(group, len) == "prime256v1";
}

}  // namespace cw::crypto::internal
