#ifndef SEPAL_NOISE_DYNAMIC_HPP
#define SEPAL_NOISE_DYNAMIC_HPP

// The run-time entry point: a protocol name string ("Noise_XXpsk3_25519_
// ChaChaPoly_SHA256") to the matching handshake_state instantiation, for
// tools and vector runners. Programs that know their protocol use
// protocol.hpp's typestate instead.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "handshake_state.hpp"

namespace sepal::noise {

/// The parts of a protocol name (Noise §8).
struct protocol_name_parts {
  pattern_def pattern;     ///< the checked pattern, with modifiers
  std::string_view dh;     ///< "25519", "448", "P256"
  std::string_view cipher; ///< "ChaChaPoly", "AESGCM"
  std::string_view hash;   ///< "SHA256", "SHA512", "BLAKE2s", "BLAKE2b"
};

/// Splits and checks `name`.
///
/// Errors: `invalid_encoding` when it is not "Noise_<pattern>_<dh>_<cipher>_<hash>";
/// `wrong_algorithm` for a pattern, modifier, DH, cipher or hash this engine
/// does not support (fallback, hybrid "+hfs", unknown names);
/// `invalid_argument` for a pattern that breaks §7.3 or §9.3.
[[nodiscard]] inline result<protocol_name_parts> parse_protocol_name(std::string_view name) noexcept {
  std::string_view parts[5];
  std::size_t n = 0;
  while (n < 5) {
    const auto cut = name.find('_');
    parts[n++] = name.substr(0, cut);
    if (cut == std::string_view::npos) {
      name = {};
      break;
    }
    name.remove_prefix(cut + 1);
    if (n == 5) return errc::invalid_encoding;
  }
  if (n != 5 || parts[0] != "Noise" || !name.empty()) return errc::invalid_encoding;
  const auto one_of = [](std::string_view v, std::initializer_list<std::string_view> ok) {
    for (auto o : ok)
      if (o == v) return true;
    return false;
  };
  if (!one_of(parts[2], {"25519", "448", "P256"}) || !one_of(parts[3], {"ChaChaPoly", "AESGCM"}) ||
      !one_of(parts[4], {"SHA256", "SHA512", "BLAKE2s", "BLAKE2b"}))
    return errc::wrong_algorithm;
  pattern_error why{};
  const auto p = detail::parse_pattern_name(parts[1], why);
  if (!p) {
    return why == pattern_error::bad_token || why == pattern_error::too_many_messages ? errc::wrong_algorithm
                                                                                      : errc::invalid_argument;
  }
  return protocol_name_parts{*p, parts[2], parts[3], parts[4]};
}

/// Keys for `dynamic_handshake`, as raw bytes (Noise §5.3 Initialize).
struct dynamic_keys {
  std::span<const std::uint8_t> prologue;                  ///< the prologue (§6)
  std::optional<secret_bytes> local_static;                ///< s: the raw private key
  std::optional<std::vector<std::uint8_t>> remote_static;  ///< rs: the raw public key (pre-messages)
  std::vector<secret_bytes> psks;                          ///< one per "psk" token, 32 bytes each
  std::optional<secret_bytes> fixed_ephemeral_for_testing_only;  ///< see fixed_ephemeral_key_for_testing_only
};

/// A transport from `dynamic_handshake`: one cipher state per direction.
///
/// Errors: `open` never throws (`authentication_failed`, `limit_reached`,
/// `invalid_argument` on a one-way pattern's initiator); `seal` throws
/// `sepal::error(errc::limit_reached)` when the nonces are used up and
/// `errc::invalid_argument` for a payload over 65519 bytes or on a one-way
/// pattern's responder (§7.4: only the initiator sends).
class dynamic_transport {
 public:
  /// Encrypts `payload` with the next sending nonce (Noise §5.4).
  [[nodiscard]] std::vector<std::uint8_t> seal(std::span<const std::uint8_t> payload) { return m_impl->seal(payload); }
  /// Decrypts the peer's next message.
  [[nodiscard]] result<std::vector<std::uint8_t>> open(std::span<const std::uint8_t> message) noexcept {
    return m_impl->open(message);
  }
  /// §11.3 Rekey() of the sending cipher state.
  void rekey_send() { m_impl->rekey(true); }
  /// §11.3 Rekey() of the receiving cipher state.
  void rekey_receive() { m_impl->rekey(false); }
  /// The handshake hash (§5.2).
  [[nodiscard]] std::span<const std::uint8_t> handshake_hash() const noexcept { return m_impl->hash(); }

