#include "protocol/mysqlclient/ed25519.h"

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <array>
#include <memory>

namespace sluice::mysqlclient {
namespace {

struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

Bn NewBn() { return Bn(BN_new()); }

std::string Sha512(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
  unsigned char out[64];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestUpdate(ctx, c.data(), c.size());
  EVP_DigestFinal_ex(ctx, out, &len);
  EVP_MD_CTX_free(ctx);
  return std::string(reinterpret_cast<const char*>(out), len);
}

Bn FromLe(std::string_view bytes) {
  return Bn(BN_lebin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                        static_cast<int>(bytes.size()), nullptr));
}

// A point in extended twisted Edwards coordinates: x = X/Z, y = Y/Z, x·y = T/Z.
struct Point {
  Bn x, y, z, t;
};

// edwards25519: -x² + y² = 1 + d·x²·y² over GF(2²⁵⁵ - 19), base point B with y = 4/5 and x
// even, group order L.
class Curve {
 public:
  Curve() : ctx_(BN_CTX_new()) {
    BN_set_bit(p_.get(), 255);
    BN_sub_word(p_.get(), 19);
    // L = 2^252 + 27742317777372353535851937790883648493.
    BIGNUM* l = nullptr;
    BN_dec2bn(&l, "27742317777372353535851937790883648493");
    l_.reset(l);
    Bn two252 = NewBn();
    BN_set_bit(two252.get(), 252);
    BN_add(l_.get(), l_.get(), two252.get());
    // d = -121665 / 121666.
    Bn num = Word(121665);
    BN_mod_sub(num.get(), p_.get(), num.get(), p_.get(), ctx_);
    Bn d = Mul(num.get(), Inverse(Word(121666).get()).get());
    d2_ = Add(d.get(), d.get());
    // B: y = 4/5, x = sqrt((y² - 1) / (d·y² + 1)), the even root.
    Bn y = Mul(Word(4).get(), Inverse(Word(5).get()).get());
    Bn y2 = Mul(y.get(), y.get());
    Bn one = Word(1);
    Bn x2 = Mul(Sub(y2.get(), one.get()).get(),
                Inverse(Add(Mul(d.get(), y2.get()).get(), one.get()).get()).get());
    Bn x = NewBn();
    BN_mod_sqrt(x.get(), x2.get(), p_.get(), ctx_);
    if (BN_is_odd(x.get())) BN_sub(x.get(), p_.get(), x.get());
    base_.t = Mul(x.get(), y.get());
    base_.x = std::move(x);
    base_.y = std::move(y);
    base_.z = Word(1);
  }
  ~Curve() { BN_CTX_free(ctx_); }
  Curve(const Curve&) = delete;
  Curve& operator=(const Curve&) = delete;

  const BIGNUM* order() const { return l_.get(); }
  BN_CTX* ctx() { return ctx_; }

  // k·B with a Montgomery ladder over the top 256 bits of k: one addition and one doubling per
  // bit whatever its value.
  Point MulBase(const BIGNUM* k) {
    Point r0{Word(0), Word(1), Word(1), Word(0)};
    Point r1 = Copy(base_);
    for (int i = 255; i >= 0; --i) {
      bool bit = BN_is_bit_set(k, i) != 0;
      Point sum = AddPoints(r0, r1);
      Point twice = bit ? AddPoints(r1, r1) : AddPoints(r0, r0);
      if (bit) {
        r0 = std::move(sum);
        r1 = std::move(twice);
      } else {
        r1 = std::move(sum);
        r0 = std::move(twice);
      }
    }
    return r0;
  }

  // RFC 8032 encoding: y little-endian in 32 bytes, the top bit holding x's parity.
  std::string Encode(const Point& pt) {
    Bn zinv = Inverse(pt.z.get());
    Bn x = Mul(pt.x.get(), zinv.get());
    Bn y = Mul(pt.y.get(), zinv.get());
    std::string out(32, '\0');
    BN_bn2lebinpad(y.get(), reinterpret_cast<unsigned char*>(out.data()), 32);
    if (BN_is_odd(x.get())) out[31] = static_cast<char>(out[31] | 0x80);
    return out;
  }

