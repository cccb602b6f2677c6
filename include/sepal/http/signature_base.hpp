#ifndef SEPAL_HTTP_SIGNATURE_BASE_HPP
#define SEPAL_HTTP_SIGNATURE_BASE_HPP

#include <botan/base64.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "../detail/bytes.hpp"
#include "message.hpp"
#include "structured_fields.hpp"

namespace sepal::http {

/// Why a signature base could not be built. The verifier reports these as
/// `verify_failure::component` (for logs); callers building a base to sign
/// get them directly.
enum class base_error {
  missing_component,      ///< a covered field is absent, or a derived component does not apply
  invalid_component,      ///< an identifier that is not a lower-case name, an unknown derived
                          ///< component, @signature-params, or an unsupported parameter
  duplicate_component,    ///< the same identifier twice (RFC 9421 §2.5)
  invalid_value,          ///< a value with control or non-ASCII characters, or not the structured
                          ///< type `sf`/`key` asked for
  invalid_target,         ///< a URI-derived component of a request whose target cannot be used
                          ///< (`base_failure::uri` says why)
  no_request,             ///< `req` (RFC 9421 §2.4) on a component, but no related request was
                          ///< given (sign and verify a response with its request for that)
};

/// The structured type of a field, for the `sf` and `key` parameters
/// (RFC 9421 §2.1.1, §2.1.2): the verifier must know it.
enum class field_type { list, dictionary, item };

/// Fields whose structured types sepal knows: the signature and digest
/// fields (RFC 9421 §4, RFC 9530 §2-4). Pass others to `signature_base`.
inline constexpr std::pair<std::string_view, field_type> known_field_types[] = {
    {"signature", field_type::dictionary},       {"signature-input", field_type::dictionary},
    {"accept-signature", field_type::dictionary}, {"content-digest", field_type::dictionary},
    {"repr-digest", field_type::dictionary},     {"want-content-digest", field_type::dictionary},
    {"want-repr-digest", field_type::dictionary},
};

/// The covered components and signature parameters of one signature: the
/// value of its Signature-Input member (RFC 9421 §2.3), an Inner List of
/// component identifiers (Strings with parameters) with parameters
/// `created`, `expires`, `nonce`, `alg`, `keyid`, `tag`.
class signature_params {
 public:
  signature_params() = default;

  /// Adds a covered component: a lower-case field name or a derived
  /// component (`@method`, `@target-uri`, `@authority`, `@scheme`,
  /// `@request-target`, `@path`, `@query`, `@status`), with optional
  /// parameters (`sf`, `key`, `name`, `bs`, `tr` for a trailer field, `req`
  /// for a component of the request a response answers, RFC 9421 §2.4).
  signature_params& cover(std::string name, sf::parameters params = {}) {
    m_list.items.push_back({std::move(name), std::move(params)});
    return *this;
  }
  /// `@query-param` with its `name` (RFC 9421 §2.2.8).
  signature_params& cover_query_param(std::string name) {
    return cover("@query-param", {{"name", std::move(name)}});
  }
  signature_params& created(std::int64_t t) { return set("created", t); }  ///< Unix seconds
  signature_params& expires(std::int64_t t) { return set("expires", t); }  ///< Unix seconds
  signature_params& keyid(std::string v) { return set("keyid", std::move(v)); }
  signature_params& alg(std::string v) { return set("alg", std::move(v)); }
  signature_params& nonce(std::string v) { return set("nonce", std::move(v)); }
  signature_params& tag(std::string v) { return set("tag", std::move(v)); }