  /// Implementation interface (one per DH × cipher × hash).
  struct base {
    virtual ~base() = default;
    virtual std::vector<std::uint8_t> seal(std::span<const std::uint8_t>) = 0;
    virtual result<std::vector<std::uint8_t>> open(std::span<const std::uint8_t>) noexcept = 0;
    virtual void rekey(bool send) = 0;
    virtual std::span<const std::uint8_t> hash() const noexcept = 0;
  };
  explicit dynamic_transport(std::unique_ptr<base> impl) noexcept : m_impl(std::move(impl)) {}

 private:
  std::unique_ptr<base> m_impl;
};

/// A handshake chosen by name at run time (Noise §5.3 over any supported
/// protocol name).
///
/// Errors: as `handshake_state`; turns and completion are checked at run
/// time (`out_of_order`, `already_finished`).
class dynamic_handshake {
 public:
  /// Starts the handshake `protocol_name` as `me` with `keys`.
  ///
  /// Errors: those of `parse_protocol_name`; `invalid_key` for key bytes
  /// that are not keys of the DH; `invalid_argument` for a PSK that is not
  /// 32 bytes; `missing_credential` for a key the pattern needs but was not
  /// given, or one it does not use.
  [[nodiscard]] static result<dynamic_handshake> create(std::string_view protocol_name, role me,
                                                        dynamic_keys keys) noexcept;

  /// The next message, carrying `payload`.
  [[nodiscard]] result<std::vector<std::uint8_t>> write_message(std::span<const std::uint8_t> payload) noexcept {
    return m_impl->write(payload);
  }
  /// The payload of the peer's next message.
  [[nodiscard]] result<std::vector<std::uint8_t>> read_message(std::span<const std::uint8_t> message) noexcept {
    return m_impl->read(message);
  }
  /// True after the last handshake message.
  [[nodiscard]] bool is_complete() const noexcept { return m_impl->complete(); }
  /// True when the next message is this side's to write.
  [[nodiscard]] bool my_turn() const noexcept { return m_impl->turn(); }
  /// True for a one-way pattern (§7.4): only the initiator sends.
  [[nodiscard]] bool one_way() const noexcept { return m_impl->one_way(); }
  /// The handshake hash so far (§5.2).
  [[nodiscard]] std::span<const std::uint8_t> handshake_hash() const noexcept { return m_impl->hash(); }
  /// The peer's raw static public key, once known.
  [[nodiscard]] std::optional<std::vector<std::uint8_t>> remote_static() const { return m_impl->remote_static(); }
  /// The transport (§5.2 Split()). Errors: `out_of_order` before the handshake is complete.
  [[nodiscard]] result<dynamic_transport> into_transport() && noexcept { return m_impl->split(); }

  /// Implementation interface (one per DH × cipher × hash).
  struct base {
    virtual ~base() = default;
    virtual result<std::vector<std::uint8_t>> write(std::span<const std::uint8_t>) noexcept = 0;
    virtual result<std::vector<std::uint8_t>> read(std::span<const std::uint8_t>) noexcept = 0;
    virtual bool complete() const noexcept = 0;
    virtual bool turn() const noexcept = 0;
    virtual bool one_way() const noexcept = 0;
    virtual std::span<const std::uint8_t> hash() const noexcept = 0;
    virtual std::optional<std::vector<std::uint8_t>> remote_static() const = 0;
    virtual result<dynamic_transport> split() noexcept = 0;
  };

