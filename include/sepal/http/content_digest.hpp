#ifndef SEPAL_HTTP_CONTENT_DIGEST_HPP
#define SEPAL_HTTP_CONTENT_DIGEST_HPP

#include <botan/hash.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/botan_algorithms.hpp"
#include "../detail/boundary.hpp"
#include "../detail/bytes.hpp"
#include "../error.hpp"
#include "../hashes.hpp"
#include "../secret.hpp"
#include "structured_fields.hpp"

namespace sepal::http {

/// The digest algorithms of RFC 9530 §5 that sepal computes and checks
/// ("sha-256", "sha-512"; the insecure ones are not accepted).
enum class digest_algorithm { sha256, sha512 };

namespace detail {

inline std::string_view digest_key(digest_algorithm a) noexcept { return a == digest_algorithm::sha256 ? "sha-256" : "sha-512"; }

inline std::vector<std::uint8_t> digest_of(digest_algorithm a, std::span<const std::uint8_t> content) {
  const auto name = a == digest_algorithm::sha256 ? sepal::detail::algorithm<sha256>::hash
                                                  : sepal::detail::algorithm<sha512>::hash;
  return sepal::detail::or_throw(errc::internal_error, [&] {
    auto h = Botan::HashFunction::create_or_throw(name);
    h->update(content);
    return h->final_stdvec();
  });
}

}  // namespace detail

/// The Content-Digest field value (RFC 9530 §2) of `content`: a Dictionary
/// with one Byte Sequence per algorithm, such as
/// `sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:`.
[[nodiscard]] inline std::string content_digest(std::string_view content,
                                                std::span<const digest_algorithm> algorithms) {
  sf::dictionary d;
  for (const auto a : algorithms) {
    d.emplace_back(std::string(detail::digest_key(a)),
                   sf::item{sf::bytes{detail::digest_of(a, sepal::detail::bytes_of(content))}, {}});
  }
  return sf::serialize(d);
}

/// `content_digest` with SHA-256 alone.
[[nodiscard]] inline std::string content_digest(std::string_view content) {
  const digest_algorithm sha256_only[] = {digest_algorithm::sha256};
  return content_digest(content, sha256_only);
}

/// True when `field_value` (a Content-Digest) holds at least one digest sepal
/// knows (sha-256, sha-512) and every such digest matches `content`, compared
/// in constant time. Other algorithms are ignored (RFC 9530 §2). Never throws.
[[nodiscard]] inline bool verify_content_digest(std::string_view field_value, std::string_view content) noexcept {
  try {
    const auto d = sf::parse_dictionary(field_value);
    if (!d) return false;
    bool any = false;
    for (const auto a : {digest_algorithm::sha256, digest_algorithm::sha512}) {
      const auto* m = sf::find(*d, detail::digest_key(a));
      if (m == nullptr) continue;
      const auto* i = std::get_if<sf::item>(m);
      const auto* b = i ? std::get_if<sf::bytes>(&i->value) : nullptr;
      if (b == nullptr || !constant_time_equal(b->value, detail::digest_of(a, sepal::detail::bytes_of(content)))) return false;
      any = true;
    }
    return any;
  } catch (...) {
    return false;
  }
}

}  // namespace sepal::http

#endif
