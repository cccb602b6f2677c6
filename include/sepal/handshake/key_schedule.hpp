#ifndef SEPAL_HANDSHAKE_KEY_SCHEDULE_HPP
#define SEPAL_HANDSHAKE_KEY_SCHEDULE_HPP

// The TLS 1.3 key schedule (RFC 8446 §7.1) as a typestate chain of public
// building blocks: early secret -> handshake secret -> master secret. Each
// step consumes the previous one, so a secret cannot be used at the wrong
// stage, and the stages' secrets are wiped when they are left behind. Each
// traffic secret can be taken once per stage object (a second call throws
// `already_finished`; a moved-from stage throws `moved_from`), so a schedule
// cannot mint the same traffic secret for two sealers. `reveal()` and
// `derive_secret` are the raw building blocks for schedules of your own:
// what you derive through them is yours to keep one-shot.

#include <botan/hash.h>

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "../concepts.hpp"
#include "../error.hpp"
#include "../kdf.hpp"
#include "../secret.hpp"
#include "transcript.hpp"

namespace sepal::handshake {

/// Derive-Secret(Secret, Label, Messages) = HKDF-Expand-Label(Secret, Label,
/// Transcript-Hash(Messages), Hash.length) (RFC 8446 §7.1).
template <hash_algorithm Hash>
[[nodiscard]] secret_bytes derive_secret(std::span<const std::uint8_t> secret, std::string_view label,
                                         std::span<const std::uint8_t, Hash::digest_size> transcript_hash) {
  return hkdf<Hash>::expand_label(secret, label, transcript_hash, Hash::digest_size);
}

template <hash_algorithm Hash>
class master_secret;

namespace detail {
/// Marks a one-shot derivation as taken. Errors: throws
/// `sepal::error(errc::already_finished)` when it was taken before.
inline void take_once(const secret_bytes& secret, bool& taken) {
  if (secret.empty()) throw error(errc::moved_from);
  if (taken) throw error(errc::already_finished);
  taken = true;
}
/// Errors: throws `sepal::error(errc::moved_from)` for a moved-from stage.
inline const secret_bytes& live(const secret_bytes& secret) {
  if (secret.empty()) throw error(errc::moved_from);
  return secret;
}
}  // namespace detail

/// The handshake stage: HKDF-Extract(Derive-Secret(early, "derived", ""),
/// (EC)DHE shared secret).
template <hash_algorithm Hash>
class handshake_secret {
 public:
  using digest = typename transcript<Hash>::digest;  ///< a transcript hash

  /// client_handshake_traffic_secret over ClientHello..ServerHello.
  /// Errors: throws `sepal::error(errc::already_finished)` on a second call.
  [[nodiscard]] secret_bytes client_traffic(const digest& hello_hash) {
    detail::take_once(m_secret, m_client_taken);
    return derive_secret<Hash>(m_secret.reveal(), "c hs traffic", hello_hash);
  }
  /// server_handshake_traffic_secret over ClientHello..ServerHello.
  /// Errors: throws `sepal::error(errc::already_finished)` on a second call.
  [[nodiscard]] secret_bytes server_traffic(const digest& hello_hash) {
    detail::take_once(m_secret, m_server_taken);
    return derive_secret<Hash>(m_secret.reveal(), "s hs traffic", hello_hash);
  }
  /// Moves on: Master Secret = HKDF-Extract(Derive-Secret(., "derived", ""), 0).
  [[nodiscard]] master_secret<Hash> next() && {
    const auto derived = derive_secret<Hash>(detail::live(m_secret).reveal(), "derived", transcript<Hash>::empty());
    const std::array<std::uint8_t, Hash::digest_size> zero{};
    return master_secret<Hash>(hkdf<Hash>::extract(derived.reveal(), zero));
  }
  /// The secret itself, for protocols that extend the schedule.
  [[nodiscard]] std::span<const std::uint8_t> reveal() const noexcept { return m_secret.reveal(); }

 private:
  template <hash_algorithm>
  friend class early_secret;
  explicit handshake_secret(secret_bytes s) noexcept : m_secret(std::move(s)) {}
  secret_bytes m_secret;
  bool m_client_taken = false;
  bool m_server_taken = false;
};

/// The start of the schedule: Early Secret = HKDF-Extract(0, PSK), with an
/// all-zero PSK when there is none.
template <hash_algorithm Hash>
class early_secret {
 public:
  using digest = typename transcript<Hash>::digest;  ///< a transcript hash

