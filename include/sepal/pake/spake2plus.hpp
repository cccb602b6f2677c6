#ifndef SEPAL_PAKE_SPAKE2PLUS_HPP
#define SEPAL_PAKE_SPAKE2PLUS_HPP

#include <botan/ec_apoint.h>
#include <botan/ec_scalar.h>
#include <botan/exceptn.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "../detail/boundary.hpp"
#include "../detail/bytes.hpp"
#include "../error.hpp"
#include "../handshake/key_schedule.hpp"
#include "../handshake/transcript.hpp"
#include "../kdf.hpp"
#include "../rng.hpp"
#include "../secret.hpp"
#include "../session.hpp"
#include "../suite.hpp"
#include "detail/spake2plus_group.hpp"
#include "registration.hpp"
#include "suite.hpp"

/// SPAKE2+ (RFC 9383): the online exchange, sans I/O, on Botan's
/// `Botan::SPAKE2p` (group arithmetic, transcript TT, key schedule and
/// confirmations). sepal adds the typestate, the checks that keep malformed
/// input from spending an exchange, the answer to X = w0*M, and what it
/// derives from K_shared (`exchange_keys`).
///
///     prover                                   verifier
///     prover::start            --- shareP -->  verifier::start
///     prover::receive  <-- shareV || confirmV ---
///                              --- confirmP -->  verifier::finish
///
/// Both ends end with `exchange_keys`: K_shared, an exporter and a `session`.
namespace sepal::pake {

/// What the exchange binds into its transcript TT besides the shares
/// (RFC 9383 §3.3). Both sides must use the same values.
struct identities {
  std::string_view context;   ///< names the application and protocol version
  std::string_view prover;    ///< idProver, such as the user name
  std::string_view verifier;  ///< idVerifier, such as the server name
};

template <spake2plus_suite Suite = default_spake2plus_suite>
class prover;
template <spake2plus_suite Suite = default_spake2plus_suite>
class verifier;

/// Which side of the exchange an `exchange_keys` belongs to.
enum class role : std::uint8_t { prover, verifier };

/// The keys of a finished exchange: K_shared (RFC 9383 §3.4) and what sepal
/// derives from it as TLS 1.3 does from a master secret (RFC 8446 §7.1, with
/// an empty transcript: TT is already in K_shared): per-direction traffic
/// secrets ("c ap traffic" for the prover's packets, "s ap traffic" for the
/// verifier's) and an exporter (RFC 8446 §7.5).
///
/// One exchange gives one session: `std::move(keys).make_session()`
/// consumes K_shared, moves the traffic secrets into the session and wipes
/// them here, so the same key and packet numbers can never seal twice.
/// The exporter stays usable afterwards: its secret ("exp master") is
/// derived when the exchange finishes and is independent of the traffic
/// secrets (RFC 8446 §7.5).
///
/// Errors: `make_session` and `shared_key` throw `sepal::error(already_finished)`
/// once the session was made or the object was moved from; `export_key`
/// throws `sepal::error(moved_from)` on a moved-from object.
///
/// Security: move-only, wiped memory. A moved-from object holds no secret.
template <spake2plus_suite Suite>
class exchange_keys {
 public:
  exchange_keys(const exchange_keys&) = delete;
  exchange_keys& operator=(const exchange_keys&) = delete;
  /// Moves the keys; the source is left without any (as after `make_session`).
  exchange_keys(exchange_keys&&) noexcept = default;
  /// Moves the keys; the source is left without any, the old ones are wiped.
  exchange_keys& operator=(exchange_keys&&) noexcept = default;
  ~exchange_keys() = default;

  /// K_shared, until `make_session` consumes it.
  ///
  /// Errors: throws `sepal::error(already_finished)` after `make_session`
  /// or on a moved-from object.
  [[nodiscard]] const secret_bytes& shared_key() const {
    if (m_shared.empty()) throw error(errc::already_finished);
    return m_shared;
  }

  /// True until `make_session` consumed the traffic keys (or the object was
  /// moved from).
  [[nodiscard]] bool can_make_session() const noexcept { return !m_shared.empty(); }

