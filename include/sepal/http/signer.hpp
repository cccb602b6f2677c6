#ifndef SEPAL_HTTP_SIGNER_HPP
#define SEPAL_HTTP_SIGNER_HPP

#include <botan/hex.h>

#include <algorithm>
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

/// What is wrong with a signature parameter (`signature_params::param`).
enum class param_error {
  invalid_key,    ///< not an RFC 8941 key (lcalpha or "*", then lcalpha / DIGIT / "_" / "-" / "." / "*")
  duplicate,      ///< the same key twice (e.g. `created` set and also given to `param`)
  wrong_type,     ///< `created`/`expires` not an Integer, `keyid`/`alg`/`nonce`/`tag` not a String
  invalid_value,  ///< a String with a byte outside %x20-7E, an invalid Token, or an Integer or
                  ///< Decimal out of RFC 8941's range
  too_many,       ///< more than `sf::max_parameters`: a verifier would not parse the field
};

/// A short name for logs.
[[nodiscard]] constexpr std::string_view describe(param_error e) noexcept {
  switch (e) {
    case param_error::invalid_key: return "signature parameter key is not an RFC 8941 key";
    case param_error::duplicate: return "signature parameter given twice";
    case param_error::wrong_type: return "signature parameter of the wrong type";
    case param_error::invalid_value: return "signature parameter value RFC 8941 cannot carry";
    case param_error::too_many: return "too many signature parameters";
  }
  return "unknown";
}

/// Which signature parameter `sign` refused, and why.
struct param_failure {
  param_error code = param_error::invalid_key;
  std::string key;  ///< the parameter's key as given
};

/// Why `sign` refused: `code` is `invalid_argument` for a label that is not
/// a Dictionary key (`base` and `param` empty), for a covered component
/// that cannot be derived from the message (`base` says which and why), or
/// for a signature parameter it cannot sign (`param` says which and why).
struct sign_failure {
  errc code = errc::invalid_argument;
  std::optional<base_failure> base;
  std::optional<param_failure> param = std::nullopt;
};

namespace detail {

/// RFC 8941 §3.1.2: key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ).
[[nodiscard]] inline bool is_sf_key(std::string_view k) noexcept {
  if (k.empty() || (!sf::detail::is_lcalpha(k[0]) && k[0] != '*')) return false;
  for (char c : k)
    if (!sf::detail::is_key_char(c)) return false;
  return true;
}

/// A Bare Item the RFC 8941 §4.1 serializer accepts (it fails on the rest).
[[nodiscard]] inline bool serializable(const sf::bare_item& v) noexcept {
  constexpr std::int64_t max15 = 999'999'999'999'999;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i >= -max15 && *i <= max15;  // §4.1.4
  if (const auto* d = std::get_if<sf::decimal>(&v)) return d->thousandths >= -max15 && d->thousandths <= max15;
  if (const auto* s = std::get_if<std::string>(&v)) {  // §4.1.6
    for (char c : *s)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) return false;
    return true;
  }
  if (const auto* t = std::get_if<sf::token>(&v)) {  // §4.1.7
    if (t->value.empty() || !(sf::detail::is_alpha(t->value[0]) || t->value[0] == '*')) return false;
    for (char c : t->value)
      if (!(sf::detail::is_tchar(c) || c == ':' || c == '/')) return false;
    return true;
  }
  return true;  // Byte Sequence, Boolean
}

/// The first signature parameter `sign` cannot sign (RFC 9421 §2.3), if any.
[[nodiscard]] inline std::optional<param_failure> check_params(const sf::parameters& params) {
  if (params.size() > sf::max_parameters) return param_failure{param_error::too_many, {}};
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& [k, v] = params[i];
    if (!is_sf_key(k)) return param_failure{param_error::invalid_key, k};
    for (std::size_t j = 0; j < i; ++j)
      if (params[j].first == k) return param_failure{param_error::duplicate, k};
    const bool want_int = k == "created" || k == "expires";
    const bool want_string = k == "keyid" || k == "alg" || k == "nonce" || k == "tag";
    if ((want_int && !std::holds_alternative<std::int64_t>(v)) ||
        (want_string && !std::holds_alternative<std::string>(v)))
      return param_failure{param_error::wrong_type, k};
    if (!serializable(v)) return param_failure{param_error::invalid_value, k};
  }
  return std::nullopt;
}

}  // namespace detail

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

namespace detail {

inline sign_result sign_base(const message& msg, const message* request, std::string_view label,
                             const signature_params& params, const signing_key& key,
                             std::span<const std::pair<std::string_view, field_type>> extra_types) {
  if (label.empty() || (!sf::detail::is_lcalpha(label[0]) && label[0] != '*')) return sign_failure{};
  for (char c : label)
    if (!sf::detail::is_key_char(c)) return sign_failure{};
  if (auto p = detail::check_params(params.params()))
    return sign_failure{errc::invalid_argument, std::nullopt, std::move(*p)};
  auto base = build_base(msg, request, params, extra_types);
  if (auto* f = std::get_if<base_failure>(&base)) return sign_failure{errc::invalid_argument, std::move(*f)};
  const auto& text = std::get<std::string>(base);
  auto sig = key.sign(sepal::detail::bytes_of(text));
  signature_fields out;
  out.signature_input = std::string(label) + "=" + sf::serialize(sf::member(params.inner_list()));
  out.signature = std::string(label) + "=" + sf::serialize(sf::member(sf::item{sf::bytes{std::move(sig)}, {}}));
  return out;
}

}  // namespace detail

