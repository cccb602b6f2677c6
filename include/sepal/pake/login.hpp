#ifndef SEPAL_PAKE_LOGIN_HPP
#define SEPAL_PAKE_LOGIN_HPP

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/boundary.hpp"
#include "../detail/bytes.hpp"
#include "../detail/wire.hpp"
#include "../error.hpp"
#include "../handshake/transcript.hpp"
#include "../kdf.hpp"
#include "../secret.hpp"
#include "password_kdf.hpp"
#include "registration.hpp"
#include "spake2plus.hpp"
#include "suite.hpp"

/// Password login: SPAKE2+ (RFC 9383) behind a record lookup, as five
/// messages (docs/password-login.md §3):
///
///     client                                  server
///     login_client::start       -- hello(user) -->  login_server::accept
///     receive_params    <-- params(kdf, salt) --
///     (password KDF)            -- shareP ----->  receive_share
///     receive_reply     <-- echo, shareV, confirmV --
///                               -- confirmP --->  receive_confirm
///
/// Both ends get a `login_result`: the user name, and keys that give a
/// `session`. A wrong password, an unknown user, a tampered message or a
/// replayed share or confirm all end the same way: `authentication_failed`
/// from `receive_reply` (client) and `receive_confirm` (server), after the same
/// work and with messages of the same sizes. Only malformed messages, and
/// replies to another share, fail earlier (`invalid_encoding`); they
/// change no state, so a malformed spoofed datagram (a wrong type byte, a
/// wrong length, a share that is not a point) never ends a login. Nor does
/// a well-formed spoofed share: the server starts an exchange per share
/// (see `login_server::receive_share`), and its reply echoes the share, so
/// the client ignores a reply to any share but its own. What an off-path
/// attacker can still do with well-formed messages is in `login_client`
/// and docs/password-login.md §5.
namespace sepal::pake {

/// The login protocol's version byte (docs/password-login.md §8).
inline constexpr std::uint8_t login_version = 2;
/// The bytes of a share's echo at the start of the reply.
inline constexpr std::size_t share_echo_size = 16;
/// The longest user name, in bytes.
inline constexpr std::size_t max_username_size = 255;

/// True for a user name the protocol carries: 1 to 255 bytes, no ASCII
/// control characters. (Stores must still not use it as a path as is.)
[[nodiscard]] constexpr bool valid_username(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_username_size) return false;
  for (char c : name) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) return false;
  }
  return true;
}

/// Where a login server looks up users.
template <spake2plus_suite Suite = default_spake2plus_suite>
class user_store {
 public:
  virtual ~user_store() = default;
  /// The record of `username` (a valid user name), or nullopt when there is
  /// none or it cannot be read. Must not throw.
  ///
  /// Security: should take the same time for known and unknown users as far
  /// as the storage allows; the server does the same cryptographic work
  /// either way.
  [[nodiscard]] virtual std::optional<verifier_record<Suite>> find(std::string_view username) noexcept = 0;
};

/// Server settings. Owns everything it names (the store is shared), so a
/// config built from temporaries stays valid.
///
/// Security: move-only (it holds the fake-record key, in wiped memory).
template <spake2plus_suite Suite = default_spake2plus_suite>
struct login_server_config {
  /// idVerifier: the name clients registered against.
  std::string server_id;
  /// Where records are (shared: the store lives as long as any config or
  /// server step that uses it).
  std::shared_ptr<user_store<Suite>> users;
  /// A secret of at least 32 bytes, stable across restarts, from which the
  /// server derives a fake record for each unknown user name, so that an
  /// unknown user looks like a known one with a wrong password.
  secret_bytes fake_record_key;
  /// The KDF fake records advertise: keep it equal to what registration
  /// uses, or unknown users stand out from users registered with it.
  password_kdf kdf_for_unknown_users = password_kdf::argon2id();
};

/// Client settings (owned: a config built from temporaries stays valid).
struct login_client_config {
  /// idVerifier: the server's name, as at registration.
  std::string server_id;
  /// What the client accepts from the server before running its KDF. The
  /// default admits exactly the registration defaults (see
  /// `password_kdf_limits`): raise it to log in to records made with more.
  password_kdf_limits limits{};
};