  /// Adds any other signature parameter (RFC 9421 §2.3: every parameter
  /// is part of `@signature-params`, so it is signed): a registered one
  /// (IANA "HTTP Signature Metadata Parameters") or an application's
  /// extension, as an RFC 8941 Bare Item. Unlike the setters above it never
  /// replaces: `sign` refuses a key given twice (`param_error::duplicate`),
  /// one that is not an RFC 8941 key (`invalid_key`), a fixed parameter of
  /// the wrong type (`wrong_type`) and a value RFC 8941 cannot carry
  /// (`invalid_value`).
  signature_params& param(std::string key, sf::bare_item value) {
    m_list.params.emplace_back(std::move(key), std::move(value));
    return *this;
  }
  /// All signature parameters, in order (the fixed ones and any others).
  [[nodiscard]] const sf::parameters& params() const noexcept { return m_list.params; }

  [[nodiscard]] std::optional<std::int64_t> created() const { return integer("created"); }
  [[nodiscard]] std::optional<std::int64_t> expires() const { return integer("expires"); }
  [[nodiscard]] std::optional<std::string> keyid() const { return text("keyid"); }
  [[nodiscard]] std::optional<std::string> alg() const { return text("alg"); }
  [[nodiscard]] std::optional<std::string> nonce() const { return text("nonce"); }
  [[nodiscard]] std::optional<std::string> tag() const { return text("tag"); }

  /// The covered component identifiers, in order.
  [[nodiscard]] const std::vector<sf::item>& components() const noexcept { return m_list.items; }
  /// True when the component `name` of this message is covered whole: by
  /// its plain identifier, or with `sf` or `bs` (other encodings of the same
  /// field). A component with `req` (the related request's, RFC 9421 §2.4),
  /// `tr` (a trailer, §2.1.4), `key` (one Dictionary member, §2.1.2) or
  /// `name` (one query parameter, §2.2.8) does not count: it signs something
  /// else, and counting it would let, say, a signed trailer Content-Digest
  /// stand for the unsigned header the body is checked against.
  [[nodiscard]] bool covers(std::string_view name) const noexcept {
    for (const auto& c : m_list.items) {
      const auto* s = std::get_if<std::string>(&c.value);
      if (s == nullptr || *s != name) continue;
      const bool partial = std::any_of(c.params.begin(), c.params.end(), [](const auto& p) {
        return p.first == "req" || p.first == "tr" || p.first == "key" || p.first == "name";
      });
      if (!partial) return true;
    }
    return false;
  }
  /// The Inner List, as it appears in Signature-Input and in the base.
  [[nodiscard]] const sf::inner_list& inner_list() const noexcept { return m_list; }

  /// From a parsed Signature-Input member; nullopt unless it is an Inner
  /// List of Strings and the known parameters have their types
  /// (`created`/`expires` Integers, the others Strings).
  [[nodiscard]] static std::optional<signature_params> from_member(const sf::member& m) {
    const auto* l = std::get_if<sf::inner_list>(&m);
    if (l == nullptr) return std::nullopt;
    for (const auto& i : l->items)
      if (!std::holds_alternative<std::string>(i.value)) return std::nullopt;
    for (const auto& [k, v] : l->params) {
      const bool want_int = k == "created" || k == "expires";
      const bool want_string = k == "keyid" || k == "alg" || k == "nonce" || k == "tag";
      if ((want_int && !std::holds_alternative<std::int64_t>(v)) ||
          (want_string && !std::holds_alternative<std::string>(v)))
        return std::nullopt;
    }
    signature_params p;
    p.m_list = *l;
    return p;
  }

 private:
  signature_params& set(std::string key, sf::bare_item v) {
    for (auto& [k, old] : m_list.params) {
      if (k == key) {
        old = std::move(v);
        return *this;
      }
    }
    m_list.params.emplace_back(std::move(key), std::move(v));
    return *this;
  }
  [[nodiscard]] std::optional<std::int64_t> integer(std::string_view key) const {
    const auto* v = sf::find(m_list.params, key);
    const auto* i = v ? std::get_if<std::int64_t>(v) : nullptr;
    return i ? std::optional(*i) : std::nullopt;
  }
  [[nodiscard]] std::optional<std::string> text(std::string_view key) const {
    const auto* v = sf::find(m_list.params, key);
    const auto* s = v ? std::get_if<std::string>(v) : nullptr;
    return s ? std::optional(*s) : std::nullopt;
  }