 private:
  explicit dynamic_handshake(std::unique_ptr<base> impl) noexcept : m_impl(std::move(impl)) {}
  std::unique_ptr<base> m_impl;
};

namespace detail {

template <dh_function Dh, cipher_function Cipher, hash_function Hash>
class dynamic_transport_impl final : public dynamic_transport::base {
 public:
  dynamic_transport_impl(split_state<Dh, Cipher, Hash::digest_size> s, bool may_send, bool may_receive)
      : m_s(std::move(s)), m_may_send(may_send), m_may_receive(may_receive) {}
  std::vector<std::uint8_t> seal(std::span<const std::uint8_t> payload) override {
    if (!m_may_send) throw error(errc::invalid_argument);  // a one-way responder (§7.4)
    if (payload.size() > max_payload_size) throw error(errc::invalid_argument);
    std::vector<std::uint8_t> out(payload.size() + tag_size);
    out.resize(m_s.send.encrypt_with_ad({}, payload, out));  // §5.4: EncryptWithAd(zerolen, payload)
    return out;
  }
  result<std::vector<std::uint8_t>> open(std::span<const std::uint8_t> message) noexcept override {
    return sepal::detail::guarded<result<std::vector<std::uint8_t>>>(errc::internal_error, [&]() -> result<std::vector<std::uint8_t>> {
      if (!m_may_receive) return errc::invalid_argument;  // a one-way initiator (§7.4)
      if (message.size() > max_message_size) return errc::invalid_encoding;
      std::vector<std::uint8_t> out(message.size());
      auto n = m_s.receive.decrypt_with_ad({}, message, out);
      if (!n) return n.error();
      out.resize(*n);
      return out;
    });
  }
  void rekey(bool send) override { (send ? m_s.send : m_s.receive).rekey(); }
  std::span<const std::uint8_t> hash() const noexcept override { return m_s.handshake_hash; }

 private:
  split_state<Dh, Cipher, Hash::digest_size> m_s;
  bool m_may_send, m_may_receive;
};

template <dh_function Dh, cipher_function Cipher, hash_function Hash>
class dynamic_handshake_impl final : public dynamic_handshake::base {
  using state = handshake_state<Dh, Cipher, Hash>;

 public:
  explicit dynamic_handshake_impl(state s) noexcept : m_s(std::move(s)) {}
  result<std::vector<std::uint8_t>> write(std::span<const std::uint8_t> payload) noexcept override {
    return sepal::detail::guarded<result<std::vector<std::uint8_t>>>(errc::internal_error, [&]() -> result<std::vector<std::uint8_t>> {
      if (!m_s.my_turn()) return m_s.is_complete() ? errc::already_finished : errc::out_of_order;
      std::vector<std::uint8_t> out(m_s.message_size(payload.size()));
      auto n = m_s.write_message(payload, out);
      if (!n) return n.error();
      out.resize(*n);
      return out;
    });
  }
  result<std::vector<std::uint8_t>> read(std::span<const std::uint8_t> message) noexcept override {
    return sepal::detail::guarded<result<std::vector<std::uint8_t>>>(errc::internal_error, [&]() -> result<std::vector<std::uint8_t>> {
      if (message.size() > max_message_size) return errc::invalid_encoding;
      std::vector<std::uint8_t> out(message.size());
      auto n = m_s.read_message(message, out);
      if (!n) return n.error();
      out.resize(*n);
      return out;
    });
  }
  bool complete() const noexcept override { return m_s.is_complete(); }
  bool turn() const noexcept override { return m_s.my_turn(); }
  bool one_way() const noexcept override { return m_s.pattern().one_way(); }
  std::span<const std::uint8_t> hash() const noexcept override { return m_s.handshake_hash(); }
  std::optional<std::vector<std::uint8_t>> remote_static() const override {
    if (!m_s.remote_static()) return std::nullopt;
    return m_s.remote_static()->to_raw();
  }
  result<dynamic_transport> split() noexcept override {
    return sepal::detail::guarded<result<dynamic_transport>>(errc::internal_error, [&]() -> result<dynamic_transport> {
      const bool one_way = m_s.pattern().one_way(), initiator = m_s.my_role() == role::initiator;
      auto s = std::move(m_s).split();
      if (!s) return s.error();
      return dynamic_transport(std::make_unique<dynamic_transport_impl<Dh, Cipher, Hash>>(
          std::move(*s), !one_way || initiator, !one_way || !initiator));
    });
  }