/// The end of a successful login, on either side.
///
/// Security: `keys` gives one session, by `std::move(result.keys).make_session()`
/// (or `std::move(result).keys.make_session()`); a second call throws
/// `sepal::error(already_finished)`. `keys.export_key(...)` stays usable.
template <spake2plus_suite Suite = default_spake2plus_suite>
struct login_result {
  std::string username;        ///< the authenticated user
  exchange_keys<Suite> keys;   ///< K_shared: `std::move(keys).make_session()`, `keys.export_key(...)`
  std::vector<std::uint8_t> final_message;  ///< client: confirmP, to send; server: empty
};

namespace detail {

enum class login_type : std::uint8_t { hello = 1, params = 2, share = 3, reply = 4, confirm = 5 };

/// RFC 9383 §3.3 Context: the protocol, its version and the suite, so a
/// transcript from another protocol or suite never verifies here.
template <spake2plus_suite Suite>
std::string login_context() {
  return std::string("sepal login v1 SPAKE2+-") + std::string(suite_name<Suite>);
}

/// Strips a message's type byte; empty and failed when it is not `type`.
inline std::optional<std::span<const std::uint8_t>> body(std::span<const std::uint8_t> msg, login_type type) noexcept {
  if (msg.empty() || msg[0] != static_cast<std::uint8_t>(type)) return std::nullopt;
  return msg.subspan(1);
}

/// The reply's echo of the share it answers: the first 16 bytes of
/// Hash(shareP). Not a secret, and no MAC: it only lets the client tell a
/// reply to its own share, which an off-path attacker never saw, from a
/// reply to another one (docs/password-login.md §3).
template <spake2plus_suite Suite>
std::array<std::uint8_t, share_echo_size> share_echo(std::span<const std::uint8_t> share_p) {
  const auto digest = handshake::transcript<typename Suite::hash>().update(share_p).current();
  std::array<std::uint8_t, share_echo_size> out{};
  std::copy_n(digest.begin(), out.size(), out.begin());
  return out;
}

inline std::vector<std::uint8_t> framed(login_type type, std::span<const std::uint8_t> body) {
  std::vector<std::uint8_t> out;
  out.reserve(1 + body.size());
  out.push_back(static_cast<std::uint8_t>(type));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

/// The record the server answers with for a user it does not have: salt,
/// w0 and w1 from HKDF over the server's secret and the name, so the same
/// name always gets the same salt (a fresh one each time would give it away).
template <spake2plus_suite Suite>
verifier_record<Suite> fake_record(std::span<const std::uint8_t> key, std::string_view username,
                                   const password_kdf& kdf) {
  using salt_of = prover_secrets<Suite>;
  constexpr std::string_view label = "sepal login v1 fake record";
  const auto okm = hkdf<typename Suite::hash>::derive(
      key, sepal::detail::bytes_of(label),
      sepal::detail::bytes_of(username),
      salt_of::salt_size + 2 * Suite::w_seed_size);
  const auto secrets = prover_secrets<Suite>::from_seed(okm.reveal().subspan(salt_of::salt_size));
  return verifier_record<Suite>::create(secrets, kdf, okm.reveal().first(salt_of::salt_size));
}

}  // namespace detail

template <spake2plus_suite Suite = default_spake2plus_suite>
class login_client_proof;

/// The client's first step: `hello()` names the user; `receive_params`
/// takes the server's salt and KDF, runs the KDF and starts SPAKE2+.
///
/// Errors (never throws on peer input): `invalid_encoding` for a malformed
/// params message (wrong type, length or salt size); `wrong_algorithm` for
/// another version; `limit_reached` for KDF parameters outside the client's
/// limits, refused before any KDF work. None of these spend the object, so
/// a malformed spoofed datagram cannot end the login; `already_finished`
/// once a params message was accepted.
///
/// Security: params are not authenticated (RFC 9383 leaves the salt and KDF
/// to the application), and the first well-formed one within the limits
/// spends this object: a forged one that arrives before the server's makes
/// the client derive wrong secrets, the login then fails at `receive_reply`
/// as with a wrong password, and the genuine params get `already_finished`.
/// This is what remains for an off-path attacker who knows the client's
/// address and wins the race: one datagram ends that login; the caller
/// recovers with a new `login_client` (one more KDF run). Not spending here
/// would let a flood of forged params make the client run the slow KDF once
/// per datagram. (A prehashed client ignores the KDF and salt, so a forged
/// params message costs it nothing.)
template <spake2plus_suite Suite = default_spake2plus_suite>
class login_client {
 public:
  /// Starts a login of `username` with `password`.
  ///
  /// Errors: throws `sepal::error(invalid_argument)` for an invalid user name.
  [[nodiscard]] static login_client start(const login_client_config& config, std::string_view username,
                                          std::string_view password) {
    if (!valid_username(username)) throw error(errc::invalid_argument);
    return login_client(config, username, password, std::nullopt);
  }

