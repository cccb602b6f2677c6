#ifndef SEPAL_HTTP_MESSAGE_HPP
#define SEPAL_HTTP_MESSAGE_HPP

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sepal::http {

/// One field line: a name (compared without regard to case) and its value.
struct field {
  std::string name;
  std::string value;
};

/// What request signing needs to know of an HTTP message, independent of any
/// HTTP library: method and target URI (requests) or status (responses), the
/// field lines in order, and the content (for Content-Digest).
///
/// `target_uri` is the absolute target URI (RFC 9110 §7.1), such as
/// `https://example.com/foo?param=Value`; servers rebuild it from the
/// request line and Host (`from_origin_form`).
struct message {
  std::string method;      ///< requests: "GET", "POST"...
  std::string target_uri;  ///< requests: scheme://authority/path?query
  int status = 0;          ///< responses: 100..999; 0 for requests
  std::vector<field> fields;
  std::string content;  ///< the body, for Content-Digest

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

/// A target URI split into the parts RFC 9421 §2.2 derives components from.
struct uri_parts {
  std::string scheme;     ///< lower case
  std::string authority;  ///< lower-case host, default port removed (RFC 9421 §2.2.3)
  std::string path;       ///< "/" when empty (RFC 9421 §2.2.6)
  std::optional<std::string> query;  ///< without "?"; nullopt when there is no "?"

  /// Splits `uri` (scheme "://" authority path ["?" query], no fragment, no
  /// userinfo); nullopt for anything else.
  [[nodiscard]] static std::optional<uri_parts> parse(std::string_view uri) {
    const auto colon = uri.find("://");
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    uri_parts p;
    for (char c : uri.substr(0, colon)) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
            c == '.'))
        return std::nullopt;
      p.scheme.push_back(message::lower(c));
    }
    auto rest = uri.substr(colon + 3);
    if (rest.find('#') != std::string_view::npos) return std::nullopt;
    const auto path_at = rest.find_first_of("/?");
    const auto authority = rest.substr(0, path_at);
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
    for (char c : authority) {
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return std::nullopt;
      p.authority.push_back(message::lower(c));
    }
    const auto default_port = p.scheme == "https" ? std::string_view(":443") : p.scheme == "http" ? ":80" : "";
    if (!default_port.empty() && p.authority.ends_with(default_port))
      p.authority.resize(p.authority.size() - default_port.size());
    rest = path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at);
    const auto q = rest.find('?');
    p.path = std::string(rest.substr(0, q));
    if (p.path.empty()) p.path.push_back('/');  // not = "/": GCC 12 -Wrestrict false positive (PR 105329)
    if (q != std::string_view::npos) p.query = std::string(rest.substr(q + 1));
    for (char c : rest)
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return std::nullopt;
    return p;
  }
};

}  // namespace sepal::http

#endif