  sf::inner_list m_list;
};

namespace detail {

/// The UTF-8 decoder of the Encoding Standard (§4.1.1 "UTF-8 decoder", as
/// "UTF-8 decode without BOM" uses it): each maximal ill-formed subpart
/// becomes U+FFFD, written back as its UTF-8 bytes EF BF BD.
inline std::string utf8_with_replacement(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::size_t i = 0;
  while (i < in.size()) {
    const auto b = static_cast<unsigned char>(in[i]);
    std::size_t needed = 0;
    unsigned char lower = 0x80, upper = 0xBF;
    if (b <= 0x7F) {
      out.push_back(in[i++]);
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      needed = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      needed = 2;
      if (b == 0xE0) lower = 0xA0;
      if (b == 0xED) upper = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      needed = 3;
      if (b == 0xF0) lower = 0x90;
      if (b == 0xF4) upper = 0x8F;
    } else {
      out += replacement;  // 0x80..0xC1, 0xF5..0xFF: never a lead byte
      ++i;
      continue;
    }
    std::size_t seen = 1;
    bool ok = true;
    for (; seen <= needed; ++seen) {
      if (i + seen >= in.size()) {
        ok = false;
        break;
      }
      const auto c = static_cast<unsigned char>(in[i + seen]);
      if (c < lower || c > upper) {
        ok = false;  // the byte is not consumed: it starts the next sequence
        break;
      }
      lower = 0x80;
      upper = 0xBF;
    }
    if (ok) {
      out.append(in.substr(i, needed + 1));
      i += needed + 1;
    } else {
      out += replacement;
      i += seen;
    }
  }
  return out;
}

/// One name or value of an application/x-www-form-urlencoded string, as
/// the URL Standard's parser (§5.1 step 3.4-3.5) yields it: '+' becomes a
/// space, then percent-decoding (%XX a byte, a '%' not followed by two hex
/// digits stays), then UTF-8 decoding without BOM, with replacement. Then
/// RFC 9421 §2.2.8's re-encoding: every byte of the UTF-8 result outside
/// ALPHA / DIGIT / "*" / "-" / "." / "_" as %XX with upper-case hex
/// (URL Standard §5.2's application/x-www-form-urlencoded percent-encode
/// set, with a space as %20 rather than '+').
inline std::string query_reencode(std::string_view in) {
  std::string decoded;
  decoded.reserve(in.size());
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  bool high = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      decoded.push_back(' ');
    } else if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      decoded.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
    } else {
      decoded.push_back(in[i]);
    }
    high = high || static_cast<unsigned char>(decoded.back()) >= 0x80;
  }
  if (high) decoded = utf8_with_replacement(decoded);
  std::string out;
  out.reserve(decoded.size());
  constexpr char digits[] = "0123456789ABCDEF";
  for (char c : decoded) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '*' || b == '-' ||
        b == '.' || b == '_') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(digits[b >> 4]);
      out.push_back(digits[b & 15]);
    }
  }
  return out;
}

/// A field line's value as RFC 9421 §2.1 canonicalizes it: each obs-fold
/// replaced by one space (step 3; RFC 9112 §5.2: `obs-fold = OWS CRLF RWS`,
/// so the whitespace before the line break goes too), leading and trailing
/// whitespace removed. A bare LF is treated as CRLF.
inline std::string canonical_line(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\r' || v[i] == '\n') {
      while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();  // the fold's OWS
      while (i + 1 < v.size() && (v[i + 1] == '\r' || v[i + 1] == '\n' || v[i + 1] == ' ' || v[i + 1] == '\t')) ++i;
      out.push_back(' ');
    } else {
      out.push_back(v[i]);
    }
  }
  const auto first = out.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = out.find_last_not_of(" \t");
  return out.substr(first, last - first + 1);
}