  /// Starts a login with prehashed secrets (a record made with
  /// `password_kdf::external()`): the server's KDF parameters are ignored.
  [[nodiscard]] static login_client start_prehashed(const login_client_config& config, std::string_view username,
                                                    prover_secrets<Suite> secrets) {
    if (!valid_username(username)) throw error(errc::invalid_argument);
    return login_client(config, username, {}, std::move(secrets));
  }

  /// The hello message: send it (again on the caller's timer until params arrive).
  [[nodiscard]] std::span<const std::uint8_t> hello() const noexcept { return m_hello; }

  /// Processes the server's params: runs the password KDF (the slow step)
  /// and gives the next step, whose `share()` is to be sent.
  [[nodiscard]] result<login_client_proof<Suite>> receive_params(std::span<const std::uint8_t> message) noexcept {
    if (m_spent) return errc::already_finished;
    return sepal::detail::guarded<result<login_client_proof<Suite>>>(
        errc::invalid_encoding, [&]() -> result<login_client_proof<Suite>> {
          const auto b = detail::body(message, detail::login_type::params);
          if (!b) return errc::invalid_encoding;
          sepal::detail::wire_reader r(*b);
          const bool version_ok = r.u8() == login_version;
          const auto kdf = verifier_record<Suite>::read_kdf(r);
          const auto salt = r.bytes(r.u8());
          if (!r.at_end() || !kdf) return errc::invalid_encoding;
          if (!version_ok) return errc::wrong_algorithm;
          const auto context = detail::login_context<Suite>();
          const identities ids{context, m_username, m_server};
          if (m_prehashed) {
            auto proof = login_client_proof<Suite>(m_username, prover<Suite>::start(*m_prehashed, ids));
            m_spent = true;
            return proof;
          }
          // Everything the server asks for is checked before any KDF work
          // and before this object is spent.
          if (salt.size() < verifier_record<Suite>::min_salt_size ||
              salt.size() > verifier_record<Suite>::max_salt_size)
            return errc::invalid_encoding;
          if (!m_limits.allow(*kdf)) return errc::limit_reached;
          m_spent = true;
          const auto secrets =
              prover_secrets<Suite>::derive(m_password.reveal_text(), m_username, m_server, *kdf, salt);
          return login_client_proof<Suite>(m_username, prover<Suite>::start(secrets, ids));
        });
  }

 private:
  login_client(const login_client_config& config, std::string_view username, std::string_view password,
               std::optional<prover_secrets<Suite>> prehashed)
      : m_username(username),
        m_server(config.server_id),
        m_limits(config.limits),
        m_password(password.empty() ? secret_bytes()
                                    : secret_bytes::copy_of(sepal::detail::bytes_of(password))),
        m_prehashed(std::move(prehashed)) {
    sepal::detail::wire_writer w(m_hello);
    w.u8(static_cast<std::uint8_t>(detail::login_type::hello)).u8(login_version).u8(Suite::id);
    const std::vector<std::uint8_t> name(m_username.begin(), m_username.end());
    w.u8(static_cast<std::uint8_t>(name.size())).bytes(name);
  }

  std::string m_username;
  std::string m_server;
  password_kdf_limits m_limits;
  secret_bytes m_password;
  std::optional<prover_secrets<Suite>> m_prehashed;
  std::vector<std::uint8_t> m_hello;
  bool m_spent = false;
};

/// The client's second step: `share()` carries shareP; `receive_reply`
/// checks the server's confirmation and ends the login.
///
/// Errors (never throws on peer input): `invalid_encoding` for a reply that
/// is malformed (wrong type byte, wrong length, shareV not a point) or
/// answers another share (its echo is not this share's), which does not
/// spend the step; `authentication_failed` for a reply to this share that
/// does not verify (wrong password, unknown user, tampering), which does
/// (one password guess per exchange); `already_finished` after that.
///
/// Security: the echo is what keeps an off-path attacker out. It never saw
/// shareP, so it cannot make a reply that spends this step (but for a 2^-128
/// guess), and the server's reply to a spoofed share, sent to this client's
/// address, is ignored. An attacker who saw the share (on-path, or the
/// server itself) can spend the step with a forged reply; that is its one
/// password guess for this exchange.
template <spake2plus_suite Suite>
class login_client_proof {
 public:
  /// The share message: send it (again on the caller's timer until a reply arrives).
  [[nodiscard]] std::span<const std::uint8_t> share() const noexcept { return m_share; }

