#ifndef SEPAL_PACKET_HPP
#define SEPAL_PACKET_HPP

// Packet protection: the nonce-owning sealer and the replay-checking opener.
//
// Wire format of a sealed packet (all sizes in bytes), QUIC's short header
// (RFC 9000 §17.3):
//
//   +-------+--------------------+---------------------+------------+--------+
//   | flags | connection id (N)  | packet number (4,BE)| ciphertext | tag 16 |
//   +-------+--------------------+---------------------+------------+--------+
//   flags = 0 1 0 A C K 1 1 : fixed bit 0x40, key phase K (0x04), packet
//                              number length - 1 in the low two bits (3),
//                              A (0x10): the key phase the sender's own
//                              receiving direction is in (sessions set it;
//                              docs/protocol.md §7.1), C (0x08): a control
//                              packet (sessions only, §7.3; zero otherwise)
//
// N is `session_options::connection_id_size`: 0 for a bare sealer and
// opener, 8 in the sessions handshakes make. The connection id is the
// receiver's, chosen by it (RFC 9000 §5.1), and sent in the clear so the
// receiver can route by it. The packet number is the low 32 bits of the
// sealer's 62-bit counter; the opener recovers the full number as RFC 9000
// §A.3 does. The nonce is the traffic IV XOR the full packet number (RFC 8446
// §5.3, RFC 9001 §5.3). The associated data is the unprotected header (flags,
// connection id, packet number) followed by the caller's own associated
// data. With header protection (the default), the low five bits of the flags
// and the packet number bytes are masked as in RFC 9001 §5.4 (short header),
// with the sample taken from the first 16 bytes after the header.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "aeads.hpp"
#include "detail/aead_engine.hpp"
#include "error.hpp"
#include "header_protection.hpp"
#include "kdf.hpp"
#include "replay.hpp"
#include "secret.hpp"
#include "suite.hpp"
#include "detail/memory.hpp"

namespace sepal {

/// Compile-time options of a session direction. All limits can only be
/// lowered from the AEAD's RFC 9001 §6.6 figures (tests use small ones).
struct session_options {
  /// Mask packet numbers and the key phase on the wire (RFC 9001 §5.4).
  bool header_protection = true;
  /// Packet numbers remembered by the replay window (multiple of 64).
  std::size_t replay_window = 2048;
  /// Packets sealed under one key before an automatic key update; 0 means
  /// the AEAD's confidentiality limit.
  std::uint64_t confidentiality_limit = 0;
  /// Failed opens after which the opener closes; 0 means the AEAD's
  /// integrity limit.
  std::uint64_t integrity_limit = 0;
  /// Packets accepted under new keys before the previous keys are dropped;
  /// 0 means `replay_window`.
  std::uint64_t previous_key_lifetime = 0;
  /// Bytes of the receiver's connection id in every packet header (RFC 9000
  /// §5.1; 0 to 20). 0: none, for a bare sealer and opener; the sessions
  /// handshakes make use 8 (docs/protocol.md §7.1).
  std::size_t connection_id_size = 0;
};

/// A connection id of `N` bytes: chosen by a receiver, carried in the header
/// of every packet sent to it (RFC 9000 §5.1).
template <std::size_t N>
using connection_id = std::array<std::uint8_t, N>;

/// Traffic keys derived from one traffic secret with HKDF-Expand-Label
/// (RFC 8446 §7.1): "<prefix> key", "<prefix> iv", "<prefix> hp", and the next
/// generation's secret "<prefix> ku" (RFC 9001 §5.1, §6.1). sepal's sessions
/// use the prefix "sepal"; "quic" reproduces RFC 9001.
template <session_suite Suite>
struct packet_keys {
  using aead = typename Suite::aead;               ///< the AEAD the keys are for
  using hkdf_type = hkdf<typename Suite::hash>;  ///< the key schedule's HKDF

  secret_bytes key;  ///< aead::key_size bytes
  secret_bytes iv;   ///< aead::nonce_size bytes
  secret_bytes hp;   ///< header protection key, aead::key_size bytes