/// Signature base lines hold visible ASCII, space and tab only.
inline bool printable(std::string_view v) noexcept {
  for (char c : v) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && b != '\t') || b >= 0x7f) return false;
  }
  return true;
}

struct value_or_error {
  std::string value;
  std::optional<base_error> error;
  std::optional<uri_error> uri = std::nullopt;
};

inline value_or_error fail(base_error e) { return {{}, e}; }

inline std::optional<field_type> type_of(std::string_view name,
                                         std::span<const std::pair<std::string_view, field_type>> extra) {
  for (const auto& [n, t] : known_field_types)
    if (n == name) return t;
  for (const auto& [n, t] : extra)
    if (n == name) return t;
  return std::nullopt;
}

inline value_or_error field_value(const message& m, const sf::item& id, std::string_view name,
                                  std::span<const std::pair<std::string_view, field_type>> types) {
  if (name.empty()) return fail(base_error::invalid_component);
  for (char c : name)
    if (!(sf::detail::is_lcalpha(c) || sf::detail::is_digit(c) || sf::detail::is_tchar(c)) || (c >= 'A' && c <= 'Z'))
      return fail(base_error::invalid_component);
  const bool want_sf = sf::find(id.params, "sf") != nullptr;
  const bool want_bs = sf::find(id.params, "bs") != nullptr;
  const bool trailer = sf::find(id.params, "tr") != nullptr;  // RFC 9421 §2.1.4: from the trailer section
  const auto* key = sf::find(id.params, "key");
  for (const auto& [k, v] : id.params)  // `req` chose `m` already (§2.4)
    if (k != "sf" && k != "bs" && k != "key" && k != "tr" && k != "req") return fail(base_error::invalid_component);
  if ((want_bs && (want_sf || key)) || (key && !std::holds_alternative<std::string>(*key)))
    return fail(base_error::invalid_component);
  const auto lines = trailer ? m.trailer_values(name) : m.values(name);
  if (lines.empty()) return fail(base_error::missing_component);
  std::string joined;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i) joined += ", ";
    if (want_bs) {  // §2.1.3: each line, trimmed, as a Byte Sequence
      const auto line = canonical_line(lines[i]);
      const auto b = sepal::detail::bytes_of(line);
      joined += ':' + Botan::base64_encode(b.data(), b.size()) + ':';
    } else {
      joined += canonical_line(lines[i]);
    }
  }
  if (!printable(joined)) return fail(base_error::invalid_value);
  if (!want_sf && !key) return {joined, std::nullopt};
  const auto type = key ? std::optional(field_type::dictionary) : type_of(name, types);
  if (!type) return fail(base_error::invalid_component);  // §2.1.1: the type must be known
  switch (*type) {
    case field_type::dictionary: {
      const auto dict = sf::parse_dictionary(joined);
      if (!dict) return fail(base_error::invalid_value);
      if (!key) return {sf::serialize(*dict), std::nullopt};
      const auto* member = sf::find(*dict, std::get<std::string>(*key));  // §2.1.2
      if (member == nullptr) return fail(base_error::missing_component);
      return {sf::serialize(*member), std::nullopt};
    }
    case field_type::list: {
      const auto list = sf::parse_list(joined);
      if (!list) return fail(base_error::invalid_value);
      return {sf::serialize(*list), std::nullopt};
    }
    case field_type::item: {
      const auto item = sf::parse_item(joined);
      if (!item) return fail(base_error::invalid_value);
      return {sf::serialize(sf::member(*item)), std::nullopt};
    }
  }
  return fail(base_error::invalid_value);
}