  /// Processes the server's reply. On success send `final_message` of the result.
  [[nodiscard]] result<login_result<Suite>> receive_reply(std::span<const std::uint8_t> message) noexcept {
    return sepal::detail::guarded<result<login_result<Suite>>>(
        errc::authentication_failed, [&]() -> result<login_result<Suite>> {
          const auto b = detail::body(message, detail::login_type::reply);
          if (!b || b->size() < share_echo_size) return errc::invalid_encoding;  // public shape: spends nothing
          // A reply to another share (a spoofed one, say): not ours, spends nothing.
          if (!std::equal(m_echo.begin(), m_echo.end(), b->begin())) return errc::invalid_encoding;
          auto done = m_prover.receive(b->subspan(share_echo_size));
          if (!done) {
            const auto e = done.error();
            return e == errc::invalid_encoding || e == errc::already_finished ? e : errc::authentication_failed;
          }
          return login_result<Suite>{m_username, std::move(done->keys),
                                     detail::framed(detail::login_type::confirm, done->message)};
        });
  }

 private:
  friend class login_client<Suite>;
  login_client_proof(std::string username, prover<Suite> p)
      : m_username(std::move(username)),
        m_prover(std::move(p)),
        m_share(detail::framed(detail::login_type::share, m_prover.share())),
        m_echo(detail::share_echo<Suite>(m_prover.share())) {}

  std::string m_username;
  prover<Suite> m_prover;
  std::vector<std::uint8_t> m_share;
  std::array<std::uint8_t, share_echo_size> m_echo;
};

template <spake2plus_suite Suite = default_spake2plus_suite>
class login_server_reply;

/// The server's first step: `accept` reads the hello and looks the user up;
/// `params()` is the answer; `receive_share` runs the SPAKE2+ verifier, once
/// per well-formed share, without spending this step.
///
/// Errors (never throws on peer input): `invalid_encoding` for a malformed
/// hello or share; `wrong_algorithm` for another version or suite;
/// `invalid_argument` for a config without a store or with a short
/// fake-record key. Unknown users are not an error here: they get a fake
/// record and fail at `receive_confirm`.
///
/// Security: a share is unauthenticated and its format is public, so an
/// off-path attacker can send a well-formed one for any login. It therefore
/// spends nothing: each well-formed share starts an independent SPAKE2+
/// exchange with its own `login_server_reply`, and each reply allows one
/// confirmation attempt (one password guess per exchange, as a fresh hello
/// would give). The caller keeps a bounded number of pending replies per
/// login (for example the last 4, answering a repeated share with the reply
/// it already has), offers a confirm to each until one succeeds (a wrong one
/// is spent by the MAC check, which is fine), and counts confirms that no
/// pending reply accepts as failures of the user, for rate limiting. Each
/// reply echoes its share, so the client ignores the reply to a spoofed
/// share that the server sends to the client's address. A spoofed share
/// then cannot end the login; a flood of them can only push the genuine
/// reply out of the bounded list, and each costs the server one verifier
/// computation (three scalar multiplications), as a new hello and share
/// would. See examples/password_login.cpp.
template <spake2plus_suite Suite = default_spake2plus_suite>
class login_server {
 public:
  /// Answers a hello.
  [[nodiscard]] static result<login_server> accept(const login_server_config<Suite>& config,
                                                   std::span<const std::uint8_t> hello) noexcept {
    if (!config.users || config.fake_record_key.size() < 32) return errc::invalid_argument;
    return sepal::detail::guarded<result<login_server>>(errc::invalid_encoding, [&]() -> result<login_server> {
      const auto b = detail::body(hello, detail::login_type::hello);
      if (!b) return errc::invalid_encoding;
      sepal::detail::wire_reader r(*b);
      const auto version = r.u8();
      const auto suite = r.u8();
      const auto name = r.bytes(r.u8());
      if (!r.at_end()) return errc::invalid_encoding;
      if (version != login_version || suite != Suite::id) return errc::wrong_algorithm;
      const std::string_view username(reinterpret_cast<const char*>(name.data()), name.size());
      if (!valid_username(username)) return errc::invalid_encoding;
      // The fake record is made for every login, so known and unknown users
      // cost the server the same work.
      auto record = detail::fake_record<Suite>(config.fake_record_key.reveal(), username, config.kdf_for_unknown_users);
      if (auto found = config.users->find(username)) record = std::move(*found);
      return login_server(config.server_id, username, std::move(record));
    });
  }

