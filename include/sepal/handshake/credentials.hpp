#ifndef SEPAL_HANDSHAKE_CREDENTIALS_HPP
#define SEPAL_HANDSHAKE_CREDENTIALS_HPP

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "../detail/wire.hpp"
#include "../keys.hpp"
#include "../sign.hpp"
#include "suite.hpp"

namespace sepal::handshake {

namespace detail {
inline constexpr std::string_view delegation_context = "sepal v1 delegated credential";
}

/// The longest validity a delegated credential may claim, counted from the
/// time it is checked: 7 days, the cap RFC 9345 §4.1.3 sets for TLS
/// delegated credentials. A stolen delegated key is useful for at most this long.
inline constexpr std::uint64_t max_delegation_lifetime = 7 * 24 * 3600;

/// A short-lived server key signed by the (offline) root key
/// (docs/protocol.md §4): the server signs handshakes with the delegated key,
/// and clients check the delegation against their pinned root and the clock.
template <handshake_suite Suite>
class delegated_credential {
  using sig = typename Suite::sig;

 public:
  /// The root signs `key` as valid until `not_after` (Unix seconds).
  [[nodiscard]] static delegated_credential issue(const private_key<sig>& root, const public_key<sig>& key,
                                                  std::uint64_t not_after) {
    delegated_credential dc(key, not_after, {});
    dc.m_signature = sign(root, dc.signed_bytes(), signature_format::p1363);
    return dc;
  }

  /// Checks the root's signature and the validity at `now` (Unix seconds).
  /// Never throws.
  ///
  /// Errors: `invalid_signature`; `limit_reached` once `now > not_after`, or
  /// when `not_after` lies more than `max_delegation_lifetime` after `now`;
  /// `invalid_argument` for `now == 0` (no clock: the expiry cannot be checked).
  [[nodiscard]] result<void> verify(const public_key<sig>& root, std::uint64_t now) const noexcept {
    if (now == 0) return errc::invalid_argument;
    try {
      if (!sepal::verify(root, signed_bytes(), m_signature, signature_format::p1363)) return errc::invalid_signature;
    } catch (...) {
      return errc::invalid_signature;
    }
    if (now > m_not_after || m_not_after - now > max_delegation_lifetime) return errc::limit_reached;
    return {};
  }

  /// The delegated public key.
  [[nodiscard]] const public_key<sig>& key() const noexcept { return m_key; }
  /// Expiry, Unix seconds.
  [[nodiscard]] std::uint64_t not_after() const noexcept { return m_not_after; }

  /// Appends the wire encoding.
  void encode(sepal::detail::wire_writer& w) const {
    w.opaque16(m_key.to_raw()).u64(m_not_after).opaque16(m_signature);
  }
  /// Reads the wire encoding. Errors: `invalid_encoding`, `invalid_key`.
  [[nodiscard]] static result<delegated_credential> decode(sepal::detail::wire_reader& r) noexcept {
    const auto raw = r.opaque16();
    const auto not_after = r.u64();
    const auto sig_bytes = r.opaque16();
    if (!r.ok()) return errc::invalid_encoding;
    auto key = public_key<sig>::from_raw(raw);
    if (!key) return key.error();
    try {
      return delegated_credential(*key, not_after, {sig_bytes.begin(), sig_bytes.end()});
    } catch (...) {
      return errc::internal_error;
    }
  }

 private:
  delegated_credential(public_key<sig> key, std::uint64_t not_after, std::vector<std::uint8_t> signature)
      : m_key(std::move(key)), m_not_after(not_after), m_signature(std::move(signature)) {}

  std::vector<std::uint8_t> signed_bytes() const {
    std::vector<std::uint8_t> out(detail::delegation_context.begin(), detail::delegation_context.end());
    sepal::detail::wire_writer w(out);
    w.u8(0).u16(Suite::id).opaque16(m_key.to_raw()).u64(m_not_after);
    return out;
  }

  public_key<sig> m_key;
  std::uint64_t m_not_after;
  std::vector<std::uint8_t> m_signature;
};

/// Checks a peer's X.509 certificate chain (DER, leaf first) at `now` (Unix
/// seconds) and gives the leaf's key, which must then sign the transcript.
/// handshake/certificates.hpp makes these from a `pki::trust_store`.
/// Errors: any; the handshake reports them as `invalid_signature`.
template <class Sig>
using chain_verifier =
    std::function<result<public_key<Sig>>(std::span<const std::span<const std::uint8_t>> chain, std::uint64_t now)>;

/// An X.509 chain as the handshake carries it: DER certificates, leaf first.
using der_chain = std::vector<std::vector<std::uint8_t>>;

/// The most certificates a handshake chain may hold.
inline constexpr std::size_t max_chain_certificates = 4;

/// A private signing key shared by the objects that sign with it
/// (identities, client configs): they keep it alive, so no handshake can
/// outlive its key.
template <class Sig>
using shared_private_key = std::shared_ptr<const private_key<Sig>>;

/// Shares `key` (moved in) for identities and configs.
template <class Sig>
[[nodiscard]] shared_private_key<Sig> share(private_key<Sig>&& key) {
  return std::make_shared<const private_key<Sig>>(std::move(key));
}

/// What the server proves its identity with: the root key itself, a
/// delegated key with its credential, or a key with its X.509 chain.
///
/// Security: the identity owns (shares) its private key: pass the key with
/// `std::move`, or a `shared_private_key` to use one key in several
/// identities. Taking a caller's key by reference is refused at compile
/// time, so a temporary key cannot leave a dangling signer behind.
///
/// Errors: the factories throw `sepal::error(invalid_argument)` for a null
/// key and the other conditions they list.
template <handshake_suite Suite>
class server_identity {
  using sig = typename Suite::sig;

