#ifndef SEPAL_KDF_HPP
#define SEPAL_KDF_HPP

#include <botan/kdf.h>
#include <botan/mac.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "concepts.hpp"
#include "detail/boundary.hpp"
#include "error.hpp"
#include "secret.hpp"

namespace sepal {

/// HKDF (RFC 5869) over `Hash`, plus TLS 1.3's HKDF-Expand-Label.
///
/// Errors: lengths out of range are local misuse and throw
/// `sepal::error(errc::invalid_argument)`: `expand` beyond 255 * HashLen
/// (RFC 5869 §2.3), `expand_label` labels over 249 bytes or contexts over 255.
template <hash_algorithm Hash>
struct hkdf {
  /// HashLen: the size of a pseudorandom key.
  static constexpr std::size_t hash_size = Hash::digest_size;
  /// The longest output `expand` can give (RFC 5869 §2.3).
  static constexpr std::size_t max_output_size = 255 * Hash::digest_size;

  /// HKDF-Extract(salt, IKM) -> PRK (RFC 5869 §2.2). An empty salt means
  /// HashLen zero bytes.
  [[nodiscard]] static secret_bytes extract(std::span<const std::uint8_t> salt,
                                            std::span<const std::uint8_t> ikm) {
    return run(stage::extract, hash_size, ikm, salt, {});
  }

  /// HKDF-Expand(PRK, info, L) -> OKM (RFC 5869 §2.3).
  [[nodiscard]] static secret_bytes expand(std::span<const std::uint8_t> prk, std::span<const std::uint8_t> info,
                                           std::size_t length) {
    if (length > max_output_size) throw error(errc::invalid_argument);
    return run(stage::expand, length, prk, {}, info);
  }

  /// Extract then expand, in one call.
  [[nodiscard]] static secret_bytes derive(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                                           std::span<const std::uint8_t> info, std::size_t length) {
    if (length > max_output_size) throw error(errc::invalid_argument);
    const auto prk = extract(salt, ikm);
    return expand(prk.reveal(), info, length);
  }

  /// HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 §7.1):
  /// HKDF-Expand with info = HkdfLabel { uint16 length; opaque label<7..255>
  /// = "tls13 " + Label; opaque context<0..255> }. QUIC (RFC 9001 §5.1) uses
  /// the same function with labels such as "quic key". (Botan's own
  /// hkdf_expand_label is marked BOTAN_TEST_API, so sepal encodes the
  /// HkdfLabel here and calls Botan's HKDF-Expand.)
  [[nodiscard]] static secret_bytes expand_label(std::span<const std::uint8_t> secret, std::string_view label,
                                                 std::span<const std::uint8_t> context, std::size_t length) {
    constexpr std::string_view prefix = "tls13 ";
    if (length > 0xFFFF || length > max_output_size || label.size() > 255 - prefix.size() || context.size() > 255)
      throw error(errc::invalid_argument);
    std::array<std::uint8_t, 2 + 1 + 255 + 1 + 255> info{};  // the largest HkdfLabel
    std::size_t n = 0;
    info[n++] = static_cast<std::uint8_t>(length >> 8);
    info[n++] = static_cast<std::uint8_t>(length);
    info[n++] = static_cast<std::uint8_t>(prefix.size() + label.size());
    for (char c : prefix) info[n++] = static_cast<std::uint8_t>(c);
    for (char c : label) info[n++] = static_cast<std::uint8_t>(c);
    info[n++] = static_cast<std::uint8_t>(context.size());
    for (std::uint8_t c : context) info[n++] = c;
    return expand(secret, std::span(info).first(n), length);
  }

 private:
  enum class stage { extract, expand };

  static secret_bytes run(stage which, std::size_t length, std::span<const std::uint8_t> secret,
                          std::span<const std::uint8_t> salt, std::span<const std::uint8_t> label) {
    return detail::or_throw(errc::internal_error, [&] {
      // Parsing the algorithm name dominates a short derivation, so each
      // thread keeps an unkeyed prototype and clones it: the clone, which
      // holds the key, is destroyed (and wiped) when this call returns.
      thread_local const auto extract = Botan::KDF::create_or_throw(detail::algorithm<Hash>::hkdf_extract);
      thread_local const auto expand = Botan::KDF::create_or_throw(detail::algorithm<Hash>::hkdf_expand);
      const auto kdf = (which == stage::extract ? extract : expand)->new_object();
      return secret_bytes(kdf->derive_key(length, secret, salt, label));
    });
  }
};

/// HMAC (RFC 2104) over `Hash` with one key, reusable for many messages.
///
/// Security: the key is held by Botan in wiped memory; `verify` compares in
/// constant time and accepts only full-length tags.
template <hash_algorithm Hash>
class hmac {
 public:
  /// The tag type: `Hash::digest_size` bytes.
  using tag = std::array<std::uint8_t, Hash::digest_size>;

  /// An HMAC keyed with `key` (any length; RFC 2104 §3 recommends at least
  /// HashLen bytes).
  explicit hmac(std::span<const std::uint8_t> key)
      : m_mac(detail::or_throw(errc::internal_error, [&] {
          auto mac = Botan::MessageAuthenticationCode::create_or_throw(detail::algorithm<Hash>::hmac);
          mac->set_key(key);
          return mac;
        })) {}

  /// Feeds `data` into the running MAC.
  hmac& update(std::span<const std::uint8_t> data) {
    m_mac->update(data);
    return *this;
  }

  /// The tag over everything fed since the last `final`; resets for reuse.
  [[nodiscard]] tag final() {
    tag out{};
    m_mac->final(out);
    return out;
  }

  /// The tag of `message` alone.
  [[nodiscard]] tag mac(std::span<const std::uint8_t> message) {
    m_mac->update(message);
    return final();
  }

  /// True when `expected` is the full-length tag of `message`, compared in
  /// constant time. Never throws.
  [[nodiscard]] bool verify(std::span<const std::uint8_t> message, std::span<const std::uint8_t> expected) noexcept {
    try {
      const tag actual = mac(message);
      return constant_time_equal(actual, expected);
    } catch (...) {
      return false;
    }
  }

 private:
  std::unique_ptr<Botan::MessageAuthenticationCode> m_mac;
};

}  // namespace sepal

#endif
