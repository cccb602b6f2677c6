#ifndef SEPAL_NOISE_HANDSHAKE_STATE_HPP
#define SEPAL_NOISE_HANDSHAKE_STATE_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../kex.hpp"
#include "../keys.hpp"
#include "../rng.hpp"
#include "../secret.hpp"
#include "algorithms.hpp"
#include "patterns.hpp"
#include "symmetric_state.hpp"

namespace sepal::noise {

/// A 32-byte pre-shared key for the "psk" token (Noise §9).
///
/// Security: move-only, wiped; no comparison or printing.
class pre_shared_key {
 public:
  /// Takes `key`. Errors: throws `sepal::error(errc::invalid_argument)`
  /// unless it is 32 bytes (§9.1).
  explicit pre_shared_key(secret_bytes key) : m_key(std::move(key)) {
    if (m_key.size() != 32) throw error(errc::invalid_argument);
  }
  /// A copy of `key` in wiped memory. Errors: as the constructor.
  [[nodiscard]] static pre_shared_key copy_of(std::span<const std::uint8_t> key) { return pre_shared_key(secret_bytes::copy_of(key)); }
  /// The key bytes. Security: secret.
  [[nodiscard]] std::span<const std::uint8_t> reveal() const noexcept { return m_key.reveal(); }

 private:
  secret_bytes m_key;
};

/// A fixed ephemeral key pair for reproducing test vectors (snow's
/// `fixed_ephemeral_key_for_testing_only`).
///
/// Security: a fixed ephemeral key destroys forward secrecy and, reused,
/// the confidentiality of every handshake that uses it. Never in production.
template <dh_function Dh>
struct fixed_ephemeral_key_for_testing_only {
  private_key<Dh> key;  ///< the ephemeral private key to use
};

/// The keys a handshake starts with (Noise §5.3 Initialize: s, e, rs, and
/// the PSKs of §9).
template <dh_function Dh>
struct handshake_keys {
  /// s: shared, so a server can run many handshakes on one static key
  /// without copying it (the key is never modified).
  std::shared_ptr<const private_key<Dh>> local_static;
  std::optional<public_key<Dh>> remote_static;   ///< rs, for patterns with a pre-message
  std::vector<pre_shared_key> psks;                         ///< one per "psk" token, in order
  std::optional<private_key<Dh>> fixed_ephemeral_for_testing_only;  ///< e; see fixed_ephemeral_key_for_testing_only
};

/// What `handshake_state::split` hands over to a transport.
template <dh_function Dh, cipher_function Cipher, std::size_t HashSize>
struct split_state {
  cipher_state<Cipher> send;                       ///< this side's sending cipher state
  cipher_state<Cipher> receive;                    ///< this side's receiving cipher state
  std::array<std::uint8_t, HashSize> handshake_hash{};  ///< h at the end of the handshake (§5.2)
  std::optional<public_key<Dh>> remote_static;     ///< the peer's static key, if the pattern has one
};

/// Noise's HandshakeState (§5.3), for a pattern known at run time: checks
/// turns and completion and returns errors. `handshake<Protocol, Role>`
/// (protocol.hpp) wraps it so those mistakes do not compile.
///
/// Errors: never throws on a peer's message. `read_message` returns
/// `invalid_encoding` for a message of the wrong length, `invalid_key` for a
/// public key that is not a point, `invalid_shared_secret` for an all-zero
/// X25519/X448 output, `authentication_failed` for a wrong tag; the state is
/// then exactly as before the call. `out_of_order` when it is not this side's
/// turn, `already_finished` after the last message, `closed` after a failed
/// `write_message`.
///
/// Security: keys and the symmetric state are in wiped memory; move-only.
/// Messages are at most 65535 bytes (§3); longer input is refused before any
/// work.
template <dh_function Dh, cipher_function Cipher, hash_function Hash>
class handshake_state {
 public:
  /// DHLEN of the public keys on the wire (P256: 65).
  static constexpr std::size_t dh_size = traits<Dh>::public_size;
  /// HASHLEN.
  static constexpr std::size_t hash_size = Hash::digest_size;
  /// What `split` returns.
  using split_type = split_state<Dh, Cipher, hash_size>;

