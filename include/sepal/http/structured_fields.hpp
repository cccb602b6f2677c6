#ifndef SEPAL_HTTP_STRUCTURED_FIELDS_HPP
#define SEPAL_HTTP_STRUCTURED_FIELDS_HPP

#include <botan/base64.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sepal::http::sf {

/// Structured Field Values (RFC 8941, as RFC 9651 keeps them): the strict,
/// bounded subset that HTTP Message Signatures and Digest Fields use:
/// Integers, Decimals, Strings, Tokens, Byte Sequences and Booleans, with
/// Parameters, Inner Lists, Lists and Dictionaries. (RFC 9651's Dates and
/// Display Strings are rejected.)
///
/// Security: parsers never throw and never read or allocate beyond the
/// limits below; anything outside them fails like a syntax error.

/// Input limits.
inline constexpr std::size_t max_field_size = 8192;   ///< bytes of one field value
inline constexpr std::size_t max_members = 64;        ///< list or dictionary members
inline constexpr std::size_t max_inner_items = 64;    ///< items in one inner list
inline constexpr std::size_t max_parameters = 32;     ///< parameters on one item or inner list

/// A Token (RFC 8941 §3.3.4), kept apart from String.
struct token {
  std::string value;
  friend bool operator==(const token&, const token&) = default;
};
/// A Decimal (§3.3.2), in thousandths.
struct decimal {
  std::int64_t thousandths = 0;
  friend bool operator==(const decimal&, const decimal&) = default;
};
/// A Byte Sequence (§3.3.5).
struct bytes {
  std::vector<std::uint8_t> value;
  friend bool operator==(const bytes&, const bytes&) = default;
};

/// A Bare Item (§3.3): Integer, Decimal, String, Token, Byte Sequence or Boolean.
using bare_item = std::variant<std::int64_t, decimal, std::string, token, bytes, bool>;
/// Parameters (§3.1.2): ordered key/value pairs; a later duplicate replaces the value.
using parameters = std::vector<std::pair<std::string, bare_item>>;

/// An Item (§3.3) with its parameters.
struct item {
  bare_item value;
  sf::parameters params;
  friend bool operator==(const item&, const item&) = default;
};
/// An Inner List (§3.1.1).
struct inner_list {
  std::vector<item> items;
  sf::parameters params;
  friend bool operator==(const inner_list&, const inner_list&) = default;
};
/// A List or Dictionary member.
using member = std::variant<item, inner_list>;
/// A List (§3.1).
using list = std::vector<member>;
/// A Dictionary (§3.2): ordered; a later duplicate key replaces the value in place.
using dictionary = std::vector<std::pair<std::string, member>>;

/// The value of parameter `key`, or nullptr.
[[nodiscard]] inline const bare_item* find(const parameters& params, std::string_view key) noexcept {
  for (const auto& [k, v] : params)
    if (k == key) return &v;
  return nullptr;
}
/// The member under `key`, or nullptr.
[[nodiscard]] inline const member* find(const dictionary& dict, std::string_view key) noexcept {
  for (const auto& [k, v] : dict)
    if (k == key) return &v;
  return nullptr;
}