  /// The one session of this exchange, for application packets: this side
  /// seals with its own direction's traffic secret and opens with the
  /// peer's. Consumes the traffic keys: call it as
  /// `std::move(keys).make_session()`; on an lvalue it does not compile.
  ///
  /// Errors: throws `sepal::error(already_finished)` when the session was
  /// already made or the object was moved from.
  ///
  /// Security: the traffic secrets move into the session; K_shared and
  /// the intermediate master secret are wiped here.
  template <session_suite S = default_cipher_suite, session_options O = session_options{}>
  [[nodiscard]] session<S, O> make_session() && {
    if (m_shared.empty()) throw error(errc::already_finished);
    using H = typename S::hash;
    const auto shared = std::move(m_shared);  // wiped when this scope ends, whatever happens
    return sepal::detail::or_throw(errc::internal_error, [&] {
      const auto master = hkdf<H>::extract({}, shared.reveal());
      const auto empty = handshake::transcript<H>::empty();
      auto prover = handshake::derive_secret<H>(master.reveal(), "c ap traffic", empty);
      auto verifier = handshake::derive_secret<H>(master.reveal(), "s ap traffic", empty);
      return m_role == role::prover ? session<S, O>(std::move(prover), std::move(verifier))
                                    : session<S, O>(std::move(verifier), std::move(prover));
    });
  }
  /// Deleted: a session would consume the keys; use `std::move(keys).make_session()`.
  template <session_suite S = default_cipher_suite, session_options O = session_options{}>
  session<S, O> make_session() & = delete;
  /// Deleted: a session would consume the keys; use `std::move(keys).make_session()`.
  template <session_suite S = default_cipher_suite, session_options O = session_options{}>
  session<S, O> make_session() const& = delete;

  /// TLS-Exporter(label, context, length) over this exchange (RFC 8446 §7.5).
  /// Usable before and after `make_session`.
  ///
  /// Errors: throws `sepal::error(moved_from)` on a moved-from object,
  /// `invalid_argument` for a length HKDF cannot give.
  [[nodiscard]] secret_bytes export_key(std::string_view label, std::span<const std::uint8_t> context,
                                        std::size_t length) const {
    if (m_exporter.empty()) throw error(errc::moved_from);
    using H = typename Suite::hash;
    return sepal::detail::or_throw(errc::invalid_argument,
                                   [&] { return handshake::exporter<H>(m_exporter.reveal(), label, context, length); });
  }

  /// This side's role.
  [[nodiscard]] pake::role role() const noexcept { return m_role; }

 private:
  template <spake2plus_suite>
  friend class prover;
  template <spake2plus_suite>
  friend class verifier;
  exchange_keys(pake::role r, secret_bytes shared) : m_role(r), m_shared(std::move(shared)) {
    using H = typename Suite::hash;
    const auto master = hkdf<H>::extract({}, m_shared.reveal());
    m_exporter = handshake::derive_secret<H>(master.reveal(), "exp master", handshake::transcript<H>::empty());
  }