  /// §5.3 Initialize(pattern, initiator, prologue, s, e, rs, re) with PSKs.
  ///
  /// Errors: `invalid_argument` for a pattern that breaks §7.3/§9.3,
  /// `missing_credential` when a key the pattern needs for `me` is missing
  /// or a key or PSK it does not use is given (a silent mismatch would make
  /// the handshake fail later, or drop a key the caller meant to use).
  [[nodiscard]] static result<handshake_state> initialize(const pattern_def& pattern, role me,
                                                          std::span<const std::uint8_t> prologue,
                                                          handshake_keys<Dh> keys) noexcept {
    return sepal::detail::guarded<result<handshake_state>>(errc::internal_error, [&]() -> result<handshake_state> {
      if (detail::validate(pattern) != pattern_error::valid) return errc::invalid_argument;
      if (pattern.needs_local_static(me) != (keys.local_static != nullptr)) return errc::missing_credential;
      if (pattern.needs_remote_static(me) != keys.remote_static.has_value()) return errc::missing_credential;
      if (pattern.psk_count() != keys.psks.size()) return errc::missing_credential;
      return handshake_state(pattern, me, prologue, std::move(keys));
    });
  }

  handshake_state(handshake_state&&) noexcept = default;
  handshake_state& operator=(handshake_state&&) noexcept = default;

  /// The full protocol name (§8), e.g. "Noise_XX_25519_ChaChaPoly_SHA256".
  [[nodiscard]] const std::string& protocol_name() const noexcept { return m_name; }
  /// This side's role.
  [[nodiscard]] role my_role() const noexcept { return m_role; }
  /// The index of the next message.
  [[nodiscard]] std::size_t message_index() const noexcept { return m_index; }
  /// True when all messages are done: `split` may be called.
  [[nodiscard]] bool is_complete() const noexcept { return m_index >= m_pattern.count; }
  /// True when the next message is this side's to write.
  [[nodiscard]] bool my_turn() const noexcept { return !is_complete() && pattern_def::sender(m_index) == m_role; }
  /// The pattern.
  [[nodiscard]] const pattern_def& pattern() const noexcept { return m_pattern; }

  /// The exact size of the next message `write_message` writes for a
  /// payload of `payload_size` bytes (0 when it is not this side's turn).
  [[nodiscard]] std::size_t message_size(std::size_t payload_size) const noexcept {
    if (!my_turn()) return 0;
    bool keyed = m_ss.has_key();
    std::size_t n = 0;
    for (token t : m_pattern.messages[m_index]) {
      if (t == token::e) {
        n += dh_size;
        keyed = keyed || m_psk_mode;
      } else if (t == token::s) {
        n += dh_size + (keyed ? tag_size : 0);
      } else {
        keyed = true;  // every DH and psk token calls MixKey
      }
    }
    return n + payload_size + (keyed ? tag_size : 0);
  }

  /// §5.3 WriteMessage(payload, message_buffer): writes the next message
  /// into `out` and returns its size (`message_size(payload.size())`).
  ///
  /// Errors: `out_of_order` when it is the peer's turn, `already_finished`
  /// after the last message, `invalid_argument` when the message would
  /// exceed 65535 bytes or `out` is too small (nothing changes then);
  /// `invalid_shared_secret` / `invalid_key` when a DH with the peer's key
  /// fails, which leaves the handshake `closed`.
  [[nodiscard]] result<std::size_t> write_message(std::span<const std::uint8_t> payload,
                                                  std::span<std::uint8_t> out) noexcept {
    if (m_failed) return errc::closed;
    if (is_complete()) return errc::already_finished;
    if (!my_turn()) return errc::out_of_order;
    const std::size_t total = message_size(payload.size());
    if (total > max_message_size || out.size() < total) return errc::invalid_argument;
    auto r = sepal::detail::guarded<result<std::size_t>>(errc::internal_error, [&]() -> result<std::size_t> {
      std::size_t off = 0;
      for (token t : m_pattern.messages[m_index]) {
        switch (t) {
          case token::e: {  // §5.3: generate e, append e.public_key, MixHash; §9.2: MixKey in PSK mode
            if (m_fixed_e) {
              m_e = std::move(m_fixed_e);
              m_fixed_e.reset();
            } else {
              m_e = private_key<Dh>::generate(system_rng());
            }
            const auto pub = raw_public(*m_e);
            std::memcpy(out.data() + off, pub.data(), dh_size);
            m_ss.mix_hash(out.subspan(off, dh_size));
            if (m_psk_mode) m_ss.mix_key(out.subspan(off, dh_size));
            off += dh_size;
            break;
          }
          case token::s: {  // §5.3: append EncryptAndHash(s.public_key)
            const auto pub = raw_public(*m_s);
            off += m_ss.encrypt_and_hash(pub, out.subspan(off));
            break;
          }
          case token::psk:  // §9.2: MixKeyAndHash(psk)
            m_ss.mix_key_and_hash(m_psks[m_psk_index++].reveal());
            break;
          default:
            if (auto d = dh_token(t); !d) return d.error();
        }
      }
      off += m_ss.encrypt_and_hash(payload, out.subspan(off));  // §5.3: EncryptAndHash(payload)
      return off;
    });
    if (!r) {
      m_failed = true;
      return r.error();
    }
    ++m_index;
    return r;
  }

