#ifndef SEPAL_NOISE_PATTERNS_HPP
#define SEPAL_NOISE_PATTERNS_HPP

// Noise handshake patterns (Noise revision 34, §7) as types. A pattern is a
// constexpr `pattern_def` (pre-messages and message patterns as token lists);
// the `psk<Base, N...>` modifier (§9.2) derives new ones. Every definition is
// checked against the validity rules of §7.3 and §9.3 at compile time, and the
// same checks run at run time for names parsed by `dynamic_handshake`.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace sepal::noise {

/// Which side of a handshake: the initiator sends the first message.
enum class role : std::uint8_t { initiator, responder };

/// The other role.
[[nodiscard]] constexpr role peer_of(role r) noexcept {
  return r == role::initiator ? role::responder : role::initiator;
}

/// A token of a message pattern (Noise §7.1).
enum class token : std::uint8_t { e, s, ee, es, se, ss, psk };

/// One message pattern: up to 8 tokens.
struct message_pattern {
  std::array<token, 8> tokens{};  ///< the tokens, in order
  std::size_t size = 0;           ///< how many are used

  /// The tokens as a range.
  [[nodiscard]] constexpr const token* begin() const noexcept { return tokens.data(); }
  /// End of the tokens.
  [[nodiscard]] constexpr const token* end() const noexcept { return tokens.data() + size; }
  /// True when `t` occurs.
  [[nodiscard]] constexpr bool contains(token t) const noexcept { return std::find(begin(), end(), t) != end(); }
};

/// Why a pattern is invalid (Noise §7.3 and §9.3); `valid` when it is not.
enum class pattern_error : std::uint8_t {
  valid,
  bad_token,            ///< a token that is not one of §7.1's, or a malformed name
  premessage_token,     ///< a pre-message with anything but "s" (this engine has no fallback, §10.2)
  too_many_messages,    ///< more messages or tokens than the engine holds
  no_messages,          ///< a pattern without messages
  key_not_possessed,    ///< §7.3 rule 1: a DH with a key the party does not have yet
  key_sent_twice,       ///< §7.3 rule 2: "e" or "s" sent twice by one party
  dh_twice,             ///< §7.3 rule 3: a DH token twice
  unsafe_encrypt,       ///< §7.3 rule 4: a payload after a DH with the local static key, before the matching ephemeral DH
  psk_without_e,        ///< §9.3: encrypted data after a "psk" token before the sender's "e"
  psk_out_of_range,     ///< §9.2: pskN with N above the number of messages
  psk_order,            ///< §9.2/§12: psk modifiers not in increasing order, or repeated
};

/// A handshake pattern: its name, pre-messages and message patterns.
struct pattern_def {
  std::array<char, 48> name_chars{};  ///< the pattern's name (§7.2 / §9.2), e.g. "XXpsk3"
  std::size_t name_size = 0;          ///< its length
  message_pattern pre_initiator;      ///< "-> s" before "..." (§7.1)
  message_pattern pre_responder;      ///< "<- s" before "..."
  std::array<message_pattern, 4> messages{};  ///< the message patterns, initiator first
  std::size_t count = 0;                      ///< how many messages

  /// The name, e.g. "IKpsk2".
  [[nodiscard]] constexpr std::string_view name() const noexcept { return {name_chars.data(), name_size}; }
  /// True for the one-way patterns of §7.4 (one message, initiator to responder).
  [[nodiscard]] constexpr bool one_way() const noexcept { return count == 1; }
  /// Who sends message `i` (§5.3: initiator first, then alternating).
  [[nodiscard]] static constexpr role sender(std::size_t i) noexcept { return i % 2 == 0 ? role::initiator : role::responder; }
  /// The number of "psk" tokens: the PSKs a party must supply (§9).
  [[nodiscard]] constexpr std::size_t psk_count() const noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < count; ++i)
      for (token t : messages[i]) n += t == token::psk;
    return n;
  }
  /// True when `r`'s static key is in a pre-message: the peer must know it in advance.
  [[nodiscard]] constexpr bool static_premessage(role r) const noexcept {
    return (r == role::initiator ? pre_initiator : pre_responder).contains(token::s);
  }
  /// True when `r` needs its own static key pair (§7.1: it sends "s", is in a
  /// pre-message, or a DH token uses it).
  [[nodiscard]] constexpr bool needs_local_static(role r) const noexcept {
    if (static_premessage(r)) return true;
    for (std::size_t i = 0; i < count; ++i)
      for (token t : messages[i]) {
        if (t == token::ss) return true;
        if (r == role::initiator && t == token::se) return true;
        if (r == role::responder && t == token::es) return true;
        if (t == token::s && sender(i) == r) return true;
      }
    return false;
  }
  /// True when `r` must be given the peer's static key before the handshake.
  [[nodiscard]] constexpr bool needs_remote_static(role r) const noexcept { return static_premessage(peer_of(r)); }
};

