#ifndef SEPAL_TLS_CHANNEL_HPP
#define SEPAL_TLS_CHANNEL_HPP

#include <botan/credentials_manager.h>
#include <botan/tls_alert.h>
#include <botan/tls_callbacks.h>
#include <botan/tls_client.h>
#include <botan/tls_exceptn.h>
#include <botan/tls_policy.h>
#include <botan/tls_server.h>
#include <botan/tls_session.h>
#include <botan/tls_session_manager_noop.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../concepts.hpp"
#include "../detail/botan_algorithms.hpp"
#include "../error.hpp"
#include "../keys.hpp"
#include "../rng.hpp"
#include "../secret.hpp"
#include "../pki/certificate.hpp"
#include "../pki/validation.hpp"

/// Mutual TLS 1.3 (RFC 8446) over Botan::TLS, sans I/O: the caller moves
/// bytes between the channel and its transport.
namespace sepal::tls {

static_assert(sepal::detail::botan_tls13, "sepal::tls needs Botan's tls13 module");

/// This side's certificate chain (leaf first, intermediates after, no root)
/// and the leaf's private key, which the identity owns (or shares).
///
/// Security: the key is moved in or shared through a `shared_ptr`; lending
/// it by reference does not compile, so no channel outlives its key.
class identity {
 public:
  /// An identity sharing ownership of `key`.
  ///
  /// Errors: throws `sepal::error(invalid_argument)` when `key` is null, the
  /// chain is empty or its leaf does not hold `key`.
  template <signature_scheme Curve>
  [[nodiscard]] static identity from(std::shared_ptr<const private_key<Curve>> key, std::vector<pki::certificate> chain) {
    if (!key || chain.empty()) throw error(errc::invalid_argument);
    const auto leaf_key = chain.front().template public_key<Curve>();
    if (!leaf_key || !(*leaf_key == key->public_key())) throw error(errc::invalid_argument);
    identity id;
    // Botan wants a shared_ptr<Private_Key>: alias the owning pointer (Botan
    // only signs with it, never changes it).
    const Botan::Private_Key& botan_key = key->botan();
    id.m_key = std::shared_ptr<Botan::Private_Key>(std::move(key), const_cast<Botan::Private_Key*>(&botan_key));
    id.m_chain = std::move(chain);
    return id;
  }
  /// An identity that owns `key`. Errors: as above.
  template <signature_scheme Curve>
  [[nodiscard]] static identity from(private_key<Curve>&& key, std::vector<pki::certificate> chain) {
    return from(std::make_shared<const private_key<Curve>>(std::move(key)), std::move(chain));
  }
  /// Lending the key is refused: the identity would outlive it.
  template <signature_scheme Curve>
  static identity from(const private_key<Curve>& key, std::vector<pki::certificate> chain) = delete;

  /// The chain, leaf first.
  [[nodiscard]] const std::vector<pki::certificate>& chain() const noexcept { return m_chain; }
  /// The key, for Botan.
  [[nodiscard]] const std::shared_ptr<Botan::Private_Key>& botan_key() const noexcept { return m_key; }