/// Signs `msg` (RFC 9421 §3.1): builds the signature base for `params` and
/// signs it with `key` under `label`.
///
/// Errors: a `sign_failure` (local misuse): `invalid_argument` when `label`
/// is not a Dictionary key, when a signature parameter cannot be signed
/// (the key and the reason in `param`), or when a covered component cannot
/// be derived from `msg`, with the component and the reason in `base`
/// (`no_request` for a `req` component: sign a response with its request).
/// Throws `sepal::error` only on RNG failure.
[[nodiscard]] inline sign_result sign(const message& msg, std::string_view label, const signature_params& params,
                                      const signing_key& key,
                                      std::span<const std::pair<std::string_view, field_type>> extra_types = {}) {
  return detail::sign_base(msg, nullptr, label, params, key, extra_types);
}

/// Signs `response` (RFC 9421 §3.1) where the components with the `req`
/// parameter come from `request`, the request it answers (§2.4): binds the
/// response to that request. Errors as `sign`.
[[nodiscard]] inline sign_result sign(const message& response, const message& request, std::string_view label,
                                      const signature_params& params, const signing_key& key,
                                      std::span<const std::pair<std::string_view, field_type>> extra_types = {}) {
  return detail::sign_base(response, &request, label, params, key, extra_types);
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
  /// With `include_nonce`: this `nonce` instead of a fresh one, e.g. the
  /// challenge an Accept-Signature asked for (RFC 9421 §5.1). Empty: fresh.
  std::string nonce;

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
  if (profile.include_nonce && !profile.nonce.empty()) {
    params.nonce(profile.nonce);
  } else if (profile.include_nonce) {
    const auto nonce = random_bytes<16>(rng);
    params.nonce(Botan::hex_encode(nonce.data(), nonce.size(), false));
  }
  if (!profile.tag.empty()) params.tag(profile.tag);
  auto fields = sign(msg, profile.label, params, key);
  if (!fields) return fields.error().code;
  attach(msg, *fields);
  return {};
}

/// One member of an Accept-Signature field (RFC 9421 §5.1): the label the
/// requester wants, the component identifiers it wants covered (exactly
/// these, in this order) and the parameters it asks for: `created` and
/// `expires` as Boolean true ("generate it"), `keyid`, `alg`, `nonce` and
/// `tag` with the value to use, possibly others.
struct accept_signature_entry {
  std::string label;
  sf::inner_list request;  ///< the member's Inner List of component identifiers, with its parameters

  /// The member as it appears in the field, `label=(...);...`.
  [[nodiscard]] std::string serialize() const { return label + "=" + sf::serialize(sf::member(request)); }
};

/// Parses an Accept-Signature field value (RFC 9421 §5.1): an RFC 8941
/// Dictionary whose members are Inner Lists of Strings. nullopt when it
/// does not parse (within `sf`'s limits) or a member is not such a list.
/// Never throws.
[[nodiscard]] inline std::optional<std::vector<accept_signature_entry>> parse_accept_signature(
    std::string_view value) noexcept {
  try {
    auto dict = sf::parse_dictionary(value);
    if (!dict) return std::nullopt;
    std::vector<accept_signature_entry> out;
    out.reserve(dict->size());
    for (auto& [label, m] : *dict) {
      auto* l = std::get_if<sf::inner_list>(&m);
      if (l == nullptr) return std::nullopt;
      for (const auto& i : l->items)
        if (!std::holds_alternative<std::string>(i.value)) return std::nullopt;
      out.push_back({std::move(label), std::move(*l)});
    }
    return out;
  } catch (...) {  // bad_alloc
    return std::nullopt;
  }
}

/// The Accept-Signature field of `msg`: its lines combined (RFC 9110 §5.3),
/// then parsed as `parse_accept_signature`. nullopt when absent or invalid.
[[nodiscard]] inline std::optional<std::vector<accept_signature_entry>> parse_accept_signature(
    const message& msg) noexcept {
  try {
    std::string joined;
    for (const auto v : msg.values("accept-signature")) {
      if (!joined.empty()) joined += ", ";
      joined += detail::canonical_line(v);
    }
    if (joined.empty()) return std::nullopt;
    return parse_accept_signature(joined);
  } catch (...) {
    return std::nullopt;
  }
}

/// Why `profile_for` cannot meet an Accept-Signature request.
enum class accept_error {
  component_parameters,   ///< a component with parameters (`sf`, `key`, `req`...): a profile covers names only
  invalid_parameter,      ///< `created`/`expires` not Boolean true, `keyid`/`alg`/`nonce`/`tag` not a String
  unsupported_parameter,  ///< a parameter whose meaning the signer does not know
  wrong_key,              ///< `keyid` names another key than the signer's
  wrong_algorithm,        ///< `alg` names another algorithm than the key's
};

