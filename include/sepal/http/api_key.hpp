#ifndef SEPAL_HTTP_API_KEY_HPP
#define SEPAL_HTTP_API_KEY_HPP

#include <botan/base64.h>
#include <botan/hex.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "../detail/boundary.hpp"
#include "../detail/bytes.hpp"
#include "../error.hpp"
#include "../rng.hpp"
#include "../secret.hpp"
#include "keys.hpp"
#include "../detail/memory.hpp"

namespace sepal::http {

/// An HMAC API key: a public key id and a 256-bit secret, for sepal's "HMAC
/// API key" profile (docs/request-auth.md): RFC 9421 signatures with
/// `hmac-sha256`, `keyid` = the id. Any RFC 9421 library can act as the
/// client given the id and the secret.
///
/// The credential handed to a client is one printable string,
/// `<id>.<base64 secret>`; the id alone is safe to log.
///
/// Security: move-only; the secret lives in wiped memory and is printed
/// only by `credential()`.
class api_key {
 public:
  /// Bytes of random id and of secret.
  static constexpr std::size_t id_bytes = 12, secret_bytes_size = 32;
  /// Prefix of every id, so keys are recognizable in logs and secret scanners.
  static constexpr std::string_view id_prefix = "sk_";

  /// A fresh key: a random id ("sk_" and 24 hex digits) and a random secret.
  ///
  /// Errors: throws `sepal::error(rng_failure)`.
  [[nodiscard]] static api_key generate(Botan::RandomNumberGenerator& rng = system_rng()) {
    const auto id = random_bytes<id_bytes>(rng);
    auto secret = random_bytes<secret_bytes_size>(rng);
    api_key k(std::string(id_prefix) + Botan::hex_encode(id.data(), id.size(), false), secret_bytes::copy_of(secret));
    sepal::detail::wipe(secret.data(), secret.size());
    return k;
  }

  /// Parses a credential string `<id>.<base64 secret>`.
  ///
  /// Errors: `invalid_encoding` for anything else (an id that is not "sk_"
  /// and 24 lower-case hex digits, or a secret that is not 32 bytes of
  /// base64). Never throws.
  [[nodiscard]] static result<api_key> parse(std::string_view credential) noexcept {
    return sepal::detail::guarded<result<api_key>>(errc::invalid_encoding, [&]() -> result<api_key> {
      const auto dot = credential.find('.');
      if (dot == std::string_view::npos) return errc::invalid_encoding;
      const auto id = credential.substr(0, dot);
      if (!valid_id(id)) return errc::invalid_encoding;
      const auto b64 = credential.substr(dot + 1);
      if (b64.size() != 44) return errc::invalid_encoding;
      auto secret = Botan::base64_decode(b64, false);
      if (secret.size() != secret_bytes_size) return errc::invalid_encoding;
      return api_key(std::string(id), secret_bytes(std::move(secret)));
    });
  }

  /// True for a well-formed key id.
  [[nodiscard]] static constexpr bool valid_id(std::string_view id) noexcept {
    if (id.size() != id_prefix.size() + 2 * id_bytes || !id.starts_with(id_prefix)) return false;
    for (char c : id.substr(id_prefix.size()))
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
  }

  /// The key id (public).
  [[nodiscard]] const std::string& id() const noexcept { return m_id; }
  /// The credential string to hand to the client, once. Secret.
  [[nodiscard]] secret_bytes credential() const {
    std::string b64 = Botan::base64_encode(m_secret.reveal().data(), m_secret.size());
    std::string text = m_id + "." + b64;
    auto out = secret_bytes::copy_of(sepal::detail::bytes_of(text));
    sepal::detail::wipe(b64.data(), b64.size());
    sepal::detail::wipe(text.data(), text.size());
    return out;
  }
  /// A signing key for the client.
  [[nodiscard]] signing_key signer() const { return signing_key::hmac_sha256_or_throw(secret_bytes::copy_of(m_secret.reveal())); }
  /// A verification key for the server's key store.
  [[nodiscard]] verification_key verifier() const {
    return verification_key::hmac_sha256_or_throw(secret_bytes::copy_of(m_secret.reveal()));
  }

 private:
  api_key(std::string id, secret_bytes secret) : m_id(std::move(id)), m_secret(std::move(secret)) {}
  std::string m_id;
  secret_bytes m_secret;
};

}  // namespace sepal::http

#endif