  pake::role m_role;
  secret_bytes m_shared;    // K_shared; empty once consumed or moved from
  secret_bytes m_exporter;  // exporter_master_secret; empty only when moved from
};

namespace detail {

/// An identity or context string as the bytes Botan's contexts bind.
inline std::span<const std::uint8_t> id_bytes(std::string_view s) noexcept { return sepal::detail::bytes_of(s); }

/// Botan's prover secret for sepal's: w0 and w1 as they are (RFC 9383 §3.2
/// leaves the PBKDF to the application, and sepal's records were made with
/// its own, so Botan's `from_password` is not used).
template <spake2plus_suite Suite>
Botan::SPAKE2p::ProverSecret botan_secret(const prover_secrets<Suite>& s) {
  return Botan::SPAKE2p::ProverSecret::from_prehashed(scalar<Suite>(s.w0().reveal()).value(),
                                                      scalar<Suite>(s.w1().reveal()).value());
}

/// Botan's registration record for sepal's: w0 || L, Botan's serialization.
template <spake2plus_suite Suite>
Botan::SPAKE2p::RegistrationRecord botan_record(const verifier_record<Suite>& r) {
  Botan::secure_vector<std::uint8_t> bytes(r.w0().reveal().begin(), r.w0().reveal().end());
  bytes.insert(bytes.end(), r.verifier_point().begin(), r.verifier_point().end());
  return Botan::SPAKE2p::RegistrationRecord::deserialize(parameters<Suite>(), bytes);
}

/// The verifier's answer when Botan refuses a share that is a valid point:
/// then Z is the identity, X = w0*M, and RFC 9383 §3.3 (and Botan) abort.
/// Only a peer holding a guess of w0 can send that, and an early abort would
/// tell it whether the guess was right without spending a confirmation (an
/// online guess that no failed-login count sees). So sepal answers as for a
/// wrong password: shareV uniform on the group (r*L, the variable-base
/// multiplication V costs), confirmV from the same hash, HKDF and HMAC
/// calls under a key nobody knows, and a `finish` that fails.
template <spake2plus_suite Suite>
std::array<std::uint8_t, Suite::point_size + Suite::confirm_size> decoy_response(
    const verifier_record<Suite>& record, std::span<const std::uint8_t> share_p, Botan::RandomNumberGenerator& rng) {
  using H = typename Suite::hash;
  constexpr std::size_t nh = H::digest_size;
  std::array<std::uint8_t, Suite::point_size + Suite::confirm_size> out{};
  const auto share_v = std::span(out).first(Suite::point_size);
  const auto l = Botan::EC_AffinePoint::deserialize_uncompressed(group<Suite>(), record.verifier_point()).value();
  const auto y = l.mul(Botan::EC_Scalar::random(group<Suite>(), rng), rng);
  y.serialize_uncompressed_to(share_v);
  // Botan's Z came out as the identity, which skips the field inversion
  // that makes a point affine: an addition makes up for it.
  (void)y.add(l);
  const auto noise = random_bytes<nh>(rng);
  const auto k_main = handshake::transcript<H>().update(share_p).update(share_v).update(noise).current();
  const auto keys = hkdf<H>::derive(k_main, {}, sepal::detail::bytes_of("ConfirmationKeys"), 2 * nh);
  (void)hkdf<H>::derive(k_main, {}, sepal::detail::bytes_of("SharedKey"), Suite::shared_key_size);
  (void)hmac<H>(keys.reveal().first(nh)).mac(share_v);
  const auto confirm_v = hmac<H>(keys.reveal().subspan(nh)).mac(share_p);
  std::copy(confirm_v.begin(), confirm_v.end(), out.begin() + Suite::point_size);
  return out;
}

}  // namespace detail

/// What a prover has once confirmV verified: confirmP to send, and the keys.
template <spake2plus_suite Suite>
struct prover_confirmation {
  typename hmac<typename Suite::hash>::tag message;  ///< confirmP
  exchange_keys<Suite> keys;                         ///< K_shared and what derives from it
};

/// The prover (client) side of RFC 9383 §3.3, on Botan's
/// `SPAKE2p::ProverContext`. `start` makes shareP; `receive` checks the
/// verifier's shareV and confirmV and gives confirmP and the keys.
///
/// Errors (never throws on peer input): `invalid_encoding` for a message of
/// the wrong size or a share that is not a curve point (this object stays
/// usable); `authentication_failed` when confirmV does not verify (wrong
/// password, wrong identities, a tampered or replayed message, an unknown
/// user, a shareV of w0*N); `already_finished` once a well-formed response
/// was processed; `moved_from` on a moved-from object.
template <spake2plus_suite Suite>
class prover {
 public:
  /// shareV || confirmV, the verifier's message.
  static constexpr std::size_t response_size = Suite::point_size + Suite::confirm_size;

