#ifndef SEPAL_ERROR_HPP
#define SEPAL_ERROR_HPP

#include <iosfwd>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace sepal {

/// What went wrong. Failures on attacker-controlled input collapse to a few
/// codes (`invalid_encoding`, `wrong_algorithm`, `invalid_key`,
/// `authentication_failed`) so results carry no oracle detail.
enum class errc {
  /// Bytes that do not parse as the expected encoding (DER, PEM, raw point).
  invalid_encoding = 1,
  /// A well-formed key or object of another algorithm or curve than asked for.
  wrong_algorithm,
  /// A key that parses but is not valid (off-curve, identity, bad scalar).
  invalid_key,
  /// A signature that does not verify.
  invalid_signature,
  /// An AEAD open or MAC check that failed; also too-short ciphertext.
  authentication_failed,
  /// A packet that was already received, or is older than the replay window.
  replayed,
  /// A session or stream that closed itself (integrity limit reached, a
  /// failed stream, or use after close).
  closed,
  /// Not a failure: the server asked for address validation; send the
  /// handshake's (updated) ClientHello again.
  retry_requested,
  /// A key agreement whose result is unusable (all-zero X25519/X448 output).
  invalid_shared_secret,
  /// An argument the caller controls is out of range (sizes, lengths).
  invalid_argument,
  /// A limit was reached (output length, usage counters).
  limit_reached,
  /// Reading or writing a file failed.
  io_error,
  /// The random number generator failed.
  rng_failure,
  /// An unexpected failure inside Botan (a bug or resource exhaustion).
  internal_error,
  /// The peer proved who it is, but that identity is not allowed (not on the
  /// allowlist, or a client chain the server's verifier rejects).
  unknown_identity,
  /// A one-shot object (handshake, exchange, secret) was used again after it
  /// finished.
  already_finished,
  /// The peer asked for a credential this side was not given (a client key
  /// or certificate chain).
  missing_credential,
  /// The object was moved from; it holds no keys.
  moved_from,
  /// A stream record that is not the next one in sequence (dropped,
  /// reordered or duplicated): fatal for the stream.
  out_of_order,
  /// A stream that ended without the peer's authenticated close.
  truncated,
  /// Not a failure: the peer closed the stream cleanly (authenticated).
  end_of_stream,
  /// The handshake was not confirmed in time (docs/protocol.md §7.2): the
  /// peer never answered; start again.
  timed_out,
};

/// A short, stable English description of `e`, for logs.
[[nodiscard]] constexpr std::string_view describe(errc e) noexcept {
  switch (e) {
    case errc::invalid_encoding: return "invalid encoding";
    case errc::wrong_algorithm: return "wrong algorithm";
    case errc::invalid_key: return "invalid key";
    case errc::invalid_signature: return "invalid signature";
    case errc::authentication_failed: return "authentication failed";
    case errc::replayed: return "replayed or too old";
    case errc::closed: return "session closed";
    case errc::retry_requested: return "retry requested";
    case errc::invalid_shared_secret: return "invalid shared secret";
    case errc::invalid_argument: return "invalid argument";
    case errc::limit_reached: return "limit reached";
    case errc::io_error: return "I/O error";
    case errc::rng_failure: return "random number generator failure";
    case errc::internal_error: return "internal error";
    case errc::unknown_identity: return "peer identity not allowed";
    case errc::already_finished: return "already finished";
    case errc::missing_credential: return "credential not configured";
    case errc::moved_from: return "object was moved from";
    case errc::out_of_order: return "record out of order";
    case errc::truncated: return "stream truncated";
    case errc::end_of_stream: return "end of stream";
    case errc::timed_out: return "handshake not confirmed in time";
  }
  return "unknown error";
}

/// Writes `describe(e)` (for logs: `std::cerr << r.error()`).
template <class CharT, class Traits>
std::basic_ostream<CharT, Traits>& operator<<(std::basic_ostream<CharT, Traits>& os, errc e) {
  return os << describe(e);
}

/// The one exception sepal throws, for local misuse and environment failures
/// (and from `result::value()` on an error). Never thrown for hostile input on
/// the non-throwing API.
class error : public std::runtime_error {
 public:
  /// An error carrying `code`; `what()` is the code's description.
  explicit error(errc code) : std::runtime_error(std::string(describe(code))), m_code(code) {}

