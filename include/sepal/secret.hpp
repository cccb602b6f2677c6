#ifndef SEPAL_SECRET_HPP
#define SEPAL_SECRET_HPP

#include <botan/secmem.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "detail/memory.hpp"

namespace sepal {

/// Secret bytes (derived keys, shared secrets, encoded private keys) in
/// memory that is wiped when freed.
///
/// Security: move-only; no `operator==`, no stream output and no implicit
/// conversion to a span. Reading the bytes is the explicit `reveal()`;
/// compare with `constant_time_equal`.
class secret_bytes {
 public:
  /// An empty secret.
  secret_bytes() noexcept = default;
  /// Takes ownership of `bytes`.
  explicit secret_bytes(Botan::secure_vector<std::uint8_t> bytes) noexcept : m_bytes(std::move(bytes)) {}

  /// A wiped-memory copy of `bytes`.
  [[nodiscard]] static secret_bytes copy_of(std::span<const std::uint8_t> bytes) {
    return secret_bytes(Botan::secure_vector<std::uint8_t>(bytes.begin(), bytes.end()));
  }

  secret_bytes(const secret_bytes&) = delete;
  secret_bytes& operator=(const secret_bytes&) = delete;
  /// Moves the bytes; the source is left empty.
  secret_bytes(secret_bytes&& other) noexcept : m_bytes(std::move(other.m_bytes)) { other.m_bytes.clear(); }
  /// Moves the bytes; the source is left empty and the old bytes are wiped.
  secret_bytes& operator=(secret_bytes&& other) noexcept {
    m_bytes.swap(other.m_bytes);
    other.m_bytes.clear();
    return *this;
  }
  ~secret_bytes() = default;  // secure_vector's allocator wipes on free

  /// The number of bytes.
  [[nodiscard]] std::size_t size() const noexcept { return m_bytes.size(); }
  /// True when there are no bytes.
  [[nodiscard]] bool empty() const noexcept { return m_bytes.empty(); }

  /// The secret bytes. Security: the view is valid while `*this` lives and
  /// is not moved from; do not copy the bytes into unwiped memory.
  [[nodiscard]] std::span<const std::uint8_t> reveal() const noexcept { return m_bytes; }
  /// The secret bytes read as text (for PEM-encoded private keys).
  [[nodiscard]] std::string_view reveal_text() const noexcept {
    return {reinterpret_cast<const char*>(m_bytes.data()), m_bytes.size()};
  }

 private:
  Botan::secure_vector<std::uint8_t> m_bytes;
};

/// True when `a` and `b` have the same length and contents, in time that
/// depends only on the lengths. For MACs, tags and secrets.
[[nodiscard]] inline bool constant_time_equal(std::span<const std::uint8_t> a,
                                              std::span<const std::uint8_t> b) noexcept {
  return detail::equal_in_constant_time(a, b);
}

/// `constant_time_equal` over two secrets.
[[nodiscard]] inline bool constant_time_equal(const secret_bytes& a, const secret_bytes& b) noexcept {
  return constant_time_equal(a.reveal(), b.reveal());
}

}  // namespace sepal

#endif
