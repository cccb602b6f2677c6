#ifndef SEPAL_PAKE_SPAKE2PLUS_HPP
#define SEPAL_PAKE_SPAKE2PLUS_HPP

#include <botan/ec_apoint.h>
#include <botan/ec_scalar.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
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

/// SPAKE2+ (RFC 9383): the online exchange, sans I/O.
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
  template <session_suite S = default_suite, session_options O = session_options{}>
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
  template <session_suite S = default_suite, session_options O = session_options{}>
  session<S, O> make_session() & = delete;
  /// Deleted: a session would consume the keys; use `std::move(keys).make_session()`.
  template <session_suite S = default_suite, session_options O = session_options{}>
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

/// RFC 9383 §3.4: K_main = Hash(TT); K_confirmP || K_confirmV =
/// KDF(nil, K_main, "ConfirmationKeys"); K_shared = KDF(nil, K_main,
/// "SharedKey"); confirmV = MAC(K_confirmV, shareP); confirmP =
/// MAC(K_confirmP, shareV).
template <spake2plus_suite Suite>
struct key_schedule {
  using hash = typename Suite::hash;
  using tag = typename hmac<hash>::tag;

  secret_bytes shared;
  tag confirm_p{};  // what the prover sends
  tag confirm_v{};  // what the verifier sends

  key_schedule(const transcript& tt, std::span<const std::uint8_t> share_p, std::span<const std::uint8_t> share_v) {
    const auto k_main = handshake::transcript<hash>().update(tt.bytes()).current();
    const auto confirm_keys = hkdf<hash>::derive(k_main, {}, sepal::detail::bytes_of("ConfirmationKeys"), 2 * hash::digest_size);
    shared = hkdf<hash>::derive(k_main, {}, sepal::detail::bytes_of("SharedKey"), Suite::shared_key_size);
    confirm_p = hmac<hash>(confirm_keys.reveal().first(hash::digest_size)).mac(share_v);
    confirm_v = hmac<hash>(confirm_keys.reveal().subspan(hash::digest_size)).mac(share_p);
  }
};

/// TT up to and including N (RFC 9383 §3.3): Context, idProver, idVerifier, M, N.
template <spake2plus_suite Suite>
transcript transcript_prefix(const identities& ids) {
  const auto& grp = group<Suite>::get();
  transcript tt;
  tt.add(ids.context).add(ids.prover).add(ids.verifier).add(grp.m_bytes).add(grp.n_bytes);
  return tt;
}

}  // namespace detail

/// What a prover has once confirmV verified: confirmP to send, and the keys.
template <spake2plus_suite Suite>
struct prover_confirmation {
  typename hmac<typename Suite::hash>::tag message;  ///< confirmP
  exchange_keys<Suite> keys;                         ///< K_shared and what derives from it
};

/// The prover (client) side of RFC 9383 §3.3. `start` makes shareP;
/// `receive` checks the verifier's shareV and confirmV and gives confirmP
/// and the keys.
///
/// Errors (never throws on peer input): `invalid_encoding` for a message of
/// the wrong size or a share that is not a curve point, or is the identity
/// (this object stays usable); `authentication_failed` when confirmV does
/// not verify (wrong password, wrong identities, a tampered or replayed
/// message, an unknown user); `already_finished` once a well-formed
/// response was processed.
template <spake2plus_suite Suite>
class prover {
 public:
  /// shareV || confirmV, the verifier's message.
  static constexpr std::size_t response_size = Suite::point_size + Suite::confirm_size;

  /// Starts an exchange with fresh randomness: x from `rng`, X = x*P + w0*M.
  ///
  /// Errors: throws `sepal::error` on an RNG failure.
  [[nodiscard]] static prover start(const prover_secrets<Suite>& secrets, const identities& ids,
                                    Botan::RandomNumberGenerator& rng = system_rng()) {
    return sepal::detail::or_throw(errc::internal_error, [&] {
      return prover(secrets, ids, Botan::EC_Scalar::random(detail::group<Suite>::get().g, rng));
    });
  }

