#ifndef SEPAL_NOISE_PROTOCOL_HPP
#define SEPAL_NOISE_PROTOCOL_HPP

// A Noise protocol as a type (pattern, DH, cipher, hash) with a compile-time
// name, and the typestate handshake: each message consumes the state and
// returns the next one; after the last message it is a transport. Writing
// on the peer's turn, reading on one's own, and starting without the keys
// the pattern needs do not compile.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "handshake_state.hpp"
#include "patterns.hpp"
#include "transport.hpp"

namespace sepal::noise {

namespace detail {

template <std::size_t N>
struct name_storage {
  std::array<char, N> chars{};
  std::size_t size = 0;
  constexpr void append(std::string_view s) {
    for (char c : s) chars[size++] = c;
  }
};

/// "Noise_" + pattern + "_" + DH + "_" + cipher + "_" + hash (§8).
template <class Pattern, class Dh, class Cipher, class Hash>
constexpr auto protocol_name() {
  name_storage<6 + 48 + 4 * 12> n;
  n.append("Noise_");
  n.append(Pattern::def.name());
  n.append("_");
  n.append(traits<Dh>::name);
  n.append("_");
  n.append(traits<Cipher>::name);
  n.append("_");
  n.append(traits<Hash>::name);
  return n;
}

}  // namespace detail

/// A Noise protocol: `protocol<patterns::XX, x25519, chacha20_poly1305,
/// sha256>` is Noise_XX_25519_ChaChaPoly_SHA256 (§8).
template <handshake_pattern Pattern, dh_function Dh, cipher_function Cipher, hash_function Hash>
struct protocol {
  using pattern = Pattern;  ///< the handshake pattern
  using dh = Dh;            ///< the DH function (a curve tag)
  using cipher = Cipher;    ///< the cipher (an AEAD tag)
  using hash = Hash;        ///< the hash (a hash tag)
  /// The pattern's definition.
  static constexpr pattern_def def = Pattern::def;

 private:
  static constexpr auto m_name = detail::protocol_name<Pattern, Dh, Cipher, Hash>();

 public:
  /// The protocol name, e.g. "Noise_XXpsk3_25519_ChaChaPoly_SHA256", as a
  /// compile-time string.
  static constexpr std::string_view name{m_name.chars.data(), m_name.size};
};

template <class Protocol, role Role, std::size_t Step = 0>
class handshake;

/// A handshake message written by `handshake::write_message`, with the state
/// that follows it.
template <class Next>
struct written {
  Next next;                          ///< the next handshake state, or the transport
  std::vector<std::uint8_t> message;  ///< the bytes to send
};

/// A handshake message read by `handshake::read_message`, with the state
/// that follows it.
template <class Next>
struct received {
  Next next;                          ///< the next handshake state, or the transport
  std::vector<std::uint8_t> payload;  ///< the message's payload
};

/// One step of a Noise handshake as a type: message `Step` of `Protocol`'s
/// pattern, seen by `Role`. `write_message` compiles only on this side's
/// turn, `read_message` only on the peer's; the last message yields a
/// `transport`.
///
/// Errors: see `handshake_state`. A failed `read_message` leaves this state
/// unchanged (it was not moved from), so the genuine message can still be
/// read; a failed `write_message` leaves it closed.
template <class Protocol, role Role, std::size_t Step>
class handshake {
  using Dh = typename Protocol::dh;
  using Cipher = typename Protocol::cipher;
  using Hash = typename Protocol::hash;
  using engine = handshake_state<Dh, Cipher, Hash>;
  static_assert(Step < Protocol::def.count, "sepal::noise: the handshake has no such message");
  static constexpr bool last = Step + 1 == Protocol::def.count;

 public:
  /// The protocol.
  using protocol_type = Protocol;
  /// What follows this message: the next step, or the transport after the last.
  using next_type = std::conditional_t<last, transport<Protocol, Role>, handshake<Protocol, Role, Step + 1>>;
  /// True when this message is this side's to write.
  static constexpr bool my_turn = pattern_def::sender(Step) == Role;