 private:
  identity() = default;
  std::shared_ptr<Botan::Private_Key> m_key;
  std::vector<pki::certificate> m_chain;
};

/// Settings for either side. Both sides present `me` and require and verify
/// the peer's chain against `anchors` (mutual TLS); the client also checks
/// `server_name` against the server's certificate. A channel keeps its own
/// copy: the config need not outlive it.
struct config {
  identity me;
  std::shared_ptr<const pki::trust_store> anchors;
  /// Client: the host the server's certificate must name (DNS name, sent as
  /// SNI, or an IPv4 address, not sent), or
  /// `pki::any_host_name_i_trust_every_leaf`. Required: a client without it
  /// refuses to start. Server: unused.
  pki::expected_host server_name{};
  bool allow_tls12 = false;  ///< TLS 1.2 is off unless asked for
};

namespace detail {

/// sepal's TLS policy: Botan's defaults (TLS 1.3, AEAD suites,
/// ECDSA/Ed25519/RSA-PSS), TLS 1.2 off by default, client certificates
/// required, no session tickets (every connection authenticates fully), and
/// post-quantum hybrid key exchange first: X25519MLKEM768
/// (draft-ietf-tls-ecdhe-mlkem) is the most preferred group and the only key
/// share a client sends. A classical-only server (OpenSSL 3.0) answers with a
/// HelloRetryRequest for X25519 (RFC 8446 §4.1.4): one more round trip, no
/// failure. A server takes a hybrid share whenever the client offers one.
class policy final : public Botan::TLS::Policy {
 public:
  explicit policy(bool tls12) : m_tls12(tls12) {}
  std::vector<Botan::TLS::Group_Params> key_exchange_groups() const override {
    using G = Botan::TLS::Group_Params_Code;
    return {
#if defined(BOTAN_HAS_ML_KEM) && defined(BOTAN_HAS_TLS_13_PQC) && defined(BOTAN_HAS_X25519)
        G::HYBRID_X25519_ML_KEM_768,
#endif
#if defined(BOTAN_HAS_X25519)
        G::X25519,
#endif
        G::SECP256R1,
#if defined(BOTAN_HAS_ML_KEM) && defined(BOTAN_HAS_TLS_13_PQC)
        G::HYBRID_SECP256R1_ML_KEM_768, G::HYBRID_SECP384R1_ML_KEM_1024,
#endif
#if defined(BOTAN_HAS_X448)
        G::X448,
#endif
        G::SECP384R1, G::SECP521R1,
    };
  }
  std::vector<Botan::TLS::Group_Params> key_exchange_groups_to_offer() const override {
    return {key_exchange_groups().front()};  // the hybrid share only (about 1.2 kB)
  }
  bool allow_tls12() const override { return m_tls12; }
  bool allow_tls13() const override { return true; }
  bool require_client_certificate_authentication() const override { return true; }
  bool request_client_certificate_authentication() const override { return true; }
  size_t new_session_tickets_upon_handshake_success() const override { return 0; }

 private:
  bool m_tls12;
};

class credentials final : public Botan::Credentials_Manager {
 public:
  explicit credentials(std::shared_ptr<const config> c) : m_config(std::move(c)) {}
  std::vector<Botan::Certificate_Store*> trusted_certificate_authorities(const std::string&,
                                                                         const std::string&) override {
    // Botan lists these CAs in the CertificateRequest; verification itself is sepal's (callbacks).
    return {const_cast<Botan::Certificate_Store*>(&m_config->anchors->botan())};
  }
  std::vector<Botan::X509_Certificate> find_cert_chain(const std::vector<std::string>& key_types,
                                                       const std::vector<Botan::AlgorithmIdentifier>&,
                                                       const std::vector<Botan::X509_DN>&, const std::string&,
                                                       const std::string&) override {
    const auto& leaf = m_config->me.chain().front().botan();
    const auto algo = leaf.subject_public_key()->algo_name();
    if (!key_types.empty() && std::find(key_types.begin(), key_types.end(), algo) == key_types.end()) return {};
    std::vector<Botan::X509_Certificate> out;
    for (const auto& c : m_config->me.chain()) out.push_back(c.botan());
    return out;
  }
  std::shared_ptr<Botan::Private_Key> private_key_for(const Botan::X509_Certificate& cert, const std::string&,
                                                      const std::string&) override {
    if (cert == m_config->me.chain().front().botan()) return m_config->me.botan_key();
    return nullptr;
  }

 private:
  std::shared_ptr<const config> m_config;
};

/// Botan's callbacks, collecting output and application data, and verifying
/// the peer's chain with sepal's PKI (recording why it failed).
class callbacks final : public Botan::TLS::Callbacks {
 public:
  callbacks(std::shared_ptr<const config> c, pki::purpose peer_purpose) : m_config(std::move(c)), m_purpose(peer_purpose) {}

  void tls_emit_data(std::span<const std::uint8_t> data) override { output.insert(output.end(), data.begin(), data.end()); }
  void tls_record_received(std::uint64_t, std::span<const std::uint8_t> data) override {
    received.insert(received.end(), data.begin(), data.end());
  }
  void tls_alert(Botan::TLS::Alert alert) override {
    if (alert.type() == Botan::TLS::Alert::CloseNotify) peer_closed = true;
    else if (alert.is_fatal()) fatal_alert = true;
  }
  void tls_session_activated() override { established = true; }
  void tls_session_established(const Botan::TLS::Session_Summary& session) override {
    group = session.kex_parameters().value_or("");
    const auto params = Botan::TLS::Group_Params::from_string(group);
    post_quantum = params.has_value() && params->is_post_quantum();
  }
  void tls_examine_extensions(const Botan::TLS::Extensions&, Botan::TLS::Connection_Side,
                              Botan::TLS::Handshake_Type message) override {
    if (message == Botan::TLS::Handshake_Type::HelloRetryRequest) hello_retried = true;
  }
  bool tls_peer_closed_connection() override { return true; }  // answer close_notify