namespace detail {

constexpr std::optional<token> parse_token(std::string_view t) noexcept {
  if (t == "e") return token::e;
  if (t == "s") return token::s;
  if (t == "ee") return token::ee;
  if (t == "es") return token::es;
  if (t == "se") return token::se;
  if (t == "ss") return token::ss;
  if (t == "psk") return token::psk;
  return std::nullopt;
}

/// Parses "e, es, s, ss" into a message pattern; false on a bad token.
constexpr bool parse_message(std::string_view text, message_pattern& out) noexcept {
  out = {};
  while (!text.empty()) {
    while (!text.empty() && (text.front() == ' ' || text.front() == ',')) text.remove_prefix(1);
    std::size_t n = 0;
    while (n < text.size() && text[n] != ',' && text[n] != ' ') ++n;
    if (n == 0) break;
    const auto t = parse_token(text.substr(0, n));
    if (!t || out.size == out.tokens.size()) return false;
    out.tokens[out.size++] = *t;
    text.remove_prefix(n);
  }
  return true;
}

constexpr void set_name(pattern_def& p, std::string_view name) noexcept {
  p.name_size = std::min(name.size(), p.name_chars.size());
  for (std::size_t i = 0; i < p.name_size; ++i) p.name_chars[i] = name[i];
}

/// A pattern from its §7 notation.
constexpr pattern_def make_pattern(std::string_view name, std::string_view pre_i, std::string_view pre_r,
                                   std::initializer_list<std::string_view> messages) noexcept {
  pattern_def p;
  set_name(p, name);
  (void)parse_message(pre_i, p.pre_initiator);
  (void)parse_message(pre_r, p.pre_responder);
  for (std::string_view m : messages) {
    if (p.count < p.messages.size()) (void)parse_message(m, p.messages[p.count]);
    ++p.count;
  }
  return p;
}

/// The fundamental (§7.4, §7.5) and deferred (§7.6) patterns.
inline constexpr std::array base_patterns = {
    // §7.4 one-way
    make_pattern("N", "", "s", {"e, es"}),
    make_pattern("K", "s", "s", {"e, es, ss"}),
    make_pattern("X", "", "s", {"e, es, s, ss"}),
    // §7.5 interactive
    make_pattern("NN", "", "", {"e", "e, ee"}),
    make_pattern("NK", "", "s", {"e, es", "e, ee"}),
    make_pattern("NX", "", "", {"e", "e, ee, s, es"}),
    make_pattern("XN", "", "", {"e", "e, ee", "s, se"}),
    make_pattern("XK", "", "s", {"e, es", "e, ee", "s, se"}),
    make_pattern("XX", "", "", {"e", "e, ee, s, es", "s, se"}),
    make_pattern("KN", "s", "", {"e", "e, ee, se"}),
    make_pattern("KK", "s", "s", {"e, es, ss", "e, ee, se"}),
    make_pattern("KX", "s", "", {"e", "e, ee, se, s, es"}),
    make_pattern("IN", "", "", {"e, s", "e, ee, se"}),
    make_pattern("IK", "", "s", {"e, es, s, ss", "e, ee, se"}),
    make_pattern("IX", "", "", {"e, s", "e, ee, se, s, es"}),
    // §7.6 deferred
    make_pattern("NK1", "", "s", {"e", "e, ee, es"}),
    make_pattern("NX1", "", "", {"e", "e, ee, s", "es"}),
    make_pattern("X1N", "", "", {"e", "e, ee", "s", "se"}),
    make_pattern("X1K", "", "s", {"e, es", "e, ee", "s", "se"}),
    make_pattern("XK1", "", "s", {"e", "e, ee, es", "s, se"}),
    make_pattern("X1K1", "", "s", {"e", "e, ee, es", "s", "se"}),
    make_pattern("X1X", "", "", {"e", "e, ee, s, es", "s", "se"}),
    make_pattern("XX1", "", "", {"e", "e, ee, s", "es, s, se"}),
    make_pattern("X1X1", "", "", {"e", "e, ee, s", "es, s", "se"}),
    make_pattern("K1N", "s", "", {"e", "e, ee", "se"}),
    make_pattern("K1K", "s", "s", {"e, es", "e, ee", "se"}),
    make_pattern("KK1", "s", "s", {"e", "e, ee, se, es"}),
    make_pattern("K1K1", "s", "s", {"e", "e, ee, es", "se"}),
    make_pattern("K1X", "s", "", {"e", "e, ee, s, es", "se"}),
    make_pattern("KX1", "s", "", {"e", "e, ee, se, s", "es"}),
    make_pattern("K1X1", "s", "", {"e", "e, ee, s", "se, es"}),
    make_pattern("I1N", "", "", {"e, s", "e, ee", "se"}),
    make_pattern("I1K", "", "s", {"e, es, s", "e, ee", "se"}),
    make_pattern("IK1", "", "s", {"e, s", "e, ee, se, es"}),
    make_pattern("I1K1", "", "s", {"e, s", "e, ee, es", "se"}),
    make_pattern("I1X", "", "", {"e, s", "e, ee, s, es", "se"}),
    make_pattern("IX1", "", "", {"e, s", "e, ee, se, s", "es"}),
    make_pattern("I1X1", "", "", {"e, s", "e, ee, s", "se, es"}),
};

/// The base pattern called `name`, or nullopt.
constexpr std::optional<pattern_def> find_base_pattern(std::string_view name) noexcept {
  for (const auto& p : base_patterns)
    if (p.name() == name) return p;
  return std::nullopt;
}

constexpr pattern_def base_or_empty(std::string_view name) noexcept {
  const auto p = find_base_pattern(name);
  return p ? *p : pattern_def{};
}

/// Applies psk modifiers (§9.2): psk0 puts a "psk" token at the start of the
/// first message, pskN (N > 0) at the end of message N. The name becomes
/// e.g. "XXpsk0+psk2". Out-of-range or unordered modifiers are reported by
/// `validate` (the returned definition records them as an invalid name).
constexpr pattern_def apply_psk(pattern_def p, std::initializer_list<std::size_t> positions,
                                pattern_error* problem = nullptr) noexcept {
  std::size_t previous = 0;
  bool first = true;
  std::string_view base = p.name();
  std::array<char, 48> name{};
  std::size_t len = 0;
  auto put = [&](char c) {
    if (len < name.size()) name[len++] = c;
  };
  for (char c : base) put(c);
  for (std::size_t n : positions) {
    if (!first) put('+');
    put('p'), put('s'), put('k');
    if (n >= 10) put(static_cast<char>('0' + (n / 10) % 10));
    put(static_cast<char>('0' + n % 10));
    if (problem && *problem == pattern_error::valid) {
      if (!first && n <= previous) *problem = pattern_error::psk_order;
      else if (n > p.count) *problem = pattern_error::psk_out_of_range;
    }
    if (n <= p.count && (first || n > previous)) {
      message_pattern& m = p.messages[n == 0 ? 0 : n - 1];
      if (m.size < m.tokens.size()) {
        if (n == 0) {
          for (std::size_t i = m.size; i > 0; --i) m.tokens[i] = m.tokens[i - 1];
          m.tokens[0] = token::psk;
        } else {
          m.tokens[m.size] = token::psk;
        }
        ++m.size;
      } else if (problem && *problem == pattern_error::valid) {
        *problem = pattern_error::too_many_messages;
      }
    }
    previous = n;
    first = false;
  }
  p.name_chars = name;
  p.name_size = len;
  return p;
}

/// Checks §7.3's four rules and §9.3's PSK rule. Rule 4 and §9.3 are checked
/// where a party encrypts a payload: at the end of each of its messages, and
/// for transport messages after the handshake.
constexpr pattern_error validate(const pattern_def& p) noexcept {
  if (p.count == 0) return pattern_error::no_messages;
  if (p.count > p.messages.size()) return pattern_error::too_many_messages;
  // Per party: sent e / s; DHs done.
  bool sent_e[2] = {false, false}, sent_s[2] = {false, false};
  bool dh_done[4] = {false, false, false, false};  // ee, es, se, ss
  bool psk_seen = false;
  for (token t : p.pre_initiator) {
    if (t != token::s) return pattern_error::premessage_token;
    sent_s[0] = true;
  }
  for (token t : p.pre_responder) {
    if (t != token::s) return pattern_error::premessage_token;
    sent_s[1] = true;
  }
  const auto payload_ok = [&](int party) -> pattern_error {
    const bool ee = dh_done[0], es = dh_done[1], se = dh_done[2], ss = dh_done[3];
    if (party == 0) {  // initiator
      if (se && !ee) return pattern_error::unsafe_encrypt;
      if (ss && !es) return pattern_error::unsafe_encrypt;
    } else {
      if (es && !ee) return pattern_error::unsafe_encrypt;
      if (ss && !se) return pattern_error::unsafe_encrypt;
    }
    if (psk_seen && !sent_e[party]) return pattern_error::psk_without_e;
    return pattern_error::valid;
  };
  for (std::size_t i = 0; i < p.count; ++i) {
    const int me = i % 2 == 0 ? 0 : 1;
    for (token t : p.messages[i]) {
      switch (t) {
        case token::e:
          if (sent_e[me]) return pattern_error::key_sent_twice;
          sent_e[me] = true;
          break;
        case token::s:
          if (sent_s[me]) return pattern_error::key_sent_twice;
          sent_s[me] = true;
          break;
        case token::psk:
          psk_seen = true;
          break;
        default: {
          // The initiator's key is the first letter, the responder's the second.
          const bool init_e = t == token::ee || t == token::es;
          const bool resp_e = t == token::ee || t == token::se;
          if (!(init_e ? sent_e[0] : sent_s[0]) || !(resp_e ? sent_e[1] : sent_s[1]))
            return pattern_error::key_not_possessed;
          const int idx = t == token::ee ? 0 : t == token::es ? 1 : t == token::se ? 2 : 3;
          if (dh_done[idx]) return pattern_error::dh_twice;
          dh_done[idx] = true;
        }
      }
    }
    if (const auto r = payload_ok(me); r != pattern_error::valid) return r;
  }
  // Transport messages: both parties encrypt (for one-way patterns only the initiator).
  if (const auto r = payload_ok(0); r != pattern_error::valid) return r;
  if (p.count > 1)
    if (const auto r = payload_ok(1); r != pattern_error::valid) return r;
  return pattern_error::valid;
}

/// Parses a pattern name with modifiers ("XXpsk0+psk2") into a checked
/// definition; `error` says why it failed.
constexpr std::optional<pattern_def> parse_pattern_name(std::string_view name, pattern_error& error) noexcept {
  error = pattern_error::valid;
  std::size_t base_len = 0;
  while (base_len < name.size() && (name[base_len] == 'N' || name[base_len] == 'K' || name[base_len] == 'X' ||
                                    name[base_len] == 'I' || name[base_len] == '1'))
    ++base_len;
  const auto base = find_base_pattern(name.substr(0, base_len));
  if (!base) {
    error = pattern_error::bad_token;
    return std::nullopt;
  }
  std::string_view rest = name.substr(base_len);
  std::array<std::size_t, 8> positions{};
  std::size_t count = 0;
  while (!rest.empty()) {
    if (count != 0) {
      if (rest.front() != '+') break;
      rest.remove_prefix(1);
    }
    if (rest.substr(0, 3) != "psk" || rest.size() < 4 || count == positions.size()) break;
    rest.remove_prefix(3);
    std::size_t n = 0, digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9' && digits < 2) {
      n = n * 10 + static_cast<std::size_t>(rest.front() - '0');
      rest.remove_prefix(1);
      ++digits;
    }
    if (digits == 0) break;
    positions[count++] = n;
  }
  if (!rest.empty()) {
    error = pattern_error::bad_token;
    return std::nullopt;
  }
  pattern_def p = *base;
  for (std::size_t i = 0; i < count; ++i) {
    p = apply_psk(p, {positions[i]}, &error);
    if (error != pattern_error::valid) return std::nullopt;
    // apply_psk checks order within one call; across calls check here.
    if (i > 0 && positions[i] <= positions[i - 1]) {
      error = pattern_error::psk_order;
      return std::nullopt;
    }
  }
  // Rebuild the name in one piece ("XXpsk0+psk2", not "XXpsk0psk2").
  if (count > 1) {
    std::array<char, 48> nm{};
    const std::size_t len = std::min(name.size(), nm.size());
    for (std::size_t i = 0; i < len; ++i) nm[i] = name[i];
    p.name_chars = nm;
    p.name_size = len;
  }
  error = validate(p);
  if (error != pattern_error::valid) return std::nullopt;
  return p;
}