inline value_or_error derived_value(const message& m, const sf::item& id, std::string_view name) {
  const bool is_query_param = name == "@query-param";
  for (const auto& [k, v] : id.params)  // `req` chose `m` already (§2.4); `tr` is for fields only
    if (!(is_query_param && k == "name") && k != "req") return fail(base_error::invalid_component);
  if (name == "@status") {
    if (m.status < 100 || m.status > 999) return fail(base_error::missing_component);
    return {std::to_string(m.status), std::nullopt};
  }
  if (m.status != 0) return fail(base_error::missing_component);  // request components on a response
  if (name == "@method") {
    if (m.method.empty() || !printable(m.method)) return fail(base_error::missing_component);
    return {m.method, std::nullopt};
  }
  const bool from_uri = name == "@target-uri" || name == "@authority" || name == "@scheme" || name == "@path" ||
                        name == "@query" || name == "@request-target" || is_query_param;
  if (!from_uri) return fail(base_error::invalid_component);  // unknown, or @signature-params
  const auto parsed = uri_parts::of(m);
  if (const auto* e = std::get_if<uri_error>(&parsed)) return {{}, base_error::invalid_target, *e};
  const auto* uri = &std::get<uri_parts>(parsed);
  // The URI as both ends can rebuild it: scheme and host in lower case, no
  // default port, "/" for an empty path (RFC 9110 §4.2.3 normalization);
  // for authority and asterisk form, no path or query (RFC 9112 §3.3).
  if (name == "@target-uri")
    return {uri->scheme + "://" + uri->authority + (uri->has_path ? uri->request_target : std::string()), std::nullopt};
  if (name == "@authority") return {uri->authority, std::nullopt};
  if (name == "@scheme") return {uri->scheme, std::nullopt};
  if (name == "@request-target") return {uri->request_target, std::nullopt};  // §2.2.5
  if (!uri->has_path) return fail(base_error::missing_component);  // CONNECT, OPTIONS *: no path, no query
  if (name == "@path") return {uri->path, std::nullopt};
  if (name == "@query") return {"?" + uri->query.value_or(""), std::nullopt};
  if (is_query_param) {
    const auto* want = sf::find(id.params, "name");
    const auto* wanted = want ? std::get_if<std::string>(want) : nullptr;
    if (wanted == nullptr) return fail(base_error::invalid_component);
    std::optional<std::string> found;
    const std::string query = uri->query.value_or("");
    std::string_view q = query;
    while (!q.empty()) {
      const auto amp = q.find('&');
      const auto pair = q.substr(0, amp);
      q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
      if (pair.empty()) continue;
      const auto eq = pair.find('=');
      if (query_reencode(pair.substr(0, eq)) != *wanted) continue;
      if (found) return fail(base_error::missing_component);  // §2.2.8: a repeated name is not signable
      found = eq == std::string_view::npos ? std::string{} : query_reencode(pair.substr(eq + 1));
    }
    if (!found) return fail(base_error::missing_component);
    return {*found, std::nullopt};
  }
  return fail(base_error::invalid_component);  // unknown, or @signature-params
}

}  // namespace detail

/// Which covered component a signature base could not be built for, and
/// why: for logs and for the signer's caller. Never send it to a client.
struct base_failure {
  base_error code = base_error::invalid_component;
  std::optional<uri_error> uri;  ///< for `invalid_target`: what is wrong with the target
  std::size_t index = 0;   ///< position of the component in the covered list
  std::string component;   ///< the component identifier as serialized, e.g. `"@query-param";name="id"`
};

/// A short name for logs.
[[nodiscard]] constexpr std::string_view describe(base_error e) noexcept {
  switch (e) {
    case base_error::missing_component: return "component missing from the message";
    case base_error::invalid_component: return "invalid or unsupported component identifier";
    case base_error::duplicate_component: return "component covered twice";
    case base_error::invalid_value: return "component value not allowed or not of its structured type";
    case base_error::invalid_target: return "request target unusable for URI components";
    case base_error::no_request: return "req component without the related request";
  }
  return "unknown";
}