  /// Starts an exchange: X = x*P + w0*M, with x Botan's first draw from
  /// `rng` (`Suite::scalar_size` bytes; later draws blind the arithmetic).
  ///
  /// Errors: throws `sepal::error(moved_from)` for moved-from secrets,
  /// `rng_failure` on an RNG failure, `internal_error` otherwise.
  [[nodiscard]] static prover start(const prover_secrets<Suite>& secrets, const identities& ids,
                                    Botan::RandomNumberGenerator& rng = system_rng()) {
    if (secrets.w0().empty() || secrets.w1().empty()) throw error(errc::moved_from);
    return sepal::detail::or_throw(errc::internal_error, [&] {
      prover p;
      p.m_context = std::make_unique<Botan::SPAKE2p::ProverContext>(
          detail::parameters<Suite>(), detail::botan_secret(secrets), detail::id_bytes(ids.prover),
          detail::id_bytes(ids.verifier), detail::id_bytes(ids.context));
      const auto share = p.m_context->generate_message(rng);
      if (share.size() != Suite::point_size) throw error(errc::internal_error);
      std::copy(share.begin(), share.end(), p.m_share.begin());
      return p;
    });
  }

  /// shareP, to send to the verifier.
  [[nodiscard]] std::span<const std::uint8_t> share() const noexcept { return m_share; }

  /// Processes shareV || confirmV. On success send `message` of the result
  /// and use its keys.
  ///
  /// Security: a response that parses spends this object whether it
  /// verifies or not (an attacker gets one password guess per exchange);
  /// a malformed one (`invalid_encoding`: wrong length, shareV not a point)
  /// does not, since its shape is public, so a malformed spoofed datagram
  /// cannot end the exchange. The shape is checked here, before Botan sees
  /// anything: its context would be spent by the exception.
  [[nodiscard]] result<prover_confirmation<Suite>> receive(std::span<const std::uint8_t> response) noexcept {
    using out = result<prover_confirmation<Suite>>;
    if (m_spent) return errc::already_finished;
    if (!m_context) return errc::moved_from;
    if (response.size() != response_size || !detail::is_share<Suite>(response.first(Suite::point_size)))
      return errc::invalid_encoding;
    m_spent = true;  // from here on a failure is a wrong guess: one per exchange
    const auto context = std::move(m_context);  // x and w0, w1 go when this returns
    // Botan throws Invalid_Authentication_Tag for a wrong confirmV and
    // Decoding_Error for Z or V the identity (Y = w0*N): the same failure here.
    return sepal::detail::guarded<out>(errc::authentication_failed, [&]() -> out {
      const auto confirm_p = context->process_message(response, system_rng());
      if (confirm_p.size() != Suite::confirm_size) return errc::internal_error;
      out r = prover_confirmation<Suite>{{}, exchange_keys<Suite>(role::prover, secret_bytes(context->shared_secret()))};
      std::copy(confirm_p.begin(), confirm_p.end(), r->message.begin());
      return r;
    });
  }

 private:
  prover() = default;

  std::unique_ptr<Botan::SPAKE2p::ProverContext> m_context;  // null once spent or moved from
  std::array<std::uint8_t, Suite::point_size> m_share{};
  bool m_spent = false;
};

/// The verifier (server) side of RFC 9383 §3.3, on Botan's
/// `SPAKE2p::VerifierContext`. `start` takes shareP and gives shareV ||
/// confirmV; `finish` checks confirmP and gives the keys.
///
/// Errors (never throws on peer input): `invalid_encoding` for a shareP of
/// the wrong size or not a point, and for a confirmP of the wrong size
/// (which does not spend the exchange); `authentication_failed` when
/// confirmP does not verify; `already_finished` after that; `moved_from`
/// for a moved-from record or object.
/// Security: every other failure (wrong password, unknown user with a fake
/// record, replayed shareP, X = w0*M) surfaces only at `finish`, after the
/// same work.
template <spake2plus_suite Suite>
class verifier {
 public:
  /// The prover's final message size.
  static constexpr std::size_t confirm_size = Suite::confirm_size;

