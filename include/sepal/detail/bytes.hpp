#ifndef SEPAL_DETAIL_BYTES_HPP
#define SEPAL_DETAIL_BYTES_HPP

// Text as bytes, for hashing, MACs and file writes: one place for the cast.

#include <cstdint>
#include <span>
#include <string_view>

namespace sepal::detail {

/// The bytes of `text` (a view: valid while `text` is).
[[nodiscard]] inline std::span<const std::uint8_t> bytes_of(std::string_view text) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace sepal::detail

#endif