namespace detail {

inline std::variant<std::string, base_failure> build_base(
    const message& msg, const message* request, const signature_params& params,
    std::span<const std::pair<std::string_view, field_type>> extra_types) {
  std::string base;
  const auto& items = params.components();
  const auto failure = [&](base_error e, std::size_t i, std::optional<uri_error> uri = std::nullopt) {
    return base_failure{e, uri, i, sf::serialize(sf::member(items[i]))};
  };
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& id = items[i];
    for (std::size_t j = 0; j < i; ++j)
      if (items[j] == id) return failure(base_error::duplicate_component, i);
    const auto& name = std::get<std::string>(id.value);
    // RFC 9421 §2.4: `req` takes the component from the request that
    // triggered this response; it has no meaning on a request.
    const message* from = &msg;
    if (sf::find(id.params, "req") != nullptr) {
      if (msg.status == 0) return failure(base_error::invalid_component, i);
      if (request == nullptr) return failure(base_error::no_request, i);
      from = request;
    }
    const auto v = !name.empty() && name[0] == '@' ? derived_value(*from, id, name)
                                                   : field_value(*from, id, name, extra_types);
    if (v.error) return failure(*v.error, i, v.uri);
    base += sf::serialize(sf::member(id));
    base += ": ";
    base += v.value;
    base += '\n';
  }
  base += "\"@signature-params\": ";
  base += sf::serialize(sf::member(params.inner_list()));
  return base;
}

}  // namespace detail

/// The signature base (RFC 9421 §2.5) of `msg` for `params`, or which
/// component could not be derived and why (`base_failure`).
/// `extra_types` adds structured field types for the `sf` parameter.
/// A component with `req` fails as `no_request` (use the overload with the
/// request). Never throws but for bad_alloc.
[[nodiscard]] inline std::variant<std::string, base_failure> build_signature_base(
    const message& msg, const signature_params& params,
    std::span<const std::pair<std::string_view, field_type>> extra_types = {}) {
  return detail::build_base(msg, nullptr, params, extra_types);
}

/// The signature base of `response` for `params`, where components with
/// the `req` parameter come from `request`, the request it answers (RFC
/// 9421 §2.4: `"@method";req`, `"@authority";req`, `"content-digest";req`,
/// ...). Never throws but for bad_alloc.
[[nodiscard]] inline std::variant<std::string, base_failure> build_signature_base(
    const message& response, const message& request, const signature_params& params,
    std::span<const std::pair<std::string_view, field_type>> extra_types = {}) {
  return detail::build_base(response, &request, params, extra_types);
}

/// The signature base (RFC 9421 §2.5) of `msg` for `params`: one line per
/// covered component, `"<identifier>": <value>`, then
/// `"@signature-params": <inner list>`, joined by LF with none at the end.
/// `extra_types` adds structured field types for the `sf` parameter.
///
/// Errors (never throws but for bad_alloc): the first component that cannot
/// be derived, as `base_error` (`build_signature_base` also says which).
[[nodiscard]] inline std::variant<std::string, base_error> signature_base(
    const message& msg, const signature_params& params,
    std::span<const std::pair<std::string_view, field_type>> extra_types = {}) {
  auto b = build_signature_base(msg, params, extra_types);
  if (auto* f = std::get_if<base_failure>(&b)) return f->code;
  return std::move(std::get<std::string>(b));
}

/// `signature_base` of a response whose `req` components come from
/// `request` (RFC 9421 §2.4).
[[nodiscard]] inline std::variant<std::string, base_error> signature_base(
    const message& response, const message& request, const signature_params& params,
    std::span<const std::pair<std::string_view, field_type>> extra_types = {}) {
  auto b = build_signature_base(response, request, params, extra_types);
  if (auto* f = std::get_if<base_failure>(&b)) return f->code;
  return std::move(std::get<std::string>(b));
}

}  // namespace sepal::http

#endif
