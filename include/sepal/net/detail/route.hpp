#ifndef SEPAL_NET_DETAIL_ROUTE_HPP
#define SEPAL_NET_DETAIL_ROUTE_HPP

// Address keys of the net layer. Sessions are found by connection id
// (udp_server.hpp, docs/net.md "Connection ids and migration"); what has no
// connection id is keyed by the peer's address and port here: pending
// handshakes, fragmented ClientHellos, the per-address limits, the address
// a session was last validated at, and the retry validator's address.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>

#include "../address.hpp"

namespace sepal::net::detail {

/// The routing key of a datagram: family, address and port (19 bytes).
struct route_key {
  std::array<std::uint8_t, 19> bytes{};
  friend bool operator==(const route_key&, const route_key&) = default;
};

/// The key of a datagram from `from` (today: its source address and port).
[[nodiscard]] inline route_key route_of(const endpoint& from) noexcept {
  route_key k;
  k.bytes[0] = static_cast<std::uint8_t>(from.family());
  const auto a = from.address_bytes();
  std::memcpy(k.bytes.data() + 1, a.data(), a.size());
  k.bytes[17] = static_cast<std::uint8_t>(from.port() >> 8);
  k.bytes[18] = static_cast<std::uint8_t>(from.port());
  return k;
}

/// The per-address key (family and address, no port) for the per-address limit.
[[nodiscard]] inline route_key address_of(const endpoint& from) noexcept {
  auto k = route_of(from);
  k.bytes[17] = k.bytes[18] = 0;
  return k;
}

/// The address validator's encoding of the peer (docs/protocol.md §7:
/// "the server's own encoding of the peer's address and port").
[[nodiscard]] inline std::span<const std::uint8_t> validator_address(const route_key& k) noexcept {
  return {k.bytes.data(), k.bytes.size()};
}

/// FNV-1a over the key with a per-process seed mixed in (hash tables only;
/// the maps are bounded, so a collision costs time, never memory).
struct route_hash {
  std::size_t seed = 0;
  std::size_t operator()(const route_key& k) const noexcept {
    std::uint64_t h = 1469598103934665603ull ^ seed;
    for (const auto b : k.bytes) h = (h ^ b) * 1099511628211ull;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

}  // namespace sepal::net::detail

#endif