  /// Derives the three keys from `secret`.
  [[nodiscard]] static packet_keys derive(std::span<const std::uint8_t> secret, std::string_view prefix = "sepal") {
    return {hkdf_type::expand_label(secret, label(prefix, " key"), {}, aead::key_size),
            hkdf_type::expand_label(secret, label(prefix, " iv"), {}, aead::nonce_size),
            hkdf_type::expand_label(secret, label(prefix, " hp"), {}, aead::key_size)};
  }

  /// The next generation's traffic secret (RFC 9001 §6.1).
  [[nodiscard]] static secret_bytes next_secret(std::span<const std::uint8_t> secret,
                                                std::string_view prefix = "sepal") {
    return hkdf_type::expand_label(secret, label(prefix, " ku"), {}, Suite::hash::digest_size);
  }

 private:
  /// "<prefix><what>" in a fixed buffer (labels are short; RFC 8446 §7.1
  /// caps them at 249 bytes).
  struct label_text {
    std::array<char, 64> buf{};
    std::size_t size = 0;
    operator std::string_view() const noexcept { return {buf.data(), size}; }
  };
  static label_text label(std::string_view prefix, std::string_view what) {
    label_text l;
    if (prefix.size() + what.size() > l.buf.size()) throw error(errc::invalid_argument);
    std::copy(prefix.begin(), prefix.end(), l.buf.begin());
    std::copy(what.begin(), what.end(), l.buf.begin() + static_cast<std::ptrdiff_t>(prefix.size()));
    l.size = prefix.size() + what.size();
    return l;
  }
};

namespace detail {

inline constexpr std::uint8_t fixed_bit = 0x40;
inline constexpr std::uint8_t key_phase_bit = 0x04;
/// The sender's receive phase, which acknowledges the peer's key update
/// (docs/protocol.md §7.1); a lone sealer sends 0.
inline constexpr std::uint8_t ack_phase_bit = 0x10;
/// A control packet of a session (docs/protocol.md §7.3; reserved in
/// version 4): bare openers reject it.
inline constexpr std::uint8_t control_bit = 0x08;
inline constexpr std::uint8_t pn_length_bits = 0x03;
inline constexpr std::size_t pn_length = 4;
inline constexpr std::size_t max_connection_id_size = 20;  // RFC 9000 §17.2
/// Flags, connection id and packet number. The header protection sample
/// starts 4 bytes after the packet number's start (RFC 9001 §5.4.2): right
/// after this header, as the packet number is always 4 bytes.
template <std::size_t ConnectionIdSize>
inline constexpr std::size_t header_size = 1 + ConnectionIdSize + pn_length;
/// RFC 9000 §12.3: packet numbers stay below 2^62.
inline constexpr std::uint64_t max_packet_number = (std::uint64_t{1} << 62) - 1;

/// RFC 9000 §A.3: the full packet number closest to `expected`.
constexpr std::uint64_t decode_packet_number(std::uint64_t expected, std::uint64_t truncated, unsigned bits) noexcept {
  const std::uint64_t win = std::uint64_t{1} << bits;
  const std::uint64_t hwin = win / 2;
  const std::uint64_t mask = win - 1;
  const std::uint64_t candidate = (expected & ~mask) | truncated;
  if (candidate + hwin <= expected && candidate < (std::uint64_t{1} << 62) - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

/// The per-packet nonce: IV XOR the packet number, left-padded (RFC 8446 §5.3).
template <std::size_t N>
std::array<std::uint8_t, N> packet_nonce(const std::array<std::uint8_t, N>& iv, std::uint64_t pn) noexcept {
  auto nonce = iv;
  for (std::size_t i = 0; i < 8; ++i) nonce[N - 1 - i] ^= static_cast<std::uint8_t>(pn >> (8 * i));
  return nonce;
}

template <class Aead, std::uint64_t Chosen, std::uint64_t Limit>
constexpr std::uint64_t limit_or_default() {
  static_assert(Chosen <= Limit, "sepal: session limits can only be lowered below the AEAD's RFC 9001 figures");
  return Chosen == 0 ? Limit : Chosen;
}

/// Associated data: the unprotected header, then the caller's. Short caller
/// AD (the common case: a connection id) is assembled on the stack; longer AD
/// goes to a reused buffer that allocates only when it must grow.
template <std::size_t HeaderSize>
class ad_builder {
 public:
  static constexpr std::size_t inline_capacity = 64;

  explicit ad_builder() { m_heap.reserve(HeaderSize + inline_capacity); }

  std::span<const std::uint8_t> build(std::span<const std::uint8_t, HeaderSize> header,
                                      std::span<const std::uint8_t> ad) {
    if (ad.size() <= inline_capacity) {
      std::memcpy(m_inline.data(), header.data(), HeaderSize);
      if (!ad.empty()) std::memcpy(m_inline.data() + HeaderSize, ad.data(), ad.size());
      return std::span(m_inline).first(HeaderSize + ad.size());
    }
    m_heap.assign(header.begin(), header.end());
    m_heap.insert(m_heap.end(), ad.begin(), ad.end());
    return m_heap;
  }

 private:
  std::array<std::uint8_t, HeaderSize + inline_capacity> m_inline{};
  std::vector<std::uint8_t> m_heap;
};

/// Header protection as an optional member (no storage when disabled).
template <class Aead, bool Enabled, std::size_t HeaderSize>
struct maybe_protector {
  explicit maybe_protector(std::span<const std::uint8_t>) {}
  void apply(std::span<std::uint8_t, HeaderSize>, std::span<const std::uint8_t, 16>) noexcept {}
};
template <class Aead, std::size_t HeaderSize>
struct maybe_protector<Aead, true, HeaderSize> {
  explicit maybe_protector(std::span<const std::uint8_t> key) : hp(key) {}
  /// XORs the mask into the flags' low five bits and the packet number
  /// (RFC 9001 §5.4.1, short header: the connection id stays clear);
  /// applying it twice removes it.
  void apply(std::span<std::uint8_t, HeaderSize> header, std::span<const std::uint8_t, 16> sample) {
    const auto mask = hp.mask(sample);
    header[0] ^= mask[0] & 0x1f;
    for (std::size_t i = 0; i < pn_length; ++i) header[HeaderSize - pn_length + i] ^= mask[1 + i];
  }
  header_protector<Aead> hp;
};

/// A traffic IV: not a key, but derived from the traffic secret and wiped
/// with the object that holds it.
template <std::size_t N>
struct traffic_iv {
  std::array<std::uint8_t, N> bytes{};

  traffic_iv() = default;
  explicit traffic_iv(const secret_bytes& s) noexcept { std::copy_n(s.reveal().begin(), N, bytes.begin()); }
  traffic_iv(const traffic_iv&) = default;
  traffic_iv& operator=(const traffic_iv&) = default;
  ~traffic_iv() { sepal::detail::wipe(bytes.data(), bytes.size()); }
};

/// RFC 9001 §6.6 and Appendix B derive the AEAD limits for packets of at
/// most 2^11 16-byte blocks; a larger packet counts as one packet per
/// started 2^15 bytes, so the limits hold whatever the packet sizes.
inline constexpr std::uint64_t usage_units(std::size_t bytes) noexcept {
  constexpr std::size_t unit = std::size_t{1} << 15;
  return 1 + static_cast<std::uint64_t>(bytes / unit);
}

struct sealer_testing;

}  // namespace detail

template <session_suite Suite, session_options Options>
class session;

/// The sending direction of a session: owns the packet number, so nonces
/// cannot repeat; updates its key before the AEAD's confidentiality limit.
///
/// Errors: `seal` throws `sepal::error` with `invalid_argument` when `out` is
/// too small, `limit_reached` when the packet number space (2^62) is
/// exhausted, and `moved_from` on a moved-from sealer; it never reuses a
/// nonce.
///
/// Security: the sealer consumes its traffic secret (one secret, one
/// sealer: two sealers can never share a key and nonce sequence); the secret,
/// keys and IV live in wiped memory. Steady-state sealing allocates nothing.
template <session_suite Suite = default_cipher_suite, session_options Options = session_options{}>
class sealer {
  using aead = typename Suite::aead;
  static_assert(Options.connection_id_size <= detail::max_connection_id_size, "sepal: connection ids are 0 to 20 bytes");

 public:
  static constexpr std::size_t connection_id_size = Options.connection_id_size;  ///< connection id bytes
  using connection_id_type = connection_id<connection_id_size>;                   ///< the peer's connection id
  static constexpr std::size_t header_size = detail::header_size<connection_id_size>;  ///< header bytes
  static constexpr std::size_t overhead = header_size + aead::tag_size;                ///< header + tag bytes
  /// Packets sealed under one key before an automatic key update (a packet
  /// over 2^15 bytes counts once per started 2^15 bytes).
  static constexpr std::uint64_t confidentiality_limit =
      detail::limit_or_default<aead, Options.confidentiality_limit, aead::confidentiality_limit>();

  /// A sealer for the direction whose traffic secret is `traffic_secret`,
  /// which it takes over (pass it with `std::move`).
  ///
  /// Errors: throws `sepal::error(errc::invalid_argument)` for an empty secret.
  explicit sealer(secret_bytes traffic_secret)
    requires(connection_id_size == 0)
      : sealer(std::move(traffic_secret), keys_of(traffic_secret), {}) {}

  /// A sealer whose packets carry `destination`, the peer's connection id.
  ///
  /// Errors: throws `sepal::error(errc::invalid_argument)` for an empty secret.
  sealer(secret_bytes traffic_secret, const connection_id_type& destination)
    requires(connection_id_size > 0)
      : sealer(std::move(traffic_secret), keys_of(traffic_secret), destination) {}

  sealer(sealer&&) noexcept = default;
  sealer& operator=(sealer&&) noexcept = default;

  /// Seals `payload` into `out` (at least `payload.size() + overhead` bytes)
  /// and returns the packet. `payload` may already sit at `out[header_size]`
  /// (in place); `ad` is authenticated but not sent.
  [[nodiscard]] std::span<std::uint8_t> seal(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> payload,
                                             std::span<std::uint8_t> out) {
    return seal_packet(ad, payload, out, true, false, false);
  }

  /// `seal` in place: the payload is `buffer[header_size, header_size +
  /// payload_size)`, and `buffer` has room for the tag after it.
  [[nodiscard]] std::span<std::uint8_t> seal_in_place(std::span<const std::uint8_t> ad, std::span<std::uint8_t> buffer,
                                                      std::size_t payload_size) {
    if (buffer.size() < header_size + payload_size) throw error(errc::invalid_argument);
    return seal(ad, buffer.subspan(header_size, payload_size), buffer);
  }

  /// Moves to the next key generation now (RFC 9001 §6); the opener follows
  /// when it sees the flipped key phase. Also done automatically at
  /// `confidentiality_limit`. Errors: `sepal::error(errc::moved_from)`.
  void update_key() {
    if (!m_aead.usable()) throw error(errc::moved_from);
    m_secret = packet_keys<Suite>::next_secret(m_secret.reveal());
    install(packet_keys<Suite>::derive(m_secret.reveal()));
    m_phase = !m_phase;
    ++m_generation;
    m_under_key = 0;
  }

  /// The packet number the next packet will carry.
  [[nodiscard]] std::uint64_t next_packet_number() const noexcept { return m_pn; }
  /// The connection id every packet carries (the peer's).
  [[nodiscard]] const connection_id_type& destination() const noexcept { return m_destination; }
  /// How many key updates happened.
  [[nodiscard]] std::uint64_t key_generation() const noexcept { return m_generation; }

 private:
  friend struct detail::sealer_testing;
  template <session_suite, session_options>
  friend class session;

  /// `seal`; a `session` passes `automatic_update = false` (it paces key
  /// updates itself, docs/protocol.md §7.1: at the limit without the peer's
  /// acknowledgment sealing throws `limit_reached`), its receive phase
  /// as `ack_phase`, and `control` for its control packets (§7.3).
  std::span<std::uint8_t> seal_packet(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> payload,
                                      std::span<std::uint8_t> out, bool automatic_update, bool ack_phase,
                                      bool control) {
    if (!m_aead.usable()) throw error(errc::moved_from);
    if (out.size() < payload.size() + overhead) throw error(errc::invalid_argument);
    if (m_pn > detail::max_packet_number) throw error(errc::limit_reached);
    const std::uint64_t units = detail::usage_units(payload.size() + ad.size());
    if (units > confidentiality_limit) throw error(errc::limit_reached);  // only with tiny test limits
    if (m_under_key + units > confidentiality_limit) {
      if (!automatic_update) throw error(errc::limit_reached);
      update_key();
    }

    std::array<std::uint8_t, header_size> header{};
    header[0] = static_cast<std::uint8_t>(detail::fixed_bit | (m_phase ? detail::key_phase_bit : 0) |
                                          (ack_phase ? detail::ack_phase_bit : 0) |
                                          (control ? detail::control_bit : 0) | (detail::pn_length - 1));
    std::copy(m_destination.begin(), m_destination.end(), header.begin() + 1);
    for (std::size_t i = 0; i < detail::pn_length; ++i)
      header[1 + connection_id_size + i] = static_cast<std::uint8_t>(m_pn >> (8 * (detail::pn_length - 1 - i)));
    const auto nonce = detail::packet_nonce(m_iv.bytes, m_pn);
    const auto body = m_aead.seal(nonce, m_ad.build(header, ad), payload, out.subspan(header_size));
    m_hp.apply(header, body.template first<16>());
    std::copy(header.begin(), header.end(), out.begin());
    ++m_pn;
    m_under_key += units;
    return out.first(header_size + body.size());
  }

  static packet_keys<Suite> keys_of(const secret_bytes& secret) {
    if (secret.empty()) throw error(errc::invalid_argument);
    return packet_keys<Suite>::derive(secret.reveal());
  }
  // `secret` is bound, not moved, until the member initializer: `keys` was
  // derived from it first.
  sealer(secret_bytes&& secret, const packet_keys<Suite>& keys, const connection_id_type& destination)
      : m_secret(std::move(secret)), m_hp(keys.hp.reveal()), m_destination(destination) {
    install(keys);
  }

  void install(const packet_keys<Suite>& keys) {
    m_aead.set_key(keys.key.reveal());
    m_iv = detail::traffic_iv<aead::nonce_size>(keys.iv);
  }

  secret_bytes m_secret;
  detail::aead_encryptor<aead> m_aead;
  detail::traffic_iv<aead::nonce_size> m_iv;
  detail::maybe_protector<aead, Options.header_protection, header_size> m_hp;
  detail::ad_builder<header_size> m_ad;
  connection_id_type m_destination{};
  std::uint64_t m_pn = 0;
  std::uint64_t m_under_key = 0;
  std::uint64_t m_generation = 0;
  bool m_phase = false;
};

namespace detail {
/// Test-only access to a sealer's packet number (to reach the 2^62 limit or
/// a 32-bit wrap in a test). Not API: it lives in `detail` so no application
/// code reaches it by accident, and it only moves forward, so it cannot make
/// a nonce repeat.
struct sealer_testing {
  template <class S, auto O>
  static void skip_packet_numbers(sealer<S, O>& s, std::uint64_t pn) {
    if (pn < s.m_pn) throw error(errc::invalid_argument);
    s.m_pn = pn;
  }
};
}  // namespace detail

/// The receiving direction of a session: removes header protection, rejects
/// replays (RFC 6479 window, updated only after the tag verifies), follows
/// key updates, and closes at the AEAD's integrity limit.
///
/// Errors (never throws): `invalid_encoding` for packets too short, not in
/// sepal's format, for another connection id (checked before decryption),
/// or control packets (their C bit set: only a `session` takes them);
/// `replayed` for duplicates and packets older than the
/// window; `authentication_failed` for anything that does not verify;
/// `closed` once the integrity limit was reached; `invalid_argument` when
/// `out` is too small; `moved_from` on a moved-from opener.
///
/// Security: a failed open changes nothing but the forgery counter (no key
/// is installed, dropped or promoted before a packet authenticates), and
/// leaves no plaintext in `out`. Steady-state opening allocates nothing;
/// packets rejected before decryption (malformed, replayed, too old) never
/// allocate. A packet that fails its tag check costs the two short-lived
/// allocations of the exception Botan throws inside `finish()` (its AEAD
/// API has no non-throwing tag check); nothing is retained.
template <session_suite Suite = default_cipher_suite, session_options Options = session_options{}>
class opener {
  using aead = typename Suite::aead;
  static_assert(Options.connection_id_size <= detail::max_connection_id_size, "sepal: connection ids are 0 to 20 bytes");

 public:
  static constexpr std::size_t connection_id_size = Options.connection_id_size;  ///< connection id bytes
  using connection_id_type = connection_id<connection_id_size>;                   ///< this side's connection id
  static constexpr std::size_t header_size = detail::header_size<connection_id_size>;  ///< header bytes
  static constexpr std::size_t overhead = header_size + aead::tag_size;                ///< header + tag bytes
  /// Failed opens after which the opener closes (a forged packet over 2^15
  /// bytes counts once per started 2^15 bytes).
  static constexpr std::uint64_t integrity_limit =
      detail::limit_or_default<aead, Options.integrity_limit, aead::integrity_limit>();
  /// Packets accepted under new keys before the previous keys are dropped.
  static constexpr std::uint64_t previous_key_lifetime =
      Options.previous_key_lifetime == 0 ? Options.replay_window : Options.previous_key_lifetime;

  /// An opener for the direction whose traffic secret is `traffic_secret`,
  /// which it takes over (pass it with `std::move`).
  ///
  /// Errors: throws `sepal::error(errc::invalid_argument)` for an empty secret.
  explicit opener(secret_bytes traffic_secret)
    requires(connection_id_size == 0)
      : opener(keys_of(std::move(traffic_secret)), {}) {}

  /// An opener for packets that carry `local`, this side's connection id.
  ///
  /// Errors: throws `sepal::error(errc::invalid_argument)` for an empty secret.
  opener(secret_bytes traffic_secret, const connection_id_type& local)
    requires(connection_id_size > 0)
      : opener(keys_of(std::move(traffic_secret)), local) {}

  opener(opener&&) noexcept = default;
  opener& operator=(opener&&) noexcept = default;

  /// Opens `packet` into `out` (at least `packet.size() - overhead` bytes)
  /// and returns the payload. `packet` may start at `out[-header_size]`,
  /// i.e. `out` may be `packet.subspan(header_size)` (in place).
  [[nodiscard]] result<std::span<std::uint8_t>> open(std::span<const std::uint8_t> ad,
                                                     std::span<const std::uint8_t> packet,
                                                     std::span<std::uint8_t> out) noexcept {
    return open_packet(ad, packet, out, false, nullptr);
  }

  /// `open` in place: the payload is left at `packet[header_size]`.
  [[nodiscard]] result<std::span<std::uint8_t>> open_in_place(std::span<const std::uint8_t> ad,
                                                              std::span<std::uint8_t> packet) noexcept {
    if (packet.size() < overhead) return errc::invalid_encoding;
    return open(ad, packet, packet.subspan(header_size));
  }

  /// `open_in_place` for an ordered stream (TLS 1.3 §5.3's implicit
  /// sequence): only the packet number right after the last accepted one
  /// (0 first) opens. Errors: as `open`, and `out_of_order` for any other
  /// packet number (checked before decryption).
  [[nodiscard]] result<std::span<std::uint8_t>> open_next_in_place(std::span<const std::uint8_t> ad,
                                                                   std::span<std::uint8_t> packet) noexcept {
    if (packet.size() < overhead) return errc::invalid_encoding;
    return open_packet(ad, packet, packet.subspan(header_size), true, nullptr);
  }

  /// Packets that failed authentication so far (across all keys).
  [[nodiscard]] std::uint64_t forged_packets() const noexcept { return m_forged; }
  /// True once the integrity limit was reached: every open fails.
  [[nodiscard]] bool closed() const noexcept { return m_forged >= integrity_limit; }
  /// How many key updates the peer made that this opener followed.
  [[nodiscard]] std::uint64_t key_generation() const noexcept { return m_generation; }
  /// True once any packet has opened.
  [[nodiscard]] bool has_received() const noexcept { return !m_window.empty(); }
  /// The connection id packets to this side carry.
  [[nodiscard]] const connection_id_type& local_id() const noexcept { return m_local; }

 private:
  template <session_suite, session_options>
  friend class session;

  /// One keyed Botan object and its IV.
  struct keyed {
    detail::aead_decryptor<aead> cipher;
    detail::traffic_iv<aead::nonce_size> iv;
    bool live = false;  ///< false: no keys (previous keys dropped or never held)
  };

  struct initial {
    secret_bytes next_secret;
    packet_keys<Suite> current;
  };
  static initial keys_of(secret_bytes secret) {
    if (secret.empty()) throw error(errc::invalid_argument);
    return {packet_keys<Suite>::next_secret(secret.reveal()), packet_keys<Suite>::derive(secret.reveal())};
  }

  opener(initial k, const connection_id_type& local)
      : m_next_secret(std::move(k.next_secret)), m_hp(k.current.hp.reveal()), m_local(local) {
    install(m_current, k.current);
    install(m_next, packet_keys<Suite>::derive(m_next_secret.reveal()));
  }

  /// Keys a slot; Botan reuses the object's buffers, so rekeying does not allocate.
  static void install(keyed& k, const packet_keys<Suite>& keys) {
    k.cipher.set_key(keys.key.reveal());
    k.iv = detail::traffic_iv<aead::nonce_size>(keys.iv);
    k.live = true;
  }

  /// `control`: where to say whether the packet is a control packet (the C
  /// bit, docs/protocol.md §7.3); null rejects control packets.
  result<std::span<std::uint8_t>> open_packet(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> packet,
                                              std::span<std::uint8_t> out, bool in_sequence, bool* control) noexcept {
    if (!m_current.cipher.usable()) return errc::moved_from;
    if (m_forged >= integrity_limit) return errc::closed;
    if (packet.size() < overhead || (packet[0] & detail::fixed_bit) == 0) return errc::invalid_encoding;
    if (!std::equal(m_local.begin(), m_local.end(), packet.begin() + 1)) return errc::invalid_encoding;

    std::array<std::uint8_t, header_size> header{};
    std::copy_n(packet.begin(), header_size, header.begin());
    try {
      m_hp.apply(header, packet.subspan(header_size).template first<16>());
    } catch (...) {
      return errc::internal_error;
    }
    if ((header[0] & detail::pn_length_bits) != detail::pn_length - 1) return errc::authentication_failed;
    std::uint64_t truncated = 0;
    for (std::size_t i = 0; i < detail::pn_length; ++i) truncated = (truncated << 8) | header[1 + connection_id_size + i];
    const std::uint64_t expected = m_window.empty() ? 0 : m_window.largest() + 1;
    const std::uint64_t pn = detail::decode_packet_number(expected, truncated, 8 * detail::pn_length);
    if (in_sequence && pn != expected) return errc::out_of_order;
    if (pn > detail::max_packet_number) return errc::authentication_failed;
    if (!m_window.fresh(pn)) return errc::replayed;

    const bool phase = (header[0] & detail::key_phase_bit) != 0;
    keyed* k = choose_keys(phase, pn);
    // No keys apply (a late packet whose keys were dropped): nothing was
    // decrypted, so it does not count toward the integrity limit.
    if (k == nullptr) return errc::authentication_failed;
    const std::size_t body_size = packet.size() - overhead;
    try {
      const auto nonce = detail::packet_nonce(k->iv.bytes, pn);
      auto opened = k->cipher.open(nonce, m_ad.build(header, ad), packet.subspan(header_size), out);
      if (!opened) return opened.error() == errc::invalid_argument ? errc::invalid_argument : fail(body_size);
      const bool is_control = (header[0] & detail::control_bit) != 0;
      if (is_control && control == nullptr) {
        // RFC 9001 §5.4.1: bits under protection are checked after removing it.
        sepal::detail::wipe(opened->data(), opened->size());
        return errc::invalid_encoding;
      }
      if (control != nullptr) *control = is_control;
      // The keys that follow a rotation, derived before anything changes (a
      // failure here leaves the opener as it was).
      std::optional<rotation> next;
      if (k == &m_next) next = derive_rotation();
      m_window.accept(pn);
      const bool now_current = k != &m_previous;  // the next keys become current in after_accept
      after_accept(*k, pn, std::move(next));
      // The peer's receive phase (the A bit): under the current keys, equal
      // to their phase means the peer's receiver holds this generation
      // (docs/protocol.md §7.1). Packets under the previous keys say nothing.
      if (now_current && ((header[0] & detail::ack_phase_bit) != 0) == m_phase) m_current_acknowledged = true;
      return *opened;
    } catch (...) {
      sepal::detail::wipe(out.data(), std::min(out.size(), body_size));
      return errc::internal_error;  // key derivation failed during a key update
    }
  }

  /// Which keys to try (RFC 9001 §6.3, §6.5): the current ones for the
  /// current phase; for the other phase, the previous ones when the packet
  /// predates the current generation, else the next ones, which are always
  /// keyed ahead in a slot of their own. Choosing installs and drops nothing:
  /// only an authenticated packet moves keys (`after_accept`). Null when no
  /// keys apply.
  keyed* choose_keys(bool phase, std::uint64_t pn) noexcept {
    if (phase == m_phase) return &m_current;
    if (pn < m_first_pn_of_current) return m_previous.live ? &m_previous : nullptr;
    return &m_next;
  }

  struct rotation {
    secret_bytes next_secret;
    packet_keys<Suite> keys;
  };
  rotation derive_rotation() const {
    auto secret = packet_keys<Suite>::next_secret(m_next_secret.reveal());
    auto keys = packet_keys<Suite>::derive(secret.reveal());
    return {std::move(secret), std::move(keys)};
  }

  void after_accept(keyed& k, std::uint64_t pn, std::optional<rotation> next) {
    if (&k == &m_next && next) {  // the peer updated its keys, and this packet proves it: rotate
      std::swap(m_previous, m_current);  // previous <- current
      std::swap(m_current, m_next);      // current <- next; the next slot holds the old previous
      m_phase = !m_phase;
      m_current_acknowledged = false;
      m_first_pn_of_current = pn;
      m_accepted_since_update = 1;  // this packet is the first under the new keys
      ++m_generation;
      m_next_secret = std::move(next->next_secret);
      install(m_next, next->keys);
      return;
    }
    if (m_previous.live && ++m_accepted_since_update >= previous_key_lifetime) {
      m_previous.cipher.clear();  // drop the previous keys (RFC 9001 §6.5)
      m_previous.live = false;
    }
  }

  errc fail(std::size_t body_size) noexcept {
    m_forged += detail::usage_units(body_size);
    return errc::authentication_failed;
  }

  secret_bytes m_next_secret;  ///< the traffic secret `m_next`'s keys come from
  keyed m_current;
  keyed m_next;      ///< the next generation's keys, keyed ahead
  keyed m_previous;  ///< the previous generation's keys while they live
  bool m_phase = false;
  /// A packet under the current keys carried the current phase as its A bit
  /// (generation 0: both ends start there).
  bool m_current_acknowledged = true;
  std::uint64_t m_first_pn_of_current = 0;
  std::uint64_t m_accepted_since_update = 0;
  std::uint64_t m_generation = 0;
  std::uint64_t m_forged = 0;
  replay_window<Options.replay_window> m_window;
  detail::maybe_protector<aead, Options.header_protection, header_size> m_hp;
  detail::ad_builder<header_size> m_ad;
  connection_id_type m_local{};
};

}  // namespace sepal

#endif
