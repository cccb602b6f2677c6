#ifndef SEPAL_HTTP_NONCE_CACHE_HPP
#define SEPAL_HTTP_NONCE_CACHE_HPP

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "../detail/bytes.hpp"
#include "../error.hpp"
#include "../hashes.hpp"
#include "../kdf.hpp"
#include "../rng.hpp"

namespace sepal::http {

/// Remembers (key id, nonce) pairs until their signature could no longer be
/// accepted anyway, in memory fixed at construction: `capacity` slots of 24
/// bytes. Replays of a remembered pair are refused.
///
/// Each pair is stored as 16 bytes of HMAC-SHA-256 under a random per-cache
/// key (so an attacker cannot aim nonces at one bucket) and an expiry time.
/// A pair is placed within a window of 32 slots from its hash; expired slots
/// are reused. When every slot of the window is live the cache is full and
/// the request is refused (`full`): under a flood sepal fails closed instead
/// of forgetting nonces that could still be replayed.
///
/// Thread-safe.
class nonce_cache {
 public:
  /// What `insert` found.
  enum class outcome { fresh, replayed, full };

  /// Slots probed per pair.
  static constexpr std::size_t window = 32;

  /// A cache with `capacity` slots (at least `window`).
  explicit nonce_cache(std::size_t capacity = 1 << 16, Botan::RandomNumberGenerator& rng = system_rng())
      : m_slots(std::max(capacity, window)), m_mac(random_bytes<32>(rng)) {}

  /// Records (`keyid`, `nonce`) until `until` (Unix seconds), unless it is
  /// already recorded and not expired at `now`.
  [[nodiscard]] outcome insert(std::string_view keyid, std::string_view nonce, std::int64_t now,
                               std::int64_t until) {
    const std::lock_guard lock(m_mutex);
    const auto fp = fingerprint(keyid, nonce);
    std::uint64_t h = 0;
    std::memcpy(&h, fp.data(), sizeof h);
    slot* free = nullptr;
    for (std::size_t i = 0; i < window; ++i) {
      auto& s = m_slots[(h + i) % m_slots.size()];
      const bool live = s.until > now;
      if (live && s.tag == fp) return outcome::replayed;
      if (!live && free == nullptr) free = &s;
    }
    if (free == nullptr) return outcome::full;
    free->tag = fp;
    free->until = until;
    return outcome::fresh;
  }

  /// Bytes this cache holds: fixed at construction.
  [[nodiscard]] std::size_t memory_bytes() const noexcept { return m_slots.capacity() * sizeof(slot); }
  /// Slots.
  [[nodiscard]] std::size_t capacity() const noexcept { return m_slots.size(); }

 private:
  struct slot {
    std::array<std::uint8_t, 16> tag{};
    std::int64_t until = 0;  // 0: never used
  };

  // Under the lock: m_mac is shared.
  [[nodiscard]] std::array<std::uint8_t, 16> fingerprint(std::string_view keyid, std::string_view nonce) {
    auto& mac = m_mac;
    const std::uint64_t n = keyid.size();
    std::array<std::uint8_t, 8> len{};
    for (int i = 0; i < 8; ++i) len[i] = static_cast<std::uint8_t>(n >> (8 * i));
    mac.update(len)
        .update(sepal::detail::bytes_of(keyid))
        .update(sepal::detail::bytes_of(nonce));
    const auto full = mac.final();
    std::array<std::uint8_t, 16> out{};
    std::copy_n(full.begin(), out.size(), out.begin());
    return out;
  }

  std::vector<slot> m_slots;
  hmac<sha256> m_mac;  // keyed with 32 random bytes
  std::mutex m_mutex;
};

}  // namespace sepal::http

#endif
