#ifndef SEPAL_HTTP_MESSAGE_HPP
#define SEPAL_HTTP_MESSAGE_HPP

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sepal::http {

/// One field line: a name (compared without regard to case) and its value.
struct field {
  std::string name;
  std::string value;
};

/// What request signing needs to know of an HTTP message, independent of any
/// HTTP library: method and target (requests) or status (responses), the
/// field lines in order, and the content (for Content-Digest).
///
/// `target_uri` is the absolute target URI (RFC 9110 §7.1), such as
/// `https://example.com/foo?param=Value`, or the request-target as it was
/// received in one of the other forms of RFC 9112 §3.2: origin-form
/// (`/foo?param=Value`), authority-form (`example.com:443`, CONNECT) or
/// asterisk-form (`*`, OPTIONS). For those the target URI is rebuilt as
/// RFC 9112 §3.3 says: the authority from the Host field, the scheme from
/// `scheme` (the one the request arrived over).
struct message {
  std::string method;      ///< requests: "GET", "POST"...
  std::string target_uri;  ///< requests: absolute URI, or origin-, authority- or asterisk-form
  std::string scheme;      ///< requests not in absolute form: "https" or "http" (RFC 9112 §3.3)
  int status = 0;          ///< responses: 100..999; 0 for requests
  std::vector<field> fields;
  std::string content;  ///< the body, for Content-Digest
  /// The trailer section (RFC 9110 §6.5): field lines sent after the
  /// content. Covered only with the `tr` parameter (RFC 9421 §2.1.4).
  std::vector<field> trailers;

  /// A request.
  [[nodiscard]] static message request(std::string method, std::string target_uri) {
    message m;
    m.method = std::move(method);
    m.target_uri = std::move(target_uri);
    return m;
  }
  /// A response.
  [[nodiscard]] static message response(int status) {
    message m;
    m.status = status;
    return m;
  }

  /// Appends a field line.
  message& add(std::string name, std::string value) {
    fields.push_back({std::move(name), std::move(value)});
    return *this;
  }
  /// The values of every line named `name` (any case), in order.
  [[nodiscard]] std::vector<std::string_view> values(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& f : fields)
      if (equal_ignoring_case(f.name, name)) out.push_back(f.value);
    return out;
  }
  /// Removes every line named `name` (any case).
  /// Appends a trailer field line.
  message& add_trailer(std::string name, std::string value) {
    trailers.push_back({std::move(name), std::move(value)});
    return *this;
  }
  /// The values of the trailer lines named `name` (any case), in order.
  [[nodiscard]] std::vector<std::string_view> trailer_values(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& f : trailers)
      if (equal_ignoring_case(f.name, name)) out.push_back(f.value);
    return out;
  }
  void remove(std::string_view name) {
    std::erase_if(fields, [&](const field& f) { return equal_ignoring_case(f.name, name); });
  }

  /// The target URI of a request that arrived in origin form (`/path?query`,
  /// RFC 9112 §3.2.1) with this Host, over `scheme`.
  [[nodiscard]] static std::string from_origin_form(std::string_view scheme, std::string_view host,
                                                    std::string_view origin_form) {
    return std::string(scheme) + "://" + std::string(host) + std::string(origin_form);
  }

  /// ASCII case-insensitive equality (field names, schemes, hosts).
  [[nodiscard]] static bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (lower(a[i]) != lower(b[i])) return false;
    return true;
  }
  /// ASCII lower case.
  [[nodiscard]] static constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }
};

/// Why a request's target cannot be split into the parts RFC 9421 §2.2
/// derives components from.
enum class uri_error {
  empty,                ///< no target at all
  invalid_scheme,       ///< absolute form with a scheme that is not ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  missing_authority,    ///< absolute form without "//" authority, or an empty host
  userinfo,             ///< "user@" in the authority: deprecated and not to be sent (RFC 9110 §4.2.4)
  invalid_character,    ///< a control, space or non-ASCII byte: the target must be percent-encoded
  missing_host,         ///< origin-, authority- or asterisk-form without exactly one valid Host field
  missing_scheme,       ///< origin-, authority- or asterisk-form and `message::scheme` is empty
};

/// A short name for logs.
[[nodiscard]] constexpr std::string_view describe(uri_error e) noexcept {
  switch (e) {
    case uri_error::empty: return "no request target";
    case uri_error::invalid_scheme: return "invalid URI scheme";
    case uri_error::missing_authority: return "absolute URI without an authority";
    case uri_error::userinfo: return "userinfo in the target URI";
    case uri_error::invalid_character: return "control, space or non-ASCII character in the target";
    case uri_error::missing_host: return "no single valid Host field for a non-absolute target";
    case uri_error::missing_scheme: return "message::scheme not set for a non-absolute target";
  }
  return "unknown";
}

/// A target URI split into the parts RFC 9421 §2.2 derives components from.
struct uri_parts {
  std::string scheme;     ///< lower case
  std::string authority;  ///< lower-case host, default port removed (RFC 9421 §2.2.3)
  std::string path;       ///< "/" when empty (RFC 9421 §2.2.6)
  std::optional<std::string> query;  ///< without "?"; nullopt when there is no "?"
  /// The request-target (RFC 9421 §2.2.5): path and query for absolute and
  /// origin form, the authority for authority form, "*" for asterisk form.
  std::string request_target;
  /// False for authority and asterisk form: no path or query to sign.
  bool has_path = true;