  /// Starts with a chosen x: only for reproducing RFC 9383 Appendix C.
  ///
  /// Security: reusing x across exchanges breaks SPAKE2+. Never use this
  /// outside tests.
  [[nodiscard]] static prover unsafe_start_with_scalar(const prover_secrets<Suite>& secrets, const identities& ids,
                                                       std::span<const std::uint8_t> x) {
    return sepal::detail::or_throw(errc::invalid_argument, [&] {
      return prover(secrets, ids, detail::group<Suite>::get().scalar(x).value());
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
  /// cannot end the exchange.
  [[nodiscard]] result<prover_confirmation<Suite>> receive(std::span<const std::uint8_t> response) noexcept {
    using out = result<prover_confirmation<Suite>>;
    if (m_spent) return errc::already_finished;
    if (m_x.empty()) return errc::moved_from;
    return sepal::detail::guarded<out>(errc::invalid_encoding, [&]() -> out {
      if (response.size() != response_size) return errc::invalid_encoding;
      const auto& grp = detail::group<Suite>::get();
      const auto share_v = response.first(Suite::point_size);
      const auto confirm_v = response.subspan(Suite::point_size);
      const auto y = grp.point(share_v);
      if (!y) return errc::invalid_encoding;
      m_spent = true;  // from here on a failure is a wrong guess: one per exchange
      auto& rng = system_rng();
      const auto x = *grp.scalar(m_x.reveal());
      const auto w0 = *grp.scalar(m_w0.reveal());
      const auto w1 = *grp.scalar(m_w1.reveal());
      // Z = h*x*(Y - w0*N), V = h*w1*(Y - w0*N), as x*Y + (-x*w0)*N (h = 1).
      const auto z = Botan::EC_AffinePoint::mul_px_qy(*y, x, grp.n, (x * w0).negate(), rng);
      const auto v = Botan::EC_AffinePoint::mul_px_qy(*y, w1, grp.n, (w1 * w0).negate(), rng);
      if (!z || !v) return errc::authentication_failed;  // Y = w0*N: not from a peer who knows w0
      auto tt = std::move(m_tt);
      tt.add(m_share).add(share_v).add(grp.encode(*z)).add(grp.encode(*v)).add(m_w0.reveal());
      detail::key_schedule<Suite> keys(tt, m_share, share_v);
      if (!constant_time_equal(keys.confirm_v, confirm_v)) return errc::authentication_failed;
      return prover_confirmation<Suite>{keys.confirm_p, exchange_keys<Suite>(role::prover, std::move(keys.shared))};
    });
  }

 private:
  prover(const prover_secrets<Suite>& secrets, const identities& ids, const Botan::EC_Scalar& x)
      : m_w0(secret_bytes::copy_of(secrets.w0().reveal())),
        m_w1(secret_bytes::copy_of(secrets.w1().reveal())),
        m_x(secret_bytes(x.serialize<Botan::secure_vector<std::uint8_t>>())),
        m_tt(detail::transcript_prefix<Suite>(ids)) {
    const auto& grp = detail::group<Suite>::get();
    const auto w0_scalar = grp.scalar(m_w0.reveal());
    if (!w0_scalar || m_w1.empty()) throw error(errc::moved_from);  // secrets that were moved from
    const auto w0 = *w0_scalar;
    const auto share = Botan::EC_AffinePoint::mul_px_qy(grp.p, x, grp.m, w0, system_rng());
    if (!share) throw error(errc::internal_error);  // x*P = -w0*M: probability ~2^-256
    m_share = grp.encode(*share);
  }

  secret_bytes m_w0, m_w1, m_x;
  detail::transcript m_tt;
  std::array<std::uint8_t, Suite::point_size> m_share{};
  bool m_spent = false;
};

/// The verifier (server) side of RFC 9383 §3.3. `start` takes shareP and
/// gives shareV || confirmV; `finish` checks confirmP and gives the keys.
///
/// Errors (never throws on peer input): `invalid_encoding` for a shareP of
/// the wrong size, not a point, or the identity, and for a confirmP of the
/// wrong size (which does not spend the exchange); `authentication_failed`
/// when confirmP does not verify; `already_finished` after that.
/// Security: every other failure (wrong password, unknown user with a fake
/// record, replayed shareP) surfaces only at `finish`, after the same work.
template <spake2plus_suite Suite>
class verifier {
 public:
  /// The prover's final message size.
  static constexpr std::size_t confirm_size = Suite::confirm_size;

  /// Answers `share_p`: y from `rng`, Y = y*P + w0*N, Z = h*y*(X - w0*M),
  /// V = h*y*L, and the key schedule.
  [[nodiscard]] static result<verifier> start(const verifier_record<Suite>& record, const identities& ids,
                                              std::span<const std::uint8_t> share_p,
                                              Botan::RandomNumberGenerator& rng = system_rng()) noexcept {
    return sepal::detail::guarded<result<verifier>>(errc::invalid_encoding, [&]() -> result<verifier> {
      return respond(record, ids, share_p, Botan::EC_Scalar::random(detail::group<Suite>::get().g, rng));
    });
  }

  /// `start` with a chosen y: only for reproducing RFC 9383 Appendix C.
  ///
  /// Security: never use this outside tests.
  [[nodiscard]] static result<verifier> unsafe_start_with_scalar(const verifier_record<Suite>& record,
                                                                 const identities& ids,
                                                                 std::span<const std::uint8_t> share_p,
                                                                 std::span<const std::uint8_t> y) noexcept {
    return sepal::detail::guarded<result<verifier>>(errc::invalid_argument, [&]() -> result<verifier> {
      return respond(record, ids, share_p, detail::group<Suite>::get().scalar(y).value());
    });
  }

  /// shareV || confirmV, to send to the prover.
  [[nodiscard]] std::span<const std::uint8_t> response() const noexcept { return m_response; }

  /// True once a well-formed confirmP was checked (right or wrong).
  [[nodiscard]] bool finished() const noexcept { return m_spent; }

  /// Checks confirmP in constant time.
  ///
  /// Security: a confirmP of the wrong size is refused as `invalid_encoding`
  /// without spending anything (its size is public), so a malformed spoofed
  /// datagram cannot end the exchange; one of the right size spends it
  /// whether it verifies or not: one password guess per exchange
  /// (RFC 9383 §3.4).
  [[nodiscard]] result<exchange_keys<Suite>> finish(std::span<const std::uint8_t> confirm_p) noexcept {
    if (m_spent) return errc::already_finished;
    if (m_shared.empty()) return errc::moved_from;
    if (confirm_p.size() != confirm_size) return errc::invalid_encoding;
    m_spent = true;
    if (!constant_time_equal(m_expected.reveal(), confirm_p)) return errc::authentication_failed;
    return sepal::detail::guarded<result<exchange_keys<Suite>>>(errc::internal_error, [&]() -> result<exchange_keys<Suite>> {
      return exchange_keys<Suite>(role::verifier, std::move(m_shared));
    });
  }

 private:
  verifier() = default;

  static result<verifier> respond(const verifier_record<Suite>& record, const identities& ids,
                                  std::span<const std::uint8_t> share_p, const Botan::EC_Scalar& y) {
    const auto& grp = detail::group<Suite>::get();
    const auto x = grp.point(share_p);
    if (!x) return errc::invalid_encoding;
    auto& rng = system_rng();
    const auto w0_scalar = grp.scalar(record.w0().reveal());
    const auto l_point = grp.point(record.verifier_point());
    if (!w0_scalar || !l_point) return errc::moved_from;  // a record that was moved from
    const auto w0 = *w0_scalar;
    const auto l = *l_point;
    const auto share_v = Botan::EC_AffinePoint::mul_px_qy(grp.p, y, grp.n, w0, rng);
    // Z = h*y*(X - w0*M) as y*X + (-y*w0)*M; V = h*y*L (h = 1).
    const auto z = Botan::EC_AffinePoint::mul_px_qy(*x, y, grp.m, (y * w0).negate(), rng);
    std::vector<Botan::BigInt> ws;
    const auto v = l.mul(y, rng, ws);
    if (!share_v) throw error(errc::internal_error);  // y*P = -w0*N: probability ~2^-256
    verifier out;
    const auto share_v_bytes = grp.encode(*share_v);
    // X = w0*M makes Z the identity: the peer does not know w0. Finish the
    // work with a placeholder so this fails at `finish`, like a wrong password.
    const auto z_bytes = z ? grp.encode(*z) : grp.m_bytes;
    auto tt = detail::transcript_prefix<Suite>(ids);
    tt.add(share_p).add(share_v_bytes).add(z_bytes).add(grp.encode(v)).add(record.w0().reveal());
    detail::key_schedule<Suite> keys(tt, share_p, share_v_bytes);
    out.m_expected = z ? secret_bytes::copy_of(keys.confirm_p) : secret_bytes();
    out.m_shared = std::move(keys.shared);
    std::copy(share_v_bytes.begin(), share_v_bytes.end(), out.m_response.begin());
    std::copy(keys.confirm_v.begin(), keys.confirm_v.end(), out.m_response.begin() + Suite::point_size);
    return out;
  }

  std::array<std::uint8_t, Suite::point_size + Suite::confirm_size> m_response{};
  secret_bytes m_expected;
  secret_bytes m_shared;
  bool m_spent = false;
};

}  // namespace sepal::pake

#endif
