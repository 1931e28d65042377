#include "protocol/mysqlclient/test_pki.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"

namespace sluice::mysqlclient::testpki {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;
using Bio = std::unique_ptr<BIO, Free>;

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

Bio ReadBio(std::string_view pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

absl::Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return absl::InternalError(absl::StrCat("bad extension ", value));
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return absl::OkStatus();
}

// A certificate for `key` named CN=`cn`, signed by issuer_key (self-signed if issuer is null).
absl::StatusOr<CertAndKey> Make(std::string_view cn, EVP_PKEY* key, X509* issuer,
                                EVP_PKEY* issuer_key, bool ca, std::string_view san) {
  static long serial = 1;
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7 * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn_text(cn);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn_text.c_str()), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  absl::Status st = AddExt(cert.get(), signer, NID_basic_constraints,
                           ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (st.ok() && ca) st = AddExt(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  if (st.ok() && !san.empty())
    st = AddExt(cert.get(), signer, NID_subject_alt_name, std::string(san));
  if (!st.ok()) return st;
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    return absl::InternalError("X509_sign failed");
  }
  Bio cbio(BIO_new(BIO_s_mem()));
  Bio kbio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cbio.get(), cert.get());
  PEM_write_bio_PrivateKey(kbio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return CertAndKey{BioText(cbio.get()), BioText(kbio.get())};
}

}  // namespace

absl::StatusOr<CertAndKey> MakeCa(std::string_view name) {
  Key key(EVP_EC_gen("P-256"));
  if (!key) return absl::InternalError("EC key generation failed");
  return Make(name, key.get(), nullptr, nullptr, /*ca=*/true, "");
}

absl::StatusOr<CertAndKey> MakeServerCert(const CertAndKey& ca, std::string_view san) {
  Bio cbio = ReadBio(ca.cert_pem);
  Bio kbio = ReadBio(ca.key_pem);
  Cert ca_cert(PEM_read_bio_X509(cbio.get(), nullptr, nullptr, nullptr));
  Key ca_key(PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr));
  if (!ca_cert || !ca_key) return absl::InternalError("cannot read the CA");
  Key key(EVP_EC_gen("P-256"));
  if (!key) return absl::InternalError("EC key generation failed");
  return Make("sluice test server", key.get(), ca_cert.get(), ca_key.get(), /*ca=*/false, san);
}

absl::StatusOr<RsaKeyPair> MakeRsaKey(int bits) {
  Key key(EVP_RSA_gen(static_cast<unsigned int>(bits)));
  if (!key) return absl::InternalError("RSA key generation failed");
  Bio pub(BIO_new(BIO_s_mem()));
  Bio priv(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(pub.get(), key.get());
  PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return RsaKeyPair{BioText(pub.get()), BioText(priv.get())};
}

absl::StatusOr<std::string> RsaOaepDecrypt(std::string_view private_pem,
                                           std::string_view ciphertext) {
  Bio bio = ReadBio(private_pem);
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return absl::InternalError("cannot read the private key");
  std::unique_ptr<EVP_PKEY_CTX, Free> ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  std::string out(static_cast<size_t>(EVP_PKEY_get_size(key.get())), '\0');
  size_t n = out.size();
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n,
                       reinterpret_cast<const unsigned char*>(ciphertext.data()),
                       ciphertext.size()) != 1) {
    return absl::InvalidArgumentError("RSA-OAEP decryption failed");
  }
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> WriteTempFile(std::string_view contents) {
  const char* tmp = std::getenv("TMPDIR");
  std::string path = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/sluice-pki-XXXXXX");
  int fd = ::mkstemp(path.data());
  if (fd < 0) return absl::InternalError(absl::StrCat("mkstemp ", path, " failed"));
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done != contents.size()) return absl::InternalError(absl::StrCat("writing ", path));
  return path;
}

}  // namespace sluice::mysqlclient::testpki