  /// §5.3 ReadMessage(message, payload_buffer): processes the peer's next
  /// message and writes its payload to `payload` (which needs
  /// `message.size()` bytes); returns the payload's size. On any failure
  /// the state is unchanged, so a forged message cannot break a handshake
  /// that the genuine message may still complete.
  [[nodiscard]] result<std::size_t> read_message(std::span<const std::uint8_t> message,
                                                 std::span<std::uint8_t> payload) noexcept {
    if (m_failed) return errc::closed;
    if (is_complete()) return errc::already_finished;
    if (my_turn()) return errc::out_of_order;
    if (message.size() > max_message_size) return errc::invalid_encoding;
    if (payload.size() < message.size()) return errc::invalid_argument;
    typename symmetric_state<Cipher, Hash>::saved saved;
    m_ss.save(saved);
    const bool had_re = m_re.has_value(), had_rs = m_rs.has_value();
    const std::size_t psk_index = m_psk_index;
    auto r = sepal::detail::guarded<result<std::size_t>>(errc::internal_error, [&]() -> result<std::size_t> {
      std::size_t off = 0;
      for (token t : m_pattern.messages[m_index]) {
        switch (t) {
          case token::e: {  // §5.3: re = next DHLEN bytes; MixHash(re); §9.2 MixKey(re) in PSK mode
            if (message.size() - off < dh_size) return errc::invalid_encoding;
            const auto raw = message.subspan(off, dh_size);
            auto key = parse_public(raw);
            if (!key) return key.error();
            m_re = std::move(*key);
            m_ss.mix_hash(raw);
            if (m_psk_mode) m_ss.mix_key(raw);
            off += dh_size;
            break;
          }
          case token::s: {  // §5.3: rs = DecryptAndHash(next DHLEN + 16 or DHLEN bytes)
            const std::size_t len = dh_size + (m_ss.has_key() ? tag_size : 0);
            if (message.size() - off < len) return errc::invalid_encoding;
            std::array<std::uint8_t, dh_size + tag_size> temp{};
            auto n = m_ss.decrypt_and_hash(message.subspan(off, len), temp);
            if (!n) return n.error();
            auto key = parse_public(std::span<const std::uint8_t>(temp.data(), dh_size));
            if (!key) return key.error();
            m_rs = std::move(*key);
            off += len;
            break;
          }
          case token::psk:
            m_ss.mix_key_and_hash(m_psks[m_psk_index++].reveal());
            break;
          default:
            if (auto d = dh_token(t); !d) return d.error();
        }
      }
      if (m_ss.has_key() && message.size() - off < tag_size) return errc::invalid_encoding;
      return m_ss.decrypt_and_hash(message.subspan(off), payload);  // §5.3: DecryptAndHash(payload)
    });
    if (!r) {
      // Put everything back: a rejected message leaves no trace.
      try {
        m_ss.restore(saved);
      } catch (...) {
        m_failed = true;
      }
      if (!had_re) m_re.reset();
      if (!had_rs) m_rs.reset();
      m_psk_index = psk_index;
      return r.error();
    }
    ++m_index;
    return r;
  }

  /// §5.2 GetHandshakeHash(): h. After the last message it binds the whole
  /// handshake (channel binding, §11.2).
  [[nodiscard]] std::span<const std::uint8_t, hash_size> handshake_hash() const noexcept {
    return m_ss.handshake_hash();
  }

  /// The peer's static public key once it is known (pre-message or "s").
  [[nodiscard]] const std::optional<public_key<Dh>>& remote_static() const noexcept { return m_rs; }

