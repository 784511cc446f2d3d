#include "crypto/key_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <type_traits>

#include "core/files.h"
#include "crypto/x509.h"
#include "testing/temp_dir.h"

namespace cw::crypto {
namespace {

class KeyStoreTest : public ::testing::Test {
 protected:
  cw::testing::TempDir tmp_;
  const std::string& dir_ = tmp_.path();
};

TEST_F(KeyStoreTest, PersistedKeyIsPrivateAndReopens) {
  std::string path = dir_ + "/device.key";
  auto created = SoftKeyStore::CreateFile(path);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto reopened = SoftKeyStore::OpenFile(path);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->public_key().Fingerprint(), (*created)->public_key().Fingerprint());
  Signature sig = *(*reopened)->Sign("hello");
  EXPECT_TRUE((*created)->public_key().Verify("hello", sig));
}

TEST_F(KeyStoreTest, NeverReplacesAnExistingKey) {
  std::string path = dir_ + "/device.key";
  auto first = *SoftKeyStore::CreateFile(path);
  auto second = SoftKeyStore::CreateFile(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Code::kAlreadyExists);
  EXPECT_EQ((*SoftKeyStore::OpenFile(path))->public_key().Fingerprint(), first->public_key().Fingerprint());
}

TEST_F(KeyStoreTest, BadFilesAreClearErrors) {
  EXPECT_EQ(SoftKeyStore::OpenFile(dir_ + "/missing.key").error().code(), Code::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/junk.key", "not a key").ok());
  auto r = SoftKeyStore::OpenFile(dir_ + "/junk.key");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("junk.key"), std::string::npos);
}

TEST_F(KeyStoreTest, CsrCarriesSubjectAndProvesPossession) {
  auto store = *SoftKeyStore::Generate();
  auto pem = store->CreateCsrPem({"CART-000042", "CWS0123456789", "Cartwright"});
  ASSERT_TRUE(pem.ok());
  auto csr = CertificateRequest::FromPem(*pem);
  ASSERT_TRUE(csr.ok()) << csr.error().ToString();
  EXPECT_EQ(csr->subject().common_name, "CART-000042");
  EXPECT_EQ(csr->subject().serial_number, "CWS0123456789");
  EXPECT_EQ(csr->public_key().Fingerprint(), store->public_key().Fingerprint());
}

// The secure-element contract: the interface has sign, public key and CSR — and nothing that
// hands out the private key. (A compile-time check that no such accessor sneaks in.)
template <typename T>
concept HasPrivateKeyExport = requires(T t) { t.private_key(); } || requires(T t) { t.ExportPrivateKey(); } ||
                              requires(T t) { t.private_key_pem(); };
static_assert(!HasPrivateKeyExport<KeyStore>);
static_assert(!HasPrivateKeyExport<SoftKeyStore>);

}  // namespace
}  // namespace cw::crypto