namespace detail {

constexpr bool is_lcalpha(char c) noexcept { return c >= 'a' && c <= 'z'; }
constexpr bool is_alpha(char c) noexcept { return is_lcalpha(c) || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
/// tchar (RFC 9110 §5.6.2).
constexpr bool is_tchar(char c) noexcept {
  return is_alpha(c) || is_digit(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
constexpr bool is_key_char(char c) noexcept {
  return is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == '*';
}
constexpr bool is_base64_char(char c) noexcept {
  return is_alpha(c) || is_digit(c) || c == '+' || c == '/' || c == '=';
}

/// The RFC 8941 §4.2 parsing algorithms over a cursor. Every function
/// returns false (or nullopt) on the first error; nothing throws.
class parser {
 public:
  explicit parser(std::string_view in) noexcept : m_in(in) {}

  template <class T, class F>
  static std::optional<T> top(std::string_view in, F&& parse) noexcept {
    try {
      if (in.size() > max_field_size) return std::nullopt;
      parser p(in);
      p.skip_sp();
      auto out = parse(p);
      p.skip_sp();
      if (!out || !p.done()) return std::nullopt;
      return out;
    } catch (...) {  // bad_alloc, or Botan's base64 on input it rejects
      return std::nullopt;
    }
  }

  std::optional<dictionary> parse_dictionary() {
    dictionary out;
    while (!done()) {
      auto key = parse_key();
      if (!key) return std::nullopt;
      member value = item{true, {}};
      if (peek() == '=') {
        ++m_pos;
        auto m = parse_member();
        if (!m) return std::nullopt;
        value = std::move(*m);
      } else {
        auto params = parse_parameters();
        if (!params) return std::nullopt;
        value = item{true, std::move(*params)};
      }
      if (!put(out, std::move(*key), std::move(value), max_members)) return std::nullopt;
      if (!next_member()) return std::nullopt;
    }
    return out;
  }

  std::optional<list> parse_list() {
    list out;
    while (!done()) {
      auto m = parse_member();
      if (!m || out.size() == max_members) return std::nullopt;
      out.push_back(std::move(*m));
      if (!next_member()) return std::nullopt;
    }
    return out;
  }

  std::optional<item> parse_item() {
    auto v = parse_bare_item();
    if (!v) return std::nullopt;
    auto params = parse_parameters();
    if (!params) return std::nullopt;
    return item{std::move(*v), std::move(*params)};
  }

  [[nodiscard]] bool done() const noexcept { return m_pos == m_in.size(); }
  void skip_sp() noexcept {
    while (peek() == ' ') ++m_pos;
  }

 private:
  [[nodiscard]] char peek() const noexcept { return done() ? '\0' : m_in[m_pos]; }

  template <class Map, class V>
  static bool put(Map& map, std::string key, V value, std::size_t limit) {
    for (auto& [k, v] : map) {
      if (k == key) {
        v = std::move(value);
        return true;
      }
    }
    if (map.size() == limit) return false;
    map.emplace_back(std::move(key), std::move(value));
    return true;
  }

  // After a member: OWS, then end, or ',' OWS and another member (no trailing comma).
  bool next_member() noexcept {
    while (peek() == ' ' || peek() == '\t') ++m_pos;
    if (done()) return true;
    if (peek() != ',') return false;
    ++m_pos;
    while (peek() == ' ' || peek() == '\t') ++m_pos;
    return !done();
  }

  std::optional<member> parse_member() {
    if (peek() == '(') {
      auto l = parse_inner_list();
      if (!l) return std::nullopt;
      return member(std::move(*l));
    }
    auto i = parse_item();
    if (!i) return std::nullopt;
    return member(std::move(*i));
  }

  std::optional<inner_list> parse_inner_list() {
    ++m_pos;  // '('
    inner_list out;
    while (!done()) {
      skip_sp();
      if (peek() == ')') {
        ++m_pos;
        auto params = parse_parameters();
        if (!params) return std::nullopt;
        out.params = std::move(*params);
        return out;
      }
      auto i = parse_item();
      if (!i || out.items.size() == max_inner_items) return std::nullopt;
      out.items.push_back(std::move(*i));
      if (peek() != ' ' && peek() != ')') return std::nullopt;
    }
    return std::nullopt;  // no closing parenthesis
  }

  std::optional<parameters> parse_parameters() {
    parameters out;
    while (peek() == ';') {
      ++m_pos;
      skip_sp();
      auto key = parse_key();
      if (!key) return std::nullopt;
      bare_item value = true;
      if (peek() == '=') {
        ++m_pos;
        auto v = parse_bare_item();
        if (!v) return std::nullopt;
        value = std::move(*v);
      }
      if (!put(out, std::move(*key), std::move(value), max_parameters)) return std::nullopt;
    }
    return out;
  }

  std::optional<std::string> parse_key() {
    if (!is_lcalpha(peek()) && peek() != '*') return std::nullopt;
    const auto start = m_pos;
    while (!done() && is_key_char(peek())) ++m_pos;
    return std::string(m_in.substr(start, m_pos - start));
  }

  std::optional<bare_item> parse_bare_item() {
    const char c = peek();
    if (c == '-' || is_digit(c)) return parse_number();
    if (c == '"') return parse_string();
    if (c == ':') return parse_bytes();
    if (c == '?') return parse_boolean();
    if (is_alpha(c) || c == '*') return parse_token();
    return std::nullopt;
  }

  std::optional<bare_item> parse_number() {
    bool negative = false;
    if (peek() == '-') {
      negative = true;
      ++m_pos;
    }
    if (!is_digit(peek())) return std::nullopt;
    std::int64_t whole = 0;
    std::size_t digits = 0;
    while (is_digit(peek())) {
      if (++digits > 15) return std::nullopt;  // §3.3.1: at most 15 digits
      whole = whole * 10 + (peek() - '0');
      ++m_pos;
    }
    if (peek() != '.') return bare_item(negative ? -whole : whole);
    if (digits > 12) return std::nullopt;  // §3.3.2: at most 12 integer digits
    ++m_pos;
    std::int64_t frac = 0;
    std::size_t frac_digits = 0;
    while (is_digit(peek())) {
      if (++frac_digits > 3) return std::nullopt;
      frac = frac * 10 + (peek() - '0');
      ++m_pos;
    }
    if (frac_digits == 0) return std::nullopt;
    for (std::size_t i = frac_digits; i < 3; ++i) frac *= 10;
    const std::int64_t v = whole * 1000 + frac;
    return bare_item(decimal{negative ? -v : v});
  }

  std::optional<bare_item> parse_string() {
    ++m_pos;  // '"'
    std::string out;
    while (!done()) {
      const char c = m_in[m_pos++];
      if (c == '\\') {
        if (done() || (peek() != '"' && peek() != '\\')) return std::nullopt;
        out.push_back(m_in[m_pos++]);
      } else if (c == '"') {
        return bare_item(std::move(out));
      } else if (c < 0x20 || c > 0x7e) {
        return std::nullopt;
      } else {
        out.push_back(c);
      }
    }
    return std::nullopt;
  }

  std::optional<bare_item> parse_token() {
    const auto start = m_pos;
    ++m_pos;
    while (is_tchar(peek()) || peek() == ':' || peek() == '/') ++m_pos;
    return bare_item(token{std::string(m_in.substr(start, m_pos - start))});
  }

  std::optional<bare_item> parse_bytes() {
    ++m_pos;  // ':'
    const auto start = m_pos;
    while (!done() && is_base64_char(peek())) ++m_pos;
    if (peek() != ':') return std::nullopt;
    std::string b64(m_in.substr(start, m_pos - start));
    ++m_pos;
    // §4.2.7: tolerate missing '=' padding; Botan's decoder checks the rest.
    while (b64.size() % 4 != 0) b64.push_back('=');
    const auto decoded = Botan::base64_decode(b64, false);
    return bare_item(bytes{std::vector<std::uint8_t>(decoded.begin(), decoded.end())});
  }

  std::optional<bare_item> parse_boolean() {
    ++m_pos;  // '?'
    const char c = peek();
    if (c != '0' && c != '1') return std::nullopt;
    ++m_pos;
    return bare_item(c == '1');
  }

  std::string_view m_in;
  std::size_t m_pos = 0;
};

inline void serialize_bare(std::string& out, const bare_item& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    out += std::to_string(*i);
  } else if (const auto* d = std::get_if<decimal>(&v)) {
    const std::int64_t a = d->thousandths < 0 ? -d->thousandths : d->thousandths;
    if (d->thousandths < 0) out.push_back('-');
    out += std::to_string(a / 1000);
    out.push_back('.');
    std::string frac = std::to_string(1000 + a % 1000).substr(1);
    while (frac.size() > 1 && frac.back() == '0') frac.pop_back();  // §4.1.5: no trailing zeros
    out += frac;
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    out.push_back('"');
    for (char c : *s) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  } else if (const auto* t = std::get_if<token>(&v)) {
    out += t->value;
  } else if (const auto* b = std::get_if<bytes>(&v)) {
    out.push_back(':');
    out += Botan::base64_encode(b->value.data(), b->value.size());
    out.push_back(':');
  } else {
    out += std::get<bool>(v) ? "?1" : "?0";
  }
}

inline void serialize_params(std::string& out, const parameters& params) {
  for (const auto& [k, v] : params) {
    out.push_back(';');
    out += k;
    if (const auto* b = std::get_if<bool>(&v); b && *b) continue;
    out.push_back('=');
    serialize_bare(out, v);
  }
}

inline void serialize_member(std::string& out, const member& m) {
  if (const auto* i = std::get_if<item>(&m)) {
    serialize_bare(out, i->value);
    serialize_params(out, i->params);
    return;
  }
  const auto& l = std::get<inner_list>(m);
  out.push_back('(');
  for (std::size_t n = 0; n < l.items.size(); ++n) {
    if (n) out.push_back(' ');
    serialize_bare(out, l.items[n].value);
    serialize_params(out, l.items[n].params);
  }
  out.push_back(')');
  serialize_params(out, l.params);
}

}  // namespace detail

/// Parses a Dictionary field value (§4.2.2). Never throws.
[[nodiscard]] inline std::optional<dictionary> parse_dictionary(std::string_view in) noexcept {
  return detail::parser::top<dictionary>(in, [](detail::parser& p) { return p.parse_dictionary(); });
}
/// Parses a List field value (§4.2.1). Never throws.
[[nodiscard]] inline std::optional<list> parse_list(std::string_view in) noexcept {
  return detail::parser::top<list>(in, [](detail::parser& p) { return p.parse_list(); });
}
/// Parses an Item field value (§4.2.3). Never throws.
[[nodiscard]] inline std::optional<item> parse_item(std::string_view in) noexcept {
  return detail::parser::top<item>(in, [](detail::parser& p) { return p.parse_item(); });
}

/// Serializes a member: an item with its parameters, or an inner list (§4.1).
[[nodiscard]] inline std::string serialize(const member& m) {
  std::string out;
  detail::serialize_member(out, m);
  return out;
}
/// Serializes a List (§4.1.1).
[[nodiscard]] inline std::string serialize(const list& l) {
  std::string out;
  for (std::size_t n = 0; n < l.size(); ++n) {
    if (n) out += ", ";
    detail::serialize_member(out, l[n]);
  }
  return out;
}
/// Serializes a Dictionary (§4.1.2): a member that is Boolean true shows only its parameters.
[[nodiscard]] inline std::string serialize(const dictionary& d) {
  std::string out;
  for (std::size_t n = 0; n < d.size(); ++n) {
    if (n) out += ", ";
    out += d[n].first;
    const auto* i = std::get_if<item>(&d[n].second);
    if (const bool* b = i ? std::get_if<bool>(&i->value) : nullptr; b && *b) {
      detail::serialize_params(out, i->params);
    } else {
      out.push_back('=');
      detail::serialize_member(out, d[n].second);
    }
  }
  return out;
}

}  // namespace sepal::http::sf

#endif