 public:
  /// Sign with the root key directly (it must stay online).
  [[nodiscard]] static server_identity root(shared_private_key<sig> root_key) {
    return server_identity(std::move(root_key), std::nullopt);
  }
  /// Sign with the root key directly (moved in).
  [[nodiscard]] static server_identity root(private_key<sig>&& root_key) { return root(share(std::move(root_key))); }
  static server_identity root(const private_key<sig>&) = delete;  ///< would keep a pointer to the caller's key

  /// Sign with a delegated key; `credential` must delegate `key`.
  [[nodiscard]] static server_identity delegated(shared_private_key<sig> key, delegated_credential<Suite> credential) {
    if (!key || !(key->public_key() == credential.key())) throw error(errc::invalid_argument);
    return server_identity(std::move(key), std::move(credential));
  }
  /// Sign with a delegated key (moved in).
  [[nodiscard]] static server_identity delegated(private_key<sig>&& key, delegated_credential<Suite> credential) {
    return delegated(share(std::move(key)), std::move(credential));
  }
  static server_identity delegated(const private_key<sig>&, delegated_credential<Suite>) = delete;  ///< see `root`

  /// Sign with the key of an X.509 certificate: `chain` holds the DER
  /// certificates, leaf (whose key is `key`'s) first, without the root.
  ///
  /// Errors: throws `sepal::error(invalid_argument)` for an empty chain or
  /// one longer than `max_chain_certificates`. (handshake/certificates.hpp
  /// checks that the leaf holds `key`.)
  [[nodiscard]] static server_identity certified(shared_private_key<sig> key, der_chain chain) {
    if (chain.empty() || chain.size() > max_chain_certificates) throw error(errc::invalid_argument);
    server_identity id(std::move(key), std::nullopt);
    id.m_chain = std::move(chain);
    return id;
  }
  static server_identity certified(const private_key<sig>&, der_chain) = delete;  ///< see `root`

  /// The signing key. Errors: throws `sepal::error(errc::moved_from)` on a
  /// moved-from identity.
  [[nodiscard]] const private_key<sig>& key() const {
    if (!m_key) throw error(errc::moved_from);
    return *m_key;
  }
  /// False for a moved-from identity.
  [[nodiscard]] bool has_key() const noexcept { return m_key != nullptr; }
  /// The delegated credential, when there is one.
  [[nodiscard]] const std::optional<delegated_credential<Suite>>& credential() const noexcept { return m_credential; }
  /// The certificate chain, when there is one (empty otherwise).
  [[nodiscard]] const der_chain& chain() const noexcept { return m_chain; }

 private:
  server_identity(shared_private_key<sig> key, std::optional<delegated_credential<Suite>> dc)
      : m_key(std::move(key)), m_credential(std::move(dc)) {
    if (!m_key) throw error(errc::invalid_argument);
  }
  shared_private_key<sig> m_key;
  std::optional<delegated_credential<Suite>> m_credential;
  der_chain m_chain;
};

/// Decides whether a client's public key may connect (mutual
/// authentication). Certificates plug in here with a verifier of their own.
template <class V, class Sig>
concept client_verifier = requires(const V& v, const public_key<Sig>& key) {
  { v(key) } -> std::convertible_to<bool>;
};

/// An allowlist of client public keys by SHA-256 fingerprint.
template <signature_scheme Sig>
class fingerprint_allowlist {
 public:
  /// Allows `key`.
  fingerprint_allowlist& allow(const public_key<Sig>& key) {
    m_allowed.push_back(key.fingerprint());
    return *this;
  }
  /// True when `key` is allowed.
  [[nodiscard]] bool operator()(const public_key<Sig>& key) const {
    const auto fp = key.fingerprint();
    return std::any_of(m_allowed.begin(), m_allowed.end(), [&](const fingerprint& f) { return f == fp; });
  }

 private:
  std::vector<fingerprint> m_allowed;
};

}  // namespace sepal::handshake

#endif
