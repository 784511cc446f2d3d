// crypto/openssl_util.h — RAII and error helpers for OpenSSL handles. Internal to src/crypto.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "core/status.h"

namespace cw::crypto::internal {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;

// Internal error with OpenSSL's queued reason, e.g. "sign CSR: error:0680007B:asn1 ...". Clears the queue.
Status OpensslError(const std::string& what);
// Same but as InvalidArgument: the input (PEM, CSR) was bad rather than OpenSSL failing.
Status OpensslBadInput(const std::string& what);

std::string BioToString(BIO* bio);
BioPtr MemBio(std::string_view data);

// True when `key` is an EC key on P-256.
bool IsP256(EVP_PKEY* key);

}  // namespace cw::crypto::internal
