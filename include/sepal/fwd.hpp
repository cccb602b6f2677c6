#ifndef SEPAL_FWD_HPP
#define SEPAL_FWD_HPP

/// Forward declarations of sepal's algorithm tags and templates, cheap to
/// include from headers that only name them.

namespace sepal {

struct sha256;
struct sha384;
struct sha512;
struct blake2s;
struct blake2b;

struct p256;
struct p384;
struct p521;
struct x25519;
struct ed25519;
struct x448;
struct ed448;

struct aes128_gcm;
struct aes256_gcm;
struct chacha20_poly1305;
struct aes128_gcm_siv;
struct aes256_gcm_siv;

struct ml_kem_768;
struct ml_kem_1024;
struct x25519_mlkem768;
struct secp256r1_mlkem768;
struct secp384r1_mlkem1024;

enum class errc;
class error;
class invalid_signature;
template <class T>
class result;
class secret_bytes;

template <class Curve>
class private_key;
template <class Curve>
class public_key;

}  // namespace sepal

#endif