/// A short name for logs.
[[nodiscard]] constexpr std::string_view describe(accept_error e) noexcept {
  switch (e) {
    case accept_error::component_parameters: return "requested component has parameters";
    case accept_error::invalid_parameter: return "requested parameter has the wrong type";
    case accept_error::unsupported_parameter: return "requested parameter not supported";
    case accept_error::wrong_key: return "requested key id is not the signer's";
    case accept_error::wrong_algorithm: return "requested algorithm is not the key's";
  }
  return "unknown";
}

/// Which part of the request `profile_for` cannot meet, and why.
struct accept_failure {
  accept_error code = accept_error::unsupported_parameter;
  std::string what;  ///< the component or parameter as it was requested
};

/// The outcome of `profile_for` (`std::expected` member names).
class [[nodiscard]] accept_result {
 public:
  accept_result(signing_profile v) : m_v(std::in_place_index<0>, std::move(v)) {}  // NOLINT: implicit by design
  accept_result(accept_failure f) : m_v(std::in_place_index<1>, std::move(f)) {}   // NOLINT: implicit by design

  [[nodiscard]] bool has_value() const noexcept { return m_v.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  /// The profile; throws `sepal::error(invalid_argument)` on a failure.
  [[nodiscard]] const signing_profile& value() const& {
    if (!has_value()) throw sepal::error(errc::invalid_argument);
    return std::get<0>(m_v);
  }
  [[nodiscard]] const signing_profile& operator*() const& noexcept { return *std::get_if<0>(&m_v); }
  [[nodiscard]] const signing_profile* operator->() const noexcept { return std::get_if<0>(&m_v); }
  /// The failure; meaningless on success.
  [[nodiscard]] const accept_failure& error() const noexcept {
    static const accept_failure none{};
    const auto* f = std::get_if<1>(&m_v);
    return f ? *f : none;
  }

 private:
  std::variant<signing_profile, accept_failure> m_v;
};

/// A signing profile that meets one Accept-Signature request (RFC 9421
/// §5.2) for a signer holding `key` under `keyid`: the requested label, the
/// requested components added to `base`'s, `created` always, `expires` (from
/// `base.lifetime`, 300 s if that is 0) when asked, the requested `nonce`
/// and `tag` values, `alg` when asked. What the request leaves open comes
/// from `base` (a signer MAY add parameters, §5.2). A requested tag must be
/// `base`'s when `base` has one, and an empty nonce or tag is refused.
///
/// Errors: an `accept_failure` naming what cannot be met (`accept_error`);
/// never throws but for bad_alloc. Components the message lacks fail later,
/// at `sign_request`.
[[nodiscard]] inline accept_result profile_for(const accept_signature_entry& entry, std::string_view keyid,
                                               const signing_key& key, signing_profile base = {}) {
  const std::string base_tag = base.tag;
  signing_profile p = std::move(base);
  p.label = entry.label;
  // The requested components are added to the base's, never in place of
  // them: a requester cannot make the signer drop what its own profile
  // always covers (content-digest, @target-uri, ...).
  for (const auto& c : entry.request.items) {
    const auto& name = std::get<std::string>(c.value);
    if (!c.params.empty()) return accept_failure{accept_error::component_parameters, sf::serialize(sf::member(c))};
    if (std::find(p.components.begin(), p.components.end(), name) == p.components.end()) p.components.push_back(name);
  }
  bool wants_expires = false;
  for (const auto& [k, v] : entry.request.params) {
    const auto* b = std::get_if<bool>(&v);
    const auto* s = std::get_if<std::string>(&v);
    const bool flag = k == "created" || k == "expires";
    const bool valued = k == "keyid" || k == "alg" || k == "nonce" || k == "tag";
    if (!flag && !valued) return accept_failure{accept_error::unsupported_parameter, k};
    if ((flag && !(b && *b)) || (valued && s == nullptr)) return accept_failure{accept_error::invalid_parameter, k};
    if (k == "expires") wants_expires = true;
    if (k == "keyid" && *s != keyid) return accept_failure{accept_error::wrong_key, k};
    if (k == "alg") {
      if (*s != algorithm_name(key.alg())) return accept_failure{accept_error::wrong_algorithm, k};
      p.include_alg = true;
    }
    if (k == "nonce") {
      if (s->empty()) return accept_failure{accept_error::invalid_parameter, k};  // not "pick one for me"
      p.include_nonce = true;
      p.nonce = *s;
    }
    if (k == "tag") {
      // A tag binds a signature to one application (§2.3): the base's tag
      // is not replaced by another one the requester names.
      if (s->empty() || (!base_tag.empty() && *s != base_tag)) return accept_failure{accept_error::invalid_parameter, k};
      p.tag = *s;
    }
  }
  if (wants_expires && p.lifetime <= 0) p.lifetime = 300;
  return p;
}

}  // namespace sepal::http

#endif