  /// Splits the absolute URI `uri` (scheme "://" authority path ["?" query]
  /// ["#" fragment]; the fragment is not part of a target URI, RFC 9110
  /// §7.1, and is dropped); the precise reason when it cannot.
  [[nodiscard]] static std::variant<uri_parts, uri_error> parse_absolute(std::string_view uri) {
    if (uri.empty()) return uri_error::empty;
    for (char c : uri)
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
        return uri_error::invalid_character;
    if (const auto hash = uri.find('#'); hash != std::string_view::npos) uri = uri.substr(0, hash);
    const auto colon = uri.find(':');
    if (colon == std::string_view::npos || colon == 0) return uri_error::invalid_scheme;
    uri_parts p;
    for (std::size_t i = 0; i < colon; ++i) {  // RFC 3986 §3.1
      const char c = uri[i];
      const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!(alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))))
        return uri_error::invalid_scheme;
      p.scheme.push_back(message::lower(c));
    }
    if (uri.substr(colon + 1, 2) != "//") return uri_error::missing_authority;
    auto rest = uri.substr(colon + 3);
    const auto path_at = rest.find_first_of("/?");
    const auto authority = rest.substr(0, path_at);
    if (authority.find('@') != std::string_view::npos) return uri_error::userinfo;
    if (!set_authority(p, authority)) return uri_error::missing_authority;
    rest = path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at);
    set_path_query(p, rest);
    return p;
  }

  /// Splits `uri` as `parse_absolute`; nullopt when it cannot.
  [[nodiscard]] static std::optional<uri_parts> parse(std::string_view uri) {
    auto r = parse_absolute(uri);
    if (auto* p = std::get_if<uri_parts>(&r)) return std::move(*p);
    return std::nullopt;
  }

  /// The parts of a request's target in any form of RFC 9112 §3.2, the
  /// target URI rebuilt as §3.3 says for the non-absolute ones (Host field
  /// and `message::scheme`); the precise reason when it cannot.
  [[nodiscard]] static std::variant<uri_parts, uri_error> of(const message& m) {
    const std::string_view t = m.target_uri;
    if (t.empty()) return uri_error::empty;
    const bool origin = t.front() == '/';
    const bool asterisk = t == "*" && m.method == "OPTIONS";            // RFC 9112 §3.2.4
    const bool authority_form = m.method == "CONNECT" && !origin &&     // RFC 9112 §3.2.3
                                t.find_first_of("/?#@") == std::string_view::npos;
    if (!origin && !asterisk && !authority_form) return parse_absolute(t);
    for (char c : t)
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
        return uri_error::invalid_character;
    uri_parts p;
    if (m.scheme.empty()) return uri_error::missing_scheme;
    for (char c : m.scheme) p.scheme.push_back(message::lower(c));
    if (authority_form) {
      // RFC 9112 §3.2.3: CONNECT's target is the authority itself.
      if (!set_authority(p, t)) return uri_error::missing_authority;
      p.request_target = std::string(t);
      p.has_path = false;
      return p;
    }
    const auto hosts = m.values("host");  // RFC 9112 §3.2: exactly one Host field
    if (hosts.size() != 1 || hosts[0].find('@') != std::string_view::npos) return uri_error::missing_host;
    std::string_view host = hosts[0];
    while (!host.empty() && (host.front() == ' ' || host.front() == '\t')) host.remove_prefix(1);
    while (!host.empty() && (host.back() == ' ' || host.back() == '\t')) host.remove_suffix(1);
    for (char c : host)
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '/' || c == '?' ||
          c == '#')
        return uri_error::missing_host;
    if (!set_authority(p, host)) return uri_error::missing_host;
    if (asterisk) {  // RFC 9112 §3.2.4, §3.3: an empty path and query; @request-target is "*"
      p.request_target = "*";
      p.has_path = false;
      return p;
    }
    auto target = t.substr(0, t.find('#'));
    set_path_query(p, target);
    return p;
  }

 private:
  static bool set_authority(uri_parts& p, std::string_view authority) {
    if (authority.empty() || authority.front() == ':') return false;
    p.authority.clear();
    for (char c : authority) p.authority.push_back(message::lower(c));
    const auto default_port = p.scheme == "https" ? std::string_view(":443") : p.scheme == "http" ? ":80" : "";
    if (!default_port.empty() && p.authority.ends_with(default_port))
      p.authority.resize(p.authority.size() - default_port.size());
    if (p.authority.ends_with(':')) p.authority.pop_back();  // an empty port is the default (RFC 3986 §6.2.3)
    return !p.authority.empty();
  }
  static void set_path_query(uri_parts& p, std::string_view rest) {
    const auto q = rest.find('?');
    p.path = std::string(rest.substr(0, q));
    if (p.path.empty()) p.path.push_back('/');  // not = "/": GCC 12 -Wrestrict false positive (PR 105329)
    if (q != std::string_view::npos) p.query = std::string(rest.substr(q + 1));
    p.request_target = p.path + (p.query ? "?" + *p.query : "");
  }
};

}  // namespace sepal::http

#endif