  void tls_verify_cert_chain(const std::vector<Botan::X509_Certificate>& chain,
                             const std::vector<std::optional<Botan::OCSP::Response>>&,
                             const std::vector<Botan::Certificate_Store*>&, Botan::Usage_Type, std::string_view,
                             const Botan::TLS::Policy&) override {
    std::vector<pki::certificate> certs;
    for (const auto& c : chain) certs.emplace_back(c);
    // The client checks the configured name (never empty: refused at
    // construction), not what Botan passes; the server checks no host.
    const pki::expected_host host =
        m_purpose == pki::purpose::server ? m_config->server_name : pki::expected_host{};
    auto verified = pki::verify_chain(certs, *m_config->anchors, {0, host, m_purpose, false});
    if (!verified) {
      verify_error = verified.error();
      throw Botan::TLS::TLS_Exception(Botan::TLS::Alert::BadCertificate, std::string(pki::describe(verified.error())));
    }
    peer_path = verified.path();
  }

  std::vector<std::uint8_t> output, received;
  std::vector<pki::certificate> peer_path;
  std::optional<pki::chain_error> verify_error;
  std::string group;
  bool established = false, peer_closed = false, fatal_alert = false, post_quantum = false, hello_retried = false;

 private:
  std::shared_ptr<const config> m_config;
  pki::purpose m_purpose;
};

}  // namespace detail

/// One TLS 1.3 connection with mutual certificate authentication, sans I/O:
/// `receive` feeds bytes from the peer, `take_output` gives bytes to send,
/// `send` encrypts application data, `take_received` gives decrypted data.
///
/// Errors: nothing throws on peer input. A failure (a bad record, a fatal
/// alert, a peer chain that does not verify, a missing client certificate)
/// closes the channel: `receive` returns `unknown_identity` when the peer's
/// chain was rejected (see `verify_error` for why), `closed` otherwise.
/// Send the final output (the alert) before dropping the transport.
/// Constructing a client without `server_name` throws
/// `sepal::error(invalid_argument)`.
///
/// Security: verifies the peer's chain with `pki::verify_chain` (purpose
/// server or client with the EKU required, and the host name on the client);
/// TLS 1.2 is refused unless enabled; no resumption. The channel owns a copy
/// of its config and shares ownership of the key, the anchors and the RNG:
/// nothing the caller passes must outlive the call. Which client identity
/// (the leaf's names) is authorized is the caller's decision, from
/// `peer_path()`.
class channel {
 public:
  /// A client: its ClientHello is ready in `take_output()`. `rng` defaults
  /// to the system RNG.
  ///
  /// Errors: throws `sepal::error(invalid_argument)` when `c.server_name` is
  /// empty (give a host, or `pki::any_host_name_i_trust_every_leaf`) or
  /// `c.anchors` is null.
  [[nodiscard]] static channel client(config c, std::shared_ptr<Botan::RandomNumberGenerator> rng = {}) {
    if (c.server_name.empty()) throw error(errc::invalid_argument);
    return channel(std::make_shared<const config>(std::move(c)), true, std::move(rng));
  }
  /// A server waiting for a ClientHello. `rng` defaults to the system RNG.
  ///
  /// Errors: throws `sepal::error(invalid_argument)` when `c.anchors` is null.
  [[nodiscard]] static channel server(config c, std::shared_ptr<Botan::RandomNumberGenerator> rng = {}) {
    return channel(std::make_shared<const config>(std::move(c)), false, std::move(rng));
  }

  /// Processes `bytes` from the peer. Never throws.
  [[nodiscard]] result<void> receive(std::span<const std::uint8_t> bytes) noexcept {
    if (m_failed) return errc::closed;
    try {
      m_tls->received_data(bytes);
    } catch (const std::exception& e) {
      m_failed = true;
      m_details = e.what();
    } catch (...) {
      m_failed = true;
    }
    if (m_cb->fatal_alert) m_failed = true;
    if (m_failed) return m_cb->verify_error ? errc::unknown_identity : errc::closed;
    return {};
  }

  /// Encrypts `data` for the peer (then `take_output`).
  ///
  /// Errors: `closed` before the handshake completes or after it failed.
  [[nodiscard]] result<void> send(std::span<const std::uint8_t> data) noexcept {
    if (m_failed || !m_tls->is_active()) return errc::closed;
    try {
      m_tls->send(data);
      return {};
    } catch (...) {
      m_failed = true;
      return errc::closed;
    }
  }