  /// Answers `share_p`: Y = y*P + w0*N, Z = h*y*(X - w0*M), V = h*y*L and
  /// the key schedule, with y Botan's first draw from `rng`
  /// (`Suite::scalar_size` bytes; later draws blind the arithmetic).
  [[nodiscard]] static result<verifier> start(const verifier_record<Suite>& record, const identities& ids,
                                              std::span<const std::uint8_t> share_p,
                                              Botan::RandomNumberGenerator& rng = system_rng()) noexcept {
    if (!detail::is_share<Suite>(share_p)) return errc::invalid_encoding;
    if (record.w0().empty()) return errc::moved_from;
    return sepal::detail::guarded<result<verifier>>(errc::invalid_encoding, [&]() -> result<verifier> {
      verifier out;
      auto context = std::make_unique<Botan::SPAKE2p::VerifierContext>(
          detail::parameters<Suite>(), detail::botan_record(record), detail::id_bytes(ids.prover),
          detail::id_bytes(ids.verifier), detail::id_bytes(ids.context));
      std::vector<std::uint8_t> response;
      try {
        response = context->process_message(share_p, rng);
        out.m_context = std::move(context);
      } catch (const Botan::Decoding_Error&) {
        // shareP is a point (checked above): Botan refused it because Z is
        // the identity. Answer like a wrong password (see decoy_response).
        const auto decoy = detail::decoy_response<Suite>(record, share_p, rng);
        response.assign(decoy.begin(), decoy.end());
        out.m_decoy = true;
      }
      if (response.size() != out.m_response.size()) return errc::internal_error;
      std::copy(response.begin(), response.end(), out.m_response.begin());
      return out;
    });
  }

  /// Moves the exchange; the source is left moved from.
  verifier(verifier&& other) noexcept
      : m_response(other.m_response),
        m_context(std::move(other.m_context)),
        m_decoy(std::exchange(other.m_decoy, false)),
        m_spent(other.m_spent) {}
  /// Moves the exchange; the source is left moved from.
  verifier& operator=(verifier&& other) noexcept {
    m_response = other.m_response;
    m_context = std::move(other.m_context);
    m_decoy = std::exchange(other.m_decoy, false);
    m_spent = other.m_spent;
    return *this;
  }
  verifier(const verifier&) = delete;
  verifier& operator=(const verifier&) = delete;
  ~verifier() = default;

  /// shareV || confirmV, to send to the prover.
  [[nodiscard]] std::span<const std::uint8_t> response() const noexcept { return m_response; }

  /// True once a well-formed confirmP was checked (right or wrong).
  [[nodiscard]] bool finished() const noexcept { return m_spent; }

  /// Checks confirmP (Botan compares in constant time).
  ///
  /// Security: a confirmP of the wrong size is refused as `invalid_encoding`
  /// without spending anything (its size is public, and it never reaches
  /// Botan, whose context an exception would spend), so a malformed spoofed
  /// datagram cannot end the exchange; one of the right size spends it
  /// whether it verifies or not: one password guess per exchange
  /// (RFC 9383 §3.4).
  [[nodiscard]] result<exchange_keys<Suite>> finish(std::span<const std::uint8_t> confirm_p) noexcept {
    if (m_spent) return errc::already_finished;
    if (!m_context && !m_decoy) return errc::moved_from;
    if (confirm_p.size() != confirm_size) return errc::invalid_encoding;
    m_spent = true;
    const auto context = std::move(m_context);  // K_shared goes when this returns
    const auto checked = sepal::detail::guarded<result<void>>(errc::authentication_failed, [&]() -> result<void> {
      // A decoy fails the way a wrong confirmP does in Botan: by an exception.
      if (!context) throw Botan::Invalid_Authentication_Tag("SPAKE2+ key confirmation failed");
      context->verify_confirmation(confirm_p);
      return {};
    });
    if (!checked) return checked.error();
    return sepal::detail::guarded<result<exchange_keys<Suite>>>(errc::internal_error, [&]() -> result<exchange_keys<Suite>> {
      return exchange_keys<Suite>(role::verifier, secret_bytes(context->shared_secret()));
    });
  }

 private:
  verifier() = default;

  std::array<std::uint8_t, Suite::point_size + Suite::confirm_size> m_response{};
  std::unique_ptr<Botan::SPAKE2p::VerifierContext> m_context;  // null once spent, moved from, or a decoy
  bool m_decoy = false;  // answering X = w0*M: `finish` fails
  bool m_spent = false;
};

}  // namespace sepal::pake

#endif