  /// Writes message `Step` with `payload` (§5.3 WriteMessage).
  ///
  /// Errors: `invalid_argument` when the message would exceed 65535 bytes;
  /// `invalid_shared_secret`/`invalid_key` when a DH with the peer's key fails.
  [[nodiscard]] result<written<next_type>> write_message(std::span<const std::uint8_t> payload = {}) && {
    static_assert(my_turn,
                  "sepal::noise: it is the peer's turn: call read_message, not write_message (Noise §5.3)");
    std::vector<std::uint8_t> out(m_engine.message_size(payload.size()));
    auto n = m_engine.write_message(payload, out);
    if (!n) return n.error();
    out.resize(*n);
    auto next = advance();
    if (!next) return next.error();
    return written<next_type>{std::move(*next), std::move(out)};
  }

  /// Reads the peer's message `Step` (§5.3 ReadMessage). Never throws on
  /// the message; on failure `*this` is unchanged.
  [[nodiscard]] result<received<next_type>> read_message(std::span<const std::uint8_t> message) && {
    static_assert(!my_turn,
                  "sepal::noise: it is this side's turn: call write_message, not read_message (Noise §5.3)");
    if (message.size() > max_message_size) return errc::invalid_encoding;
    std::vector<std::uint8_t> payload(message.size());
    auto n = m_engine.read_message(message, payload);
    if (!n) return n.error();
    payload.resize(*n);
    auto next = advance();
    if (!next) return next.error();
    return received<next_type>{std::move(*next), std::move(payload)};
  }

  /// The handshake hash so far (§5.2).
  [[nodiscard]] std::span<const std::uint8_t, Hash::digest_size> handshake_hash() const noexcept {
    return m_engine.handshake_hash();
  }
  /// The peer's static key, once known.
  [[nodiscard]] const std::optional<public_key<Dh>>& remote_static() const noexcept { return m_engine.remote_static(); }

 private:
  template <class, role, std::size_t>
  friend class handshake;
  template <class P, role R, class... Keys>
  friend handshake<P, R, 0> start(std::span<const std::uint8_t>, Keys&&...);

  explicit handshake(engine e) noexcept : m_engine(std::move(e)) {}

  result<next_type> advance() {
    if constexpr (last) {
      auto s = std::move(m_engine).split();
      if (!s) return s.error();
      return next_type(std::move(*s));
    } else {
      return next_type(std::move(m_engine));
    }
  }