  /// Sends close_notify (then `take_output`).
  void close() noexcept {
    try {
      if (!m_tls->is_closed()) m_tls->close();
    } catch (...) {
    }
  }

  /// Bytes for the peer; the channel forgets them.
  [[nodiscard]] std::vector<std::uint8_t> take_output() { return std::exchange(m_cb->output, {}); }
  /// Application data from the peer; the channel forgets it.
  [[nodiscard]] std::vector<std::uint8_t> take_received() { return std::exchange(m_cb->received, {}); }

  /// True once the handshake completed and the peer's chain verified.
  [[nodiscard]] bool established() const noexcept { return m_cb->established && !m_failed; }
  /// True after a failure or once either side closed.
  [[nodiscard]] bool closed() const noexcept { return m_failed || m_cb->peer_closed || m_tls->is_closed(); }
  /// The peer's validated certification path, as `pki::verify_chain` built
  /// it: leaf first, through the intermediates it used, to the trust anchor
  /// (not the chain as the peer sent it: extra or reordered certificates are
  /// not in it). Empty until the peer's chain verified.
  [[nodiscard]] const std::vector<pki::certificate>& peer_path() const noexcept { return m_cb->peer_path; }
  /// The key exchange group the handshake used, by its TLS name as Botan
  /// spells it ("x25519/ML-KEM-768", "x25519", "secp256r1", ...), for logs;
  /// empty until established.
  [[nodiscard]] const std::string& key_exchange_group() const noexcept { return m_cb->group; }
  /// True when that group is a post-quantum hybrid (or pure ML-KEM) group.
  [[nodiscard]] bool post_quantum() const noexcept { return m_cb->post_quantum; }
  /// Client: true when the server answered with a HelloRetryRequest (it did
  /// not take the hybrid key share and asked for another group).
  [[nodiscard]] bool hello_retried() const noexcept { return m_cb->hello_retried; }
  /// Botan's description of a failure, for logs.
  [[nodiscard]] const std::string& failure_details() const noexcept { return m_details; }
  /// Why the peer's chain was rejected, if it was.
  [[nodiscard]] std::optional<pki::chain_error> verify_error() const noexcept { return m_cb->verify_error; }

  /// TLS-Exporter (RFC 8446 §7.5; RFC 5705).
  ///
  /// Errors: throws `sepal::error(closed)` before the handshake completes.
  [[nodiscard]] secret_bytes export_key(std::string_view label, std::span<const std::uint8_t> context,
                                        std::size_t length) const {
    if (!established()) throw error(errc::closed);
    return sepal::detail::or_throw(errc::internal_error, [&] {
      const std::string ctx(context.begin(), context.end());
      const auto k = m_tls->key_material_export(label, ctx, length);
      return secret_bytes::copy_of(k.bits_of());
    });
  }

 private:
  channel(std::shared_ptr<const config> c, bool is_client, std::shared_ptr<Botan::RandomNumberGenerator> rng)
      : m_cb(std::make_shared<detail::callbacks>(c, is_client ? pki::purpose::server : pki::purpose::client)) {
    if (!c->anchors) throw error(errc::invalid_argument);
    // The system RNG is a process-wide static: a non-owning pointer is safe.
    if (!rng) rng = std::shared_ptr<Botan::RandomNumberGenerator>(std::shared_ptr<void>(), &system_rng());
    sepal::detail::or_throw(errc::internal_error, [&] {
      auto creds = std::make_shared<detail::credentials>(c);
      auto sessions = std::make_shared<Botan::TLS::Session_Manager_Noop>();
      auto pol = std::make_shared<detail::policy>(c->allow_tls12);
      if (is_client) {
        // SNI carries the DNS name only (Botan leaves out an IP, RFC 6066 §3).
        m_tls = std::make_unique<Botan::TLS::Client>(m_cb, sessions, creds, pol, rng,
                                                     Botan::TLS::Server_Information(c->server_name.name(), 443),
                                                     Botan::TLS::Protocol_Version::latest_tls_version());
      } else {
        m_tls = std::make_unique<Botan::TLS::Server>(m_cb, sessions, creds, pol, rng);
      }
    });
  }

  std::shared_ptr<detail::callbacks> m_cb;
  std::unique_ptr<Botan::TLS::Channel> m_tls;
  bool m_failed = false;
  std::string m_details;
};

}  // namespace sepal::tls

#endif