  /// §5.2 Split(), ordered for this side: the initiator sends with the
  /// first cipher state, the responder with the second.
  ///
  /// Errors: `out_of_order` before the handshake is complete, `closed` after a failure.
  [[nodiscard]] result<split_type> split() && noexcept {
    if (m_failed) return errc::closed;
    if (!is_complete()) return errc::out_of_order;
    return sepal::detail::guarded<result<split_type>>(errc::internal_error, [&]() -> result<split_type> {
      auto [c1, c2] = m_ss.split(m_role == role::initiator);
      split_type out;
      if (m_role == role::initiator) {
        out.send = std::move(c1);
        out.receive = std::move(c2);
      } else {
        out.send = std::move(c2);
        out.receive = std::move(c1);
      }
      const auto h = m_ss.handshake_hash();
      std::memcpy(out.handshake_hash.data(), h.data(), h.size());
      out.remote_static = std::move(m_rs);
      m_failed = true;  // used up
      return out;
    });
  }

 private:
  handshake_state(const pattern_def& pattern, role me, std::span<const std::uint8_t> prologue, handshake_keys<Dh> keys)
      : m_name(protocol_name_of(pattern)),
        m_ss(m_name),
        m_pattern(pattern),
        m_role(me),
        m_s(std::move(keys.local_static)),
        m_rs(std::move(keys.remote_static)),
        m_fixed_e(std::move(keys.fixed_ephemeral_for_testing_only)),
        m_psks(std::move(keys.psks)),
        m_psk_mode(pattern.psk_count() != 0) {
    m_ss.mix_hash(prologue);  // §5.3 Initialize: MixHash(prologue)
    // §5.3 Initialize: the pre-messages' public keys, initiator's first.
    if (pattern.static_premessage(role::initiator))
      m_ss.mix_hash(me == role::initiator ? raw_public(*m_s) : raw_public(*m_rs));
    if (pattern.static_premessage(role::responder))
      m_ss.mix_hash(me == role::responder ? raw_public(*m_s) : raw_public(*m_rs));
  }

  static std::string protocol_name_of(const pattern_def& p) {
    std::string n = "Noise_";  // §8: Noise_<pattern>_<DH>_<cipher>_<hash>
    n += p.name();
    n += '_';
    n += traits<Dh>::name;
    n += '_';
    n += traits<Cipher>::name;
    n += '_';
    n += traits<Hash>::name;
    return n;
  }

  static std::vector<std::uint8_t> raw_public(const private_key<Dh>& k) { return k.public_key().to_raw(); }
  static std::vector<std::uint8_t> raw_public(const public_key<Dh>& k) { return k.to_raw(); }

  /// A peer's DHLEN-byte key: P256 must be the uncompressed SEC1 form.
  static result<public_key<Dh>> parse_public(std::span<const std::uint8_t> raw) {
    if (raw.size() != dh_size) return errc::invalid_encoding;
    if constexpr (sepal::detail::is_weierstrass<Dh>) {
      if (raw[0] != 0x04) return errc::invalid_key;
    }
    return public_key<Dh>::from_raw(raw);
  }

  /// §5.3: ee, es, se, ss call MixKey(DH(...)); the initiator's key is the
  /// token's first letter, the responder's the second.
  result<void> dh_token(token t) {
    const bool init_e = t == token::ee || t == token::es;
    const bool resp_e = t == token::ee || t == token::se;
    const bool mine_e = m_role == role::initiator ? init_e : resp_e;
    const bool theirs_e = m_role == role::initiator ? resp_e : init_e;
    const private_key<Dh>* mine = mine_e ? (m_e ? &*m_e : nullptr) : m_s.get();
    const auto& theirs = theirs_e ? m_re : m_rs;
    if (mine == nullptr || !theirs) return errc::internal_error;  // §7.3 rule 1 was checked
    auto shared = agree(*mine, *theirs);
    if (!shared) return shared.error();
    m_ss.mix_key(shared->reveal());
    return {};
  }

  std::string m_name;
  symmetric_state<Cipher, Hash> m_ss;
  pattern_def m_pattern;
  role m_role;
  std::size_t m_index = 0;
  std::shared_ptr<const private_key<Dh>> m_s;
  std::optional<private_key<Dh>> m_e;
  std::optional<public_key<Dh>> m_rs, m_re;
  std::optional<private_key<Dh>> m_fixed_e;
  std::vector<pre_shared_key> m_psks;
  std::size_t m_psk_index = 0;
  bool m_psk_mode = false;
  bool m_failed = false;
};

}  // namespace sepal::noise

#endif