  engine m_engine;
};

namespace detail {

template <class T, class U>
inline constexpr bool is = std::is_same_v<std::remove_cvref_t<T>, U>;

template <class Dh>
void add_key(handshake_keys<Dh>& k, private_key<Dh>&& s) {
  k.local_static = std::make_shared<const private_key<Dh>>(std::move(s));
}
template <class Dh>
void add_key(handshake_keys<Dh>& k, std::shared_ptr<const private_key<Dh>> s) {
  if (!s) throw error(errc::missing_credential);
  k.local_static = std::move(s);
}
template <class Dh>
void add_key(handshake_keys<Dh>& k, const public_key<Dh>& rs) {
  k.remote_static = rs;
}
template <class Dh>
void add_key(handshake_keys<Dh>& k, pre_shared_key&& p) {
  k.psks.push_back(std::move(p));
}
template <class Dh>
void add_key(handshake_keys<Dh>& k, fixed_ephemeral_key_for_testing_only<Dh>&& e) {
  k.fixed_ephemeral_for_testing_only = std::move(e.key);
}

}  // namespace detail

/// Starts `Protocol` as `Role` with `prologue` (§6) and the keys the
/// pattern needs, in any order: this side's static `private_key<Dh>`
/// (moved in, or a `std::shared_ptr<const private_key<Dh>>` a server shares
/// between handshakes), the peer's `public_key<Dh>` for patterns where it is a
/// pre-message, one `pre_shared_key` per "psk" token (moved in, in token
/// order), and optionally a `fixed_ephemeral_key_for_testing_only<Dh>`.
///
/// Errors: a missing or superfluous key, or the wrong number of PSKs, does
/// not compile. Throws `sepal::error` only on RNG or internal failure.
template <class Protocol, role Role, class... Keys>
[[nodiscard]] handshake<Protocol, Role, 0> start(std::span<const std::uint8_t> prologue, Keys&&... keys) {
  using Dh = typename Protocol::dh;
  constexpr pattern_def p = Protocol::def;
  constexpr std::size_t statics = (0 + ... + (detail::is<Keys, private_key<Dh>> ||
                                              detail::is<Keys, std::shared_ptr<const private_key<Dh>>>));
  constexpr std::size_t remotes = (0 + ... + detail::is<Keys, public_key<Dh>>);
  constexpr std::size_t psks = (0 + ... + detail::is<Keys, pre_shared_key>);
  constexpr std::size_t fixed = (0 + ... + detail::is<Keys, fixed_ephemeral_key_for_testing_only<Dh>>);
  static_assert(statics + remotes + psks + fixed == sizeof...(Keys),
                "sepal::noise: keys are sepal::private_key<Dh> (moved in) or std::shared_ptr<const "
                "sepal::private_key<Dh>> (shared), sepal::public_key<Dh>, "
                "noise::pre_shared_key (moved in) or noise::fixed_ephemeral_key_for_testing_only<Dh>, "
                "with the protocol's Dh");
  static_assert((((!detail::is<Keys, private_key<Dh>> && !detail::is<Keys, pre_shared_key>) || !std::is_lvalue_reference_v<Keys>) && ...),
                "sepal::noise: private keys and PSKs are moved in: std::move(key)");
  static_assert(!p.needs_local_static(Role) || statics == 1,
                "sepal::noise: this pattern needs this side's static key: pass a sepal::private_key<Dh>");
  static_assert(p.needs_local_static(Role) || statics == 0,
                "sepal::noise: this pattern does not use this side's static key");
  static_assert(!p.needs_remote_static(Role) || remotes == 1,
                "sepal::noise: this pattern needs the peer's static public key in advance (a pre-message, "
                "Noise §7.1): pass a sepal::public_key<Dh>");
  static_assert(p.needs_remote_static(Role) || remotes == 0,
                "sepal::noise: this pattern learns the peer's static key during the handshake; do not pass one");
  static_assert(psks == p.psk_count(), "sepal::noise: pass one noise::pre_shared_key per psk modifier (Noise §9)");
  static_assert(fixed <= 1, "sepal::noise: at most one fixed ephemeral key");
  static_assert((((!detail::is<Keys, fixed_ephemeral_key_for_testing_only<Dh>>) || !std::is_lvalue_reference_v<Keys>) && ...),
                "sepal::noise: the fixed ephemeral key is moved in");
  handshake_keys<Dh> k;
  (detail::add_key<Dh>(k, std::forward<Keys>(keys)), ...);
  auto e = handshake_state<Dh, typename Protocol::cipher, typename Protocol::hash>::initialize(p, Role, prologue,
                                                                                               std::move(k));
  return handshake<Protocol, Role, 0>(std::move(e).value());
}

/// `start<Protocol, role::initiator>`.
template <class Protocol, class... Keys>
[[nodiscard]] handshake<Protocol, role::initiator, 0> initiator(std::span<const std::uint8_t> prologue, Keys&&... keys) {
  return start<Protocol, role::initiator>(prologue, std::forward<Keys>(keys)...);
}

/// `start<Protocol, role::responder>`.
template <class Protocol, class... Keys>
[[nodiscard]] handshake<Protocol, role::responder, 0> responder(std::span<const std::uint8_t> prologue, Keys&&... keys) {
  return start<Protocol, role::responder>(prologue, std::forward<Keys>(keys)...);
}

}  // namespace sepal::noise

#endif
