#ifndef SEPAL_NET_DETAIL_PATH_HPP
#define SEPAL_NET_DETAIL_PATH_HPP

// Path validation (docs/protocol.md §7.3, after RFC 9000 §8.2 and §9): the
// control frames a session carries in control packets, and the server's
// probe of a new client address.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "../../rng.hpp"
#include "../../secret.hpp"

namespace sepal::net::detail {

/// Control frame types (the first byte of a control packet's payload).
enum : std::uint8_t { path_challenge_frame = 1, path_response_frame = 2 };
/// A path challenge's data: 8 unpredictable bytes (RFC 9000 §19.17).
using path_data = std::array<std::uint8_t, 8>;
/// A control frame: type and data.
using path_frame = std::array<std::uint8_t, 1 + 8>;

[[nodiscard]] inline path_frame make_path_frame(std::uint8_t type, const path_data& data) noexcept {
  path_frame f{};
  f[0] = type;
  std::copy(data.begin(), data.end(), f.begin() + 1);
  return f;
}

/// The data of a `type` frame; empty for anything else (unknown control
/// frames are ignored, so later versions can add some).
[[nodiscard]] inline std::optional<path_data> parse_path_frame(std::span<const std::uint8_t> frame,
                                                               std::uint8_t type) noexcept {
  if (frame.size() != path_frame{}.size() || frame[0] != type) return std::nullopt;
  path_data d{};
  std::copy(frame.begin() + 1, frame.end(), d.begin());
  return d;
}

/// The server's validation of one new address of a session (RFC 9000 §8.2):
/// bytes in and out of it for the anti-amplification budget (§8.1, 3x),
/// and the last two challenges sent (a response to the one before the last
/// still counts: it may have crossed a resend).
template <class Key, class Endpoint, class TimePoint>
struct path_probe {
  /// Challenges per probe before it gives up (the client's next packet from
  /// the address 10 resend ticks later starts a new probe with a new budget,
  /// as does another address taking its slot over; each probe keeps its
  /// own 3x budget).
  static constexpr unsigned max_challenges = 5;

  Key key{};
  Endpoint to{};
  std::size_t received = 0;  ///< bytes of authenticated packets from `to`
  std::size_t sent = 0;      ///< bytes of challenges sent to `to`
  std::array<path_data, 2> data{};
  unsigned challenges = 0;
  TimePoint started{};
  TimePoint last{};
  bool active = false;

  /// True when `response` answers one of the last two challenges (constant time).
  [[nodiscard]] bool answers(const path_data& response) const noexcept {
    bool ok = false;
    for (unsigned i = 0; i < challenges && i < data.size(); ++i) ok |= constant_time_equal(data[i], response);
    return ok;
  }
};

/// A session's probes, one per new address, in a fixed number of slots: a
/// packet raced from other addresses cannot wipe the probe of a genuine new
/// address while the answer to its latest challenge is on the way (a slot
/// is taken over only when its probe started, and sent its last challenge,
/// more than `min_age` ago: one resend interval).
template <class Key, class Endpoint, class TimePoint>
struct path_probes {
  using probe = path_probe<Key, Endpoint, TimePoint>;
  static constexpr std::size_t slots = 4;
  std::array<probe, slots> probes{};

  [[nodiscard]] probe* find(const Key& key) noexcept {
    for (auto& p : probes)
      if (p.active && p.key == key) return &p;
    return nullptr;
  }
  /// A fresh probe of `to`: a free slot, else the one idle longest, if
  /// longer than `min_age`; null when none is (the address must wait).
  template <class Duration>
  [[nodiscard]] probe* start(const Key& key, const Endpoint& to, TimePoint now, Duration min_age) noexcept {
    probe* slot = nullptr;
    const auto busy_since = [](const probe& p) { return p.last > p.started ? p.last : p.started; };
    for (auto& p : probes) {
      if (!p.active) {
        slot = &p;
        break;
      }
      if (now - busy_since(p) >= min_age && (slot == nullptr || busy_since(p) < busy_since(*slot))) slot = &p;
    }
    if (slot == nullptr) return nullptr;
    *slot = probe{};
    slot->key = key;
    slot->to = to;
    slot->started = now;
    slot->active = true;
    return slot;
  }
  void clear() noexcept { probes = {}; }
};

}  // namespace sepal::net::detail

#endif
