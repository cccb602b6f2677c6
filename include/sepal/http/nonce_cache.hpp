#ifndef SEPAL_HTTP_NONCE_CACHE_HPP
#define SEPAL_HTTP_NONCE_CACHE_HPP

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
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
/// accepted anyway, in memory fixed at construction: `capacity` nonce slots
/// and as many key-id counters, 64 bytes per slot in all. Replays of a
/// remembered pair are refused.
///
/// Each pair is stored as 16 bytes of HMAC-SHA-256 under a random per-cache
/// key (so an attacker cannot aim nonces at one bucket), the fingerprint of
/// its key id (HMAC under the same key, domain-separated) and an expiry time.
/// A pair is placed within a window of 32 slots from its hash; expired slots
/// are reused. When every slot of the window is live the cache is full and
/// the request is refused (`full`): under a flood sepal fails closed instead
/// of forgetting nonces that could still be replayed.
///
/// Per-key quota: one key id may hold at most `per_key_limit` live slots
/// (a quarter of the capacity by default). A key at its quota is refused
/// (`over_quota`) and only that key: one authenticated but misbehaving key
/// cannot fill the cache and lock every other key out; it takes
/// capacity / per_key_limit such keys. Counts are exact: a key's counter is
/// re-counted over the slots (at most once per second of expiry, so a flood
/// cannot make every request pay for a scan) before it is refused.
///
/// Security: the cache only ever sees authenticated pairs (the verifier
/// inserts after the signature verifies), so unauthenticated traffic cannot
/// fill it at all. Thread-safe.
class nonce_cache {
 public:
  /// What `insert` found.
  enum class outcome {
    fresh,       ///< recorded
    replayed,    ///< already recorded and still live
    full,        ///< no free slot near the pair's hash: refused, fail closed
    over_quota,  ///< this key id already holds `per_key_limit` live pairs: refused
  };

  /// Slots probed per pair (and counters probed per key id).
  static constexpr std::size_t window = 32;

  /// A cache with `capacity` slots (at least `window`), of which one key id
  /// may hold at most `per_key_limit` (0: a quarter of the capacity; at
  /// least 1, at most the capacity).
  ///
  /// Errors: throws `sepal::error` on an RNG failure.
  explicit nonce_cache(std::size_t capacity = 1 << 16, std::size_t per_key_limit = 0,
                       Botan::RandomNumberGenerator& rng = system_rng())
      : m_slots(std::max(capacity, window)),
        m_keys(m_slots.size()),
        m_per_key(std::clamp<std::size_t>(per_key_limit == 0 ? m_slots.size() / 4 : per_key_limit, 1,
                                          m_slots.size())),
        m_mac(random_bytes<32>(rng)) {}

  /// Records (`keyid`, `nonce`) until `until` (Unix seconds), unless it is
  /// already recorded and not expired at `now`, the window is full, or
  /// `keyid` is at its quota. A replay is reported as `replayed` even when
  /// its key is at its quota.
  [[nodiscard]] outcome insert(std::string_view keyid, std::string_view nonce, std::int64_t now,
                               std::int64_t until) {
    const std::lock_guard lock(m_mutex);
    const auto owner = key_fingerprint(keyid);
    const auto fp = pair_fingerprint(keyid, nonce);
    std::uint64_t h = 0;
    std::memcpy(&h, fp.data(), sizeof h);
    slot* free = nullptr;
    for (std::size_t i = 0; i < window; ++i) {
      auto& s = m_slots[(h + i) % m_slots.size()];
      const bool live = s.until > now;
      if (live && s.tag == fp) return outcome::replayed;
      if (!live && free == nullptr) free = &s;
    }
    key_count* k = counter(owner, now);
    if (k == nullptr) return outcome::full;  // as many live key ids near this one as the window holds
    if (k->live >= m_per_key && now >= k->recount_at) recount(*k, now);
    if (k->live >= m_per_key) return outcome::over_quota;
    if (free == nullptr) return outcome::full;
    free->tag = fp;
    free->owner = owner;
    free->until = until;
    k->live += 1;
    k->last_until = std::max(k->last_until, until);
    k->recount_at = std::min(k->recount_at, until);
    return outcome::fresh;
  }

  /// Bytes this cache holds: fixed at construction.
  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    return m_slots.capacity() * sizeof(slot) + m_keys.capacity() * sizeof(key_count);
  }
  /// Slots.
  [[nodiscard]] std::size_t capacity() const noexcept { return m_slots.size(); }
  /// The most live slots one key id may hold.
  [[nodiscard]] std::size_t per_key_limit() const noexcept { return m_per_key; }

 private:
  struct slot {
    std::array<std::uint8_t, 16> tag{};
    std::uint64_t owner = 0;  // key id fingerprint
    std::int64_t until = 0;   // 0: never used
  };
  // Live slots of one key id. Exact when recounted; between recounts it may
  // also count slots that expired since (never fewer than are live).
  struct key_count {
    std::uint64_t owner = 0;
    std::uint64_t live = 0;
    std::int64_t last_until = 0;  // every slot of this key expires by then: 0, free
    std::int64_t recount_at = std::numeric_limits<std::int64_t>::max();  // no slot expires before
  };

  // The counter of `owner`, or a free one (every slot it counted has expired);
  // nullptr when the window has neither.
  key_count* counter(std::uint64_t owner, std::int64_t now) noexcept {
    key_count* free = nullptr;
    for (std::size_t i = 0; i < window; ++i) {
      auto& k = m_keys[(owner + i) % m_keys.size()];
      const bool live = k.last_until > now;
      if (live && k.owner == owner) return &k;
      if (!live && free == nullptr) free = &k;
    }
    if (free != nullptr) *free = key_count{owner, 0, 0, std::numeric_limits<std::int64_t>::max()};
    return free;
  }

  // Counts `k`'s live slots exactly; the next recount waits until one of them expires.
  void recount(key_count& k, std::int64_t now) noexcept {
    std::uint64_t live = 0;
    std::int64_t first_expiry = std::numeric_limits<std::int64_t>::max();
    for (const auto& s : m_slots) {
      if (s.owner != k.owner || s.until <= now) continue;
      ++live;
      first_expiry = std::min(first_expiry, s.until);
    }
    k.live = live;
    k.recount_at = first_expiry;
  }

  // Under the lock: m_mac is shared. Domain separation: 0 for key ids, 1 for pairs.
  [[nodiscard]] std::uint64_t key_fingerprint(std::string_view keyid) {
    const std::array<std::uint8_t, 1> domain{0};
    const auto full = m_mac.update(domain).update(sepal::detail::bytes_of(keyid)).final();
    std::uint64_t out = 0;
    std::memcpy(&out, full.data(), sizeof out);
    return out;
  }
  [[nodiscard]] std::array<std::uint8_t, 16> pair_fingerprint(std::string_view keyid, std::string_view nonce) {
    const std::uint64_t n = keyid.size();
    std::array<std::uint8_t, 9> prefix{1};
    for (int i = 0; i < 8; ++i) prefix[1 + i] = static_cast<std::uint8_t>(n >> (8 * i));
    const auto full =
        m_mac.update(prefix).update(sepal::detail::bytes_of(keyid)).update(sepal::detail::bytes_of(nonce)).final();
    std::array<std::uint8_t, 16> out{};
    std::copy_n(full.begin(), out.size(), out.begin());
    return out;
  }

  std::vector<slot> m_slots;
  std::vector<key_count> m_keys;
  std::size_t m_per_key;
  hmac<sha256> m_mac;  // keyed with 32 random bytes
  std::mutex m_mutex;
};

}  // namespace sepal::http

#endif