  /// The early secret of `psk` (none: HashLen zero bytes, RFC 8446 §7.1).
  [[nodiscard]] static early_secret start(std::span<const std::uint8_t> psk = {}) {
    const std::array<std::uint8_t, Hash::digest_size> zero{};
    return early_secret(hkdf<Hash>::extract(zero, psk.empty() ? std::span<const std::uint8_t>(zero) : psk));
  }

  /// Mixes in the (EC)DHE shared secret: the handshake stage.
  [[nodiscard]] handshake_secret<Hash> next(std::span<const std::uint8_t> shared_secret) && {
    const auto derived = derive_secret<Hash>(detail::live(m_secret).reveal(), "derived", transcript<Hash>::empty());
    return handshake_secret<Hash>(hkdf<Hash>::extract(derived.reveal(), shared_secret));
  }
  /// The secret itself, for protocols that extend the schedule.
  [[nodiscard]] std::span<const std::uint8_t> reveal() const noexcept { return m_secret.reveal(); }

 private:
  explicit early_secret(secret_bytes s) noexcept : m_secret(std::move(s)) {}
  secret_bytes m_secret;
};

/// The master stage: application traffic and exporter secrets.
template <hash_algorithm Hash>
class master_secret {
 public:
  using digest = typename transcript<Hash>::digest;  ///< a transcript hash

  /// client_application_traffic_secret_0 over ClientHello..server Finished.
  /// Errors: throws `sepal::error(errc::already_finished)` on a second call.
  [[nodiscard]] secret_bytes client_traffic(const digest& server_finished_hash) {
    detail::take_once(m_secret, m_client_taken);
    return derive_secret<Hash>(m_secret.reveal(), "c ap traffic", server_finished_hash);
  }
  /// server_application_traffic_secret_0 over ClientHello..server Finished.
  /// Errors: throws `sepal::error(errc::already_finished)` on a second call.
  [[nodiscard]] secret_bytes server_traffic(const digest& server_finished_hash) {
    detail::take_once(m_secret, m_server_taken);
    return derive_secret<Hash>(m_secret.reveal(), "s ap traffic", server_finished_hash);
  }
  /// exporter_master_secret over ClientHello..server Finished.
  [[nodiscard]] secret_bytes exporter_master(const digest& server_finished_hash) const {
    return derive_secret<Hash>(detail::live(m_secret).reveal(), "exp master", server_finished_hash);
  }
  /// The secret itself, for protocols that extend the schedule.
  [[nodiscard]] std::span<const std::uint8_t> reveal() const noexcept { return m_secret.reveal(); }

 private:
  template <hash_algorithm>
  friend class handshake_secret;
  explicit master_secret(secret_bytes s) noexcept : m_secret(std::move(s)) {}
  secret_bytes m_secret;
  bool m_client_taken = false;
  bool m_server_taken = false;
};

/// verify_data of a Finished message (RFC 8446 §4.4.4): HMAC keyed with
/// HKDF-Expand-Label(base_key, "finished", "", Hash.length) over the
/// transcript hash. `base_key` is the sender's handshake traffic secret.
template <hash_algorithm Hash>
[[nodiscard]] typename hmac<Hash>::tag finished_mac(std::span<const std::uint8_t> base_key,
                                                    std::span<const std::uint8_t, Hash::digest_size> transcript_hash) {
  const auto key = hkdf<Hash>::expand_label(base_key, "finished", {}, Hash::digest_size);
  return hmac<Hash>(key.reveal()).mac(transcript_hash);
}

/// True when `received` is the right Finished MAC; constant time; never throws.
template <hash_algorithm Hash>
[[nodiscard]] bool verify_finished(std::span<const std::uint8_t> base_key,
                                   std::span<const std::uint8_t, Hash::digest_size> transcript_hash,
                                   std::span<const std::uint8_t> received) noexcept {
  try {
    const auto expected = finished_mac<Hash>(base_key, transcript_hash);
    return constant_time_equal(expected, received);
  } catch (...) {
    return false;
  }
}

/// TLS-Exporter(label, context, length) (RFC 8446 §7.5): keys for the
/// application, bound to this handshake, from the exporter master secret.
template <hash_algorithm Hash>
[[nodiscard]] secret_bytes exporter(std::span<const std::uint8_t> exporter_master, std::string_view label,
                                    std::span<const std::uint8_t> context, std::size_t length) {
  const auto label_secret = derive_secret<Hash>(exporter_master, label, transcript<Hash>::empty());
  const auto context_hash = transcript<Hash>().update(context).current();
  return hkdf<Hash>::expand_label(label_secret.reveal(), "exporter", context_hash, length);
}

}  // namespace sepal::handshake

#endif
