#ifndef SEPAL_HTTP_SIGNER_HPP
#define SEPAL_HTTP_SIGNER_HPP

#include <botan/hex.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "../detail/bytes.hpp"
#include "../error.hpp"
#include "../rng.hpp"
#include "content_digest.hpp"
#include "keys.hpp"
#include "message.hpp"
#include "signature_base.hpp"
#include "structured_fields.hpp"

namespace sepal::http {

/// One signature as the two Dictionary members it adds to a message
/// (RFC 9421 §4.1, §4.2): `label=<inner list>` for Signature-Input and
/// `label=:<signature>:` for Signature.
struct signature_fields {
  std::string signature_input;  ///< e.g. sig-b25=("date" "@authority" "content-type");created=...
  std::string signature;        ///< e.g. sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:
};

/// Why `sign` refused: `code` is `invalid_argument` for a label that is not
/// a Dictionary key (`base` empty) or for a covered component that cannot
/// be derived from the message (`base` says which and why).
struct sign_failure {
  errc code = errc::invalid_argument;
  std::optional<base_failure> base;
};

/// The outcome of `sign`: the signature's fields, or a `sign_failure`
/// (`std::expected` member names).
class [[nodiscard]] sign_result {
 public:
  sign_result(signature_fields v) : m_v(std::in_place_index<0>, std::move(v)) {}  // NOLINT: implicit by design
  sign_result(sign_failure f) : m_v(std::in_place_index<1>, std::move(f)) {}     // NOLINT: implicit by design

  [[nodiscard]] bool has_value() const noexcept { return m_v.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  /// The fields; throws `sepal::error` with the failure's code on a failure.
  [[nodiscard]] const signature_fields& value() const& {
    if (!has_value()) throw sepal::error(std::get<1>(m_v).code);
    return std::get<0>(m_v);
  }
  [[nodiscard]] signature_fields&& value() && {
    if (!has_value()) throw sepal::error(std::get<1>(m_v).code);
    return std::get<0>(std::move(m_v));
  }
  [[nodiscard]] const signature_fields& operator*() const& noexcept { return *std::get_if<0>(&m_v); }
  [[nodiscard]] const signature_fields* operator->() const noexcept { return std::get_if<0>(&m_v); }
  /// The failure; meaningless on success.
  [[nodiscard]] const sign_failure& error() const noexcept {
    static const sign_failure none{};
    const auto* f = std::get_if<1>(&m_v);
    return f ? *f : none;
  }

 private:
  std::variant<signature_fields, sign_failure> m_v;
};

/// Signs `msg` (RFC 9421 §3.1): builds the signature base for `params` and
/// signs it with `key` under `label`.
///
/// Errors: a `sign_failure` (local misuse): `invalid_argument` when `label`
/// is not a Dictionary key, or when a covered component cannot be derived
/// from `msg`, with the component and the reason in `base`. Throws
/// `sepal::error` only on RNG failure.
[[nodiscard]] inline sign_result sign(const message& msg, std::string_view label, const signature_params& params,
                                      const signing_key& key,
                                      std::span<const std::pair<std::string_view, field_type>> extra_types = {}) {
  if (label.empty() || (!sf::detail::is_lcalpha(label[0]) && label[0] != '*')) return sign_failure{};
  for (char c : label)
    if (!sf::detail::is_key_char(c)) return sign_failure{};
  auto base = build_signature_base(msg, params, extra_types);
  if (auto* f = std::get_if<base_failure>(&base)) return sign_failure{errc::invalid_argument, std::move(*f)};
  const auto& text = std::get<std::string>(base);
  auto sig = key.sign(sepal::detail::bytes_of(text));
  signature_fields out;
  out.signature_input = std::string(label) + "=" + sf::serialize(sf::member(params.inner_list()));
  out.signature = std::string(label) + "=" + sf::serialize(sf::member(sf::item{sf::bytes{std::move(sig)}, {}}));
  return out;
}

/// Adds a signature's two members to `msg` as Signature-Input and Signature
/// field lines (lines of one field combine into one Dictionary, RFC 9110
/// §5.3, so earlier signatures stay).
inline void attach(message& msg, const signature_fields& fields) {
  msg.add("Signature-Input", fields.signature_input);
  msg.add("Signature", fields.signature);
}

/// What `sign_request` covers and adds: sepal's request-signing profile
/// (docs/request-auth.md). The defaults are what `verify_policy` requires
/// by default.
struct signing_profile {
  std::string label = "sig";
  /// Covered components, in order; "content-digest" makes `sign_request`
  /// add a Content-Digest (SHA-256) first if the message has none.
  std::vector<std::string> components = {"@method", "@target-uri", "content-digest"};
  std::int64_t lifetime = 300;  ///< `expires` = `created` + lifetime; 0: no `expires`
  bool include_alg = true;      ///< name the algorithm in `alg`
  std::string tag = "sepal-request/1";  ///< application tag (empty: none)
  bool include_nonce = true;    ///< a fresh 128-bit `nonce` (replay protection at the verifier)

  /// What a generic RFC 9421 client sends (`verify_policy::interop()`
  /// accepts it): the same components, `created`, `expires`, `keyid`,
  /// `alg`; no `tag` and no `nonce`.
  ///
  /// Security: without a nonce the verifier cannot refuse a replay within
  /// the signature's lifetime.
  [[nodiscard]] static signing_profile interop() {
    signing_profile p;
    p.tag.clear();
    p.include_nonce = false;
    return p;
  }
};

/// Signs a request under sepal's profile: adds Content-Digest when covered,
/// then a signature with `created` = `now`, `expires`, `keyid`, `alg`, a
/// fresh 128-bit `nonce` and `tag` (each as the profile says), and attaches
/// it.
///
/// Errors: as `sign`, as its code only (call `sign` for the component).
inline result<void> sign_request(message& msg, std::string_view keyid, const signing_key& key, std::int64_t now,
                                 const signing_profile& profile = {},
                                 Botan::RandomNumberGenerator& rng = system_rng()) {
  signature_params params;
  for (const auto& c : profile.components) {
    if (c == "content-digest" && msg.values("content-digest").empty())
      msg.add("Content-Digest", content_digest(msg.content));
    params.cover(c);
  }
  params.created(now);
  if (profile.lifetime > 0) params.expires(now + profile.lifetime);
  params.keyid(std::string(keyid));
  if (profile.include_alg) params.alg(std::string(algorithm_name(key.alg())));
  if (profile.include_nonce) {
    const auto nonce = random_bytes<16>(rng);
    params.nonce(Botan::hex_encode(nonce.data(), nonce.size(), false));
  }
  if (!profile.tag.empty()) params.tag(profile.tag);
  auto fields = sign(msg, profile.label, params, key);
  if (!fields) return fields.error().code;
  attach(msg, *fields);
  return {};
}

}  // namespace sepal::http

#endif