 private:
  state m_s;
};

template <dh_function Dh, cipher_function Cipher, hash_function Hash>
result<dynamic_handshake::base*> make_dynamic(const pattern_def& p, role me, dynamic_keys& k) {
  handshake_keys<Dh> keys;
  if (k.local_static) {
    auto s = private_key<Dh>::from_raw(k.local_static->reveal());
    if (!s) return errc::invalid_key;
    keys.local_static = std::make_shared<const private_key<Dh>>(std::move(*s));
  }
  if (k.remote_static) {
    if (k.remote_static->size() != traits<Dh>::public_size) return errc::invalid_key;
    auto rs = public_key<Dh>::from_raw(*k.remote_static);
    if (!rs) return errc::invalid_key;
    keys.remote_static = std::move(*rs);
  }
  if (k.fixed_ephemeral_for_testing_only) {
    auto e = private_key<Dh>::from_raw(k.fixed_ephemeral_for_testing_only->reveal());
    if (!e) return errc::invalid_key;
    keys.fixed_ephemeral_for_testing_only = std::move(*e);
  }
  for (auto& q : k.psks) {
    if (q.size() != 32) return errc::invalid_argument;
    keys.psks.emplace_back(std::move(q));
  }
  auto s = handshake_state<Dh, Cipher, Hash>::initialize(p, me, k.prologue, std::move(keys));
  if (!s) return s.error();
  return new dynamic_handshake_impl<Dh, Cipher, Hash>(std::move(*s));
}

template <dh_function Dh, cipher_function Cipher>
result<dynamic_handshake::base*> make_dynamic_hash(const protocol_name_parts& n, role me, dynamic_keys& k) {
  if (n.hash == "SHA256") return make_dynamic<Dh, Cipher, sha256>(n.pattern, me, k);
  if (n.hash == "SHA512") return make_dynamic<Dh, Cipher, sha512>(n.pattern, me, k);
  if (n.hash == "BLAKE2s") return make_dynamic<Dh, Cipher, blake2s>(n.pattern, me, k);
  return make_dynamic<Dh, Cipher, blake2b>(n.pattern, me, k);
}

template <dh_function Dh>
result<dynamic_handshake::base*> make_dynamic_cipher(const protocol_name_parts& n, role me, dynamic_keys& k) {
  if (n.cipher == "ChaChaPoly") return make_dynamic_hash<Dh, chacha20_poly1305>(n, me, k);
  return make_dynamic_hash<Dh, aes256_gcm>(n, me, k);
}

}  // namespace detail

inline result<dynamic_handshake> dynamic_handshake::create(std::string_view protocol_name, role me,
                                                           dynamic_keys keys) noexcept {
  return sepal::detail::guarded<result<dynamic_handshake>>(errc::internal_error, [&]() -> result<dynamic_handshake> {
    auto parts = parse_protocol_name(protocol_name);
    if (!parts) return parts.error();
    result<base*> made = errc::wrong_algorithm;
    if (parts->dh == "25519") made = detail::make_dynamic_cipher<x25519>(*parts, me, keys);
    else if (parts->dh == "448") made = detail::make_dynamic_cipher<x448>(*parts, me, keys);
    else made = detail::make_dynamic_cipher<p256>(*parts, me, keys);
    if (!made) return made.error();
    return dynamic_handshake(std::unique_ptr<base>(*made));
  });
}

}  // namespace sepal::noise

#endif