  /// The error code.
  [[nodiscard]] errc code() const noexcept { return m_code; }

 private:
  errc m_code;
};

/// Thrown by `verify_or_throw` when a signature does not verify.
class invalid_signature final : public error {
 public:
  invalid_signature() : error(errc::invalid_signature) {}
};

/// Either a `T` or an `errc`, with `std::expected`'s member names.
///
/// Errors: `value()` on an error throws `sepal::error` with the code.
template <class T>
class [[nodiscard]] result {
 public:
  using value_type = T;  ///< the value held on success

  /// A result holding `v`.
  result(T v) noexcept(std::is_nothrow_move_constructible_v<T>) : m_v(std::in_place_index<0>, std::move(v)) {}
  /// A result holding the error `e`.
  result(errc e) noexcept : m_v(std::in_place_index<1>, e) {}

  /// True when a value is held.
  [[nodiscard]] bool has_value() const noexcept { return m_v.index() == 0; }
  /// True when a value is held.
  explicit operator bool() const noexcept { return has_value(); }

  /// The value. Errors: throws `sepal::error` when an error is held.
  [[nodiscard]] T& value() & { check(); return std::get<0>(m_v); }
  /// The value. Errors: throws `sepal::error` when an error is held.
  [[nodiscard]] const T& value() const& { check(); return std::get<0>(m_v); }
  /// The value, moved out. Errors: throws `sepal::error` when an error is held.
  [[nodiscard]] T&& value() && { check(); return std::get<0>(std::move(m_v)); }

  /// The value, unchecked: calling it on an error is undefined behaviour.
  [[nodiscard]] T& operator*() & noexcept { return *std::get_if<0>(&m_v); }
  /// The value, unchecked: calling it on an error is undefined behaviour.
  [[nodiscard]] const T& operator*() const& noexcept { return *std::get_if<0>(&m_v); }
  /// The value, moved out, unchecked.
  [[nodiscard]] T&& operator*() && noexcept { return std::move(*std::get_if<0>(&m_v)); }
  /// Member access to the value, unchecked.
  [[nodiscard]] T* operator->() noexcept { return std::get_if<0>(&m_v); }
  /// Member access to the value, unchecked.
  [[nodiscard]] const T* operator->() const noexcept { return std::get_if<0>(&m_v); }

  /// The error code; only meaningful when `!has_value()`.
  [[nodiscard]] errc error() const noexcept {
    const errc* e = std::get_if<1>(&m_v);
    return e ? *e : errc::internal_error;
  }

  /// The value, or `fallback` when an error is held.
  template <class U>
  [[nodiscard]] T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(m_v) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void check() const {
    if (!has_value()) throw sepal::error(error());
  }

  std::variant<T, errc> m_v;
};

/// A result with no value: success or an `errc`.
template <>
class [[nodiscard]] result<void> {
 public:
  using value_type = void;  ///< no value

  /// Success.
  result() noexcept = default;
  /// The error `e`.
  result(errc e) noexcept : m_err(e), m_failed(true) {}

  /// True on success.
  [[nodiscard]] bool has_value() const noexcept { return !m_failed; }
  /// True on success.
  explicit operator bool() const noexcept { return has_value(); }
  /// Errors: throws `sepal::error` when an error is held.
  void value() const {
    if (m_failed) throw sepal::error(m_err);
  }
  /// The error code; only meaningful when `!has_value()`.
  [[nodiscard]] errc error() const noexcept { return m_err; }

 private:
  errc m_err = errc::internal_error;
  bool m_failed = false;
};

/// Writes a result for logs: the value when it has one that can be written
/// (else "ok"), or the error's description.
template <class CharT, class Traits, class T>
std::basic_ostream<CharT, Traits>& operator<<(std::basic_ostream<CharT, Traits>& os, const result<T>& r) {
  if (!r) return os << r.error();
  if constexpr (requires { os << *r; }) {
    return os << *r;
  } else {
    return os << "ok";
  }
}

}  // namespace sepal

#endif