  /// The params message: send it (again when the same hello arrives).
  [[nodiscard]] std::span<const std::uint8_t> params() const noexcept { return m_params; }

  /// The user name the hello claimed (unauthenticated until a confirm
  /// succeeds): the key for counting failed logins per user.
  [[nodiscard]] std::string_view username() const noexcept { return m_username; }

  /// Processes a share message and gives a new, independent exchange,
  /// whose `reply()` is to be sent. Changes nothing here: every call with a
  /// well-formed share gives another exchange (with a fresh y, so a
  /// repeated share gets another reply: answer repeats with the reply
  /// already sent).
  ///
  /// Errors: `invalid_encoding` for a wrong type byte, a wrong length or a
  /// share that is not a point (or is the identity).
  [[nodiscard]] result<login_server_reply<Suite>> receive_share(std::span<const std::uint8_t> message) const noexcept {
    return sepal::detail::guarded<result<login_server_reply<Suite>>>(
        errc::invalid_encoding, [&]() -> result<login_server_reply<Suite>> {
          const auto b = detail::body(message, detail::login_type::share);
          if (!b) return errc::invalid_encoding;
          const auto context = detail::login_context<Suite>();
          auto v = verifier<Suite>::start(m_record, {context, m_username, m_server}, *b);
          if (!v) return v.error();
          return login_server_reply<Suite>(m_username, detail::share_echo<Suite>(*b), std::move(*v));
        });
  }

 private:
  login_server(std::string_view server, std::string_view username, verifier_record<Suite> record)
      : m_server(server), m_username(username), m_record(std::move(record)) {
    sepal::detail::wire_writer w(m_params);
    w.u8(static_cast<std::uint8_t>(detail::login_type::params)).u8(login_version);
    verifier_record<Suite>::write_kdf(w, m_record.kdf());
    w.u8(static_cast<std::uint8_t>(m_record.salt().size())).bytes(m_record.salt());
  }

  std::string m_server;
  std::string m_username;
  verifier_record<Suite> m_record;
  std::vector<std::uint8_t> m_params;
};

/// The server's second step, one per well-formed share: `reply()` carries
/// the share's echo, shareV and confirmV; `receive_confirm` checks confirmP and ends the
/// login.
///
/// Errors (never throws on peer input): `invalid_encoding` for a malformed
/// confirm message (wrong type byte or length: public, so it spends
/// nothing and a spoofed datagram cannot end the login);
/// `authentication_failed` for a well-formed confirmation that does not
/// verify, which spends this exchange (one password guess per exchange),
/// also when the confirm belongs to another pending reply of the same
/// login; `already_finished` after that or after success.
template <spake2plus_suite Suite>
class login_server_reply {
 public:
  /// The reply message: send it (again when the same share arrives).
  [[nodiscard]] std::span<const std::uint8_t> reply() const noexcept { return m_reply; }

  /// Processes the confirm message.
  [[nodiscard]] result<login_result<Suite>> receive_confirm(std::span<const std::uint8_t> message) noexcept {
    const auto b = detail::body(message, detail::login_type::confirm);
    if (!b) return m_verifier.finished() ? errc::already_finished : errc::invalid_encoding;
    auto keys = m_verifier.finish(*b);  // a wrong length is refused there without spending
    if (!keys) return keys.error();
    return sepal::detail::guarded<result<login_result<Suite>>>(errc::internal_error, [&]() -> result<login_result<Suite>> {
      return login_result<Suite>{std::move(m_username), std::move(*keys), {}};
    });
  }

 private:
  friend class login_server<Suite>;
  login_server_reply(std::string username, const std::array<std::uint8_t, share_echo_size>& echo, verifier<Suite> v)
      : m_username(std::move(username)), m_verifier(std::move(v)) {
    std::vector<std::uint8_t> body(echo.begin(), echo.end());
    body.insert(body.end(), m_verifier.response().begin(), m_verifier.response().end());
    m_reply = detail::framed(detail::login_type::reply, body);
  }

  std::string m_username;
  verifier<Suite> m_verifier;
  std::vector<std::uint8_t> m_reply;
};

}  // namespace sepal::pake

#endif