template <class P>
struct base_pattern_type {
  static constexpr pattern_def def = base_or_empty(P::pattern_name);
};

}  // namespace detail

/// A type that names a valid handshake pattern: it has a `static constexpr
/// pattern_def def`. Every pattern in `sepal::noise::patterns` and every
/// `psk<...>` of them.
template <class P>
concept handshake_pattern = requires {
  { P::def } -> std::convertible_to<pattern_def>;
} && detail::validate(P::def) == pattern_error::valid;

/// The handshake patterns of Noise §7.4–§7.6 as types.
namespace patterns {

#define SEPAL_NOISE_PATTERN(N)                                                           \
  /** The N pattern (Noise §7). */                                                       \
  struct N {                                                                             \
    static constexpr pattern_def def = ::sepal::noise::detail::base_or_empty(#N);        \
    static_assert(def.count != 0, "sepal::noise: unknown base pattern");                 \
  };
SEPAL_NOISE_PATTERN(N)
SEPAL_NOISE_PATTERN(K)
SEPAL_NOISE_PATTERN(X)
SEPAL_NOISE_PATTERN(NN)
SEPAL_NOISE_PATTERN(NK)
SEPAL_NOISE_PATTERN(NX)
SEPAL_NOISE_PATTERN(XN)
SEPAL_NOISE_PATTERN(XK)
SEPAL_NOISE_PATTERN(XX)
SEPAL_NOISE_PATTERN(KN)
SEPAL_NOISE_PATTERN(KK)
SEPAL_NOISE_PATTERN(KX)
SEPAL_NOISE_PATTERN(IN)
SEPAL_NOISE_PATTERN(IK)
SEPAL_NOISE_PATTERN(IX)
SEPAL_NOISE_PATTERN(NK1)
SEPAL_NOISE_PATTERN(NX1)
SEPAL_NOISE_PATTERN(X1N)
SEPAL_NOISE_PATTERN(X1K)
SEPAL_NOISE_PATTERN(XK1)
SEPAL_NOISE_PATTERN(X1K1)
SEPAL_NOISE_PATTERN(X1X)
SEPAL_NOISE_PATTERN(XX1)
SEPAL_NOISE_PATTERN(X1X1)
SEPAL_NOISE_PATTERN(K1N)
SEPAL_NOISE_PATTERN(K1K)
SEPAL_NOISE_PATTERN(KK1)
SEPAL_NOISE_PATTERN(K1K1)
SEPAL_NOISE_PATTERN(K1X)
SEPAL_NOISE_PATTERN(KX1)
SEPAL_NOISE_PATTERN(K1X1)
SEPAL_NOISE_PATTERN(I1N)
SEPAL_NOISE_PATTERN(I1K)
SEPAL_NOISE_PATTERN(IK1)
SEPAL_NOISE_PATTERN(I1K1)
SEPAL_NOISE_PATTERN(I1X)
SEPAL_NOISE_PATTERN(IX1)
SEPAL_NOISE_PATTERN(I1X1)
#undef SEPAL_NOISE_PATTERN

}  // namespace patterns

namespace detail {
template <std::size_t... N>
constexpr bool strictly_increasing() {
  std::size_t v[] = {N...};
  for (std::size_t i = 1; i < sizeof...(N); ++i)
    if (v[i] <= v[i - 1]) return false;
  return true;
}
}  // namespace detail

/// `Base` with the psk modifiers `N...` (Noise §9.2): `psk<patterns::XX, 3>`
/// is XXpsk3, `psk<patterns::NN, 0, 2>` is NNpsk0+psk2.
///
/// Errors: a modifier beyond the last message, modifiers out of order or
/// repeated, and a result that breaks §7.3 or §9.3 do not compile.
template <class Base, std::size_t... N>
struct psk {
  static_assert(sizeof...(N) > 0, "sepal::noise: psk<Base, N...> needs at least one position");
  static_assert(detail::strictly_increasing<N...>(),
                "sepal::noise: psk modifiers must be in increasing order without repeats (Noise §9.2)");
  static_assert(((N <= Base::def.count) && ...),
                "sepal::noise: pskN needs N <= the number of messages of the pattern (Noise §9.2)");
  /// The modified pattern.
  static constexpr pattern_def def = detail::apply_psk(Base::def, {N...});
  static_assert(detail::validate(def) != pattern_error::psk_without_e,
                "sepal::noise: this psk placement sends encrypted data before the sender's \"e\" (Noise §9.3)");
  static_assert(detail::validate(def) == pattern_error::valid, "sepal::noise: invalid pattern (Noise §7.3)");
};

}  // namespace sepal::noise

#endif