 private:
  static Bn Word(unsigned long w) {
    Bn b = NewBn();
    BN_set_word(b.get(), w);
    return b;
  }
  Bn Mul(const BIGNUM* a, const BIGNUM* b) {
    Bn r = NewBn();
    BN_mod_mul(r.get(), a, b, p_.get(), ctx_);
    return r;
  }
  Bn Add(const BIGNUM* a, const BIGNUM* b) {
    Bn r = NewBn();
    BN_mod_add(r.get(), a, b, p_.get(), ctx_);
    return r;
  }
  Bn Sub(const BIGNUM* a, const BIGNUM* b) {
    Bn r = NewBn();
    BN_mod_sub(r.get(), a, b, p_.get(), ctx_);
    return r;
  }
  Bn Inverse(const BIGNUM* a) {
    Bn in(BN_dup(a));
    BN_set_flags(in.get(), BN_FLG_CONSTTIME);
    Bn r = NewBn();
    BN_mod_inverse(r.get(), in.get(), p_.get(), ctx_);
    return r;
  }
  static Point Copy(const Point& p) {
    return Point{Bn(BN_dup(p.x.get())), Bn(BN_dup(p.y.get())), Bn(BN_dup(p.z.get())),
                 Bn(BN_dup(p.t.get()))};
  }
  // The unified addition for a = -1 (Hisil-Wong-Carter-Dawson 2008), also used for doubling.
  Point AddPoints(const Point& p, const Point& q) {
    Bn a = Mul(Sub(p.y.get(), p.x.get()).get(), Sub(q.y.get(), q.x.get()).get());
    Bn b = Mul(Add(p.y.get(), p.x.get()).get(), Add(q.y.get(), q.x.get()).get());
    Bn c = Mul(Mul(p.t.get(), d2_.get()).get(), q.t.get());
    Bn zz = Mul(p.z.get(), q.z.get());
    Bn d = Add(zz.get(), zz.get());
    Bn e = Sub(b.get(), a.get());
    Bn f = Sub(d.get(), c.get());
    Bn g = Add(d.get(), c.get());
    Bn h = Add(b.get(), a.get());
    return Point{Mul(e.get(), f.get()), Mul(g.get(), h.get()), Mul(f.get(), g.get()),
                 Mul(e.get(), h.get())};
  }

  BN_CTX* ctx_;
  Bn p_ = NewBn();
  Bn l_;
  Bn d2_;
  Point base_;
};

// SHA-512(password) with the scalar half clamped as RFC 8032 does.
std::string ExpandedSecret(std::string_view password) {
  std::string az = Sha512(password);
  az[0] = static_cast<char>(az[0] & 248);
  az[31] = static_cast<char>((az[31] & 63) | 64);
  return az;
}

std::string ScalarLe32(const BIGNUM* s) {
  std::string out(32, '\0');
  BN_bn2lebinpad(s, reinterpret_cast<unsigned char*>(out.data()), 32);
  return out;
}

}  // namespace

std::string MariaDbEd25519PublicKey(std::string_view password) {
  Curve curve;
  std::string az = ExpandedSecret(password);
  Bn a = FromLe(std::string_view(az).substr(0, 32));
  return curve.Encode(curve.MulBase(a.get()));
}

std::string MariaDbEd25519Sign(std::string_view password, std::string_view message) {
  Curve curve;
  std::string az = ExpandedSecret(password);
  Bn a = FromLe(std::string_view(az).substr(0, 32));
  std::string pub = curve.Encode(curve.MulBase(a.get()));
  // r = SHA-512(prefix · M) mod L; R = r·B.
  Bn r = FromLe(Sha512(std::string_view(az).substr(32), message));
  BN_nnmod(r.get(), r.get(), curve.order(), curve.ctx());
  std::string big_r = curve.Encode(curve.MulBase(r.get()));
  // S = (r + SHA-512(R · A · M)·a) mod L.
  Bn h = FromLe(Sha512(big_r, pub, message));
  Bn s = NewBn();
  BN_mod_mul(s.get(), h.get(), a.get(), curve.order(), curve.ctx());
  BN_mod_add(s.get(), s.get(), r.get(), curve.order(), curve.ctx());
  std::fill(az.begin(), az.end(), '\0');
  return big_r + ScalarLe32(s.get());
}

}  // namespace sluice::mysqlclient
