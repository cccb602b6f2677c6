#ifndef SEPAL_HTTP_SIGNER_HPP
#define SEPAL_HTTP_SIGNER_HPP

#include <botan/hex.h>

#include <cstdint>
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

/// Signs `msg` (RFC 9421 §3.1): builds the signature base for `params` and
/// signs it with `key` under `label`.
///
/// Errors: `invalid_argument` when `label` is not a Dictionary key or a
/// covered component cannot be derived from `msg` (local misuse; see
/// `signature_base` for which). Throws `sepal::error` only on RNG failure.
[[nodiscard]] inline result<signature_fields> sign(const message& msg, std::string_view label,
                                                   const signature_params& params, const signing_key& key,
                                                   std::span<const std::pair<std::string_view, field_type>> extra_types = {}) {
  if (label.empty() || (!sf::detail::is_lcalpha(label[0]) && label[0] != '*')) return errc::invalid_argument;
  for (char c : label)
    if (!sf::detail::is_key_char(c)) return errc::invalid_argument;
  const auto base = signature_base(msg, params, extra_types);
  if (std::holds_alternative<base_error>(base)) return errc::invalid_argument;
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
};

/// Signs a request under sepal's profile: adds Content-Digest when covered,
/// then a signature with `created` = `now`, `expires`, `keyid`, `alg`, a
/// fresh 128-bit `nonce` and `tag`, and attaches it.
///
/// Errors: as `sign`.
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
  const auto nonce = random_bytes<16>(rng);
  params.nonce(Botan::hex_encode(nonce.data(), nonce.size(), false));
  if (!profile.tag.empty()) params.tag(profile.tag);
  auto fields = sign(msg, profile.label, params, key);
  if (!fields) return fields.error();
  attach(msg, *fields);
  return {};
}

}  // namespace sepal::http

#endif
