#ifndef SEPAL_DETAIL_MEMORY_HPP
#define SEPAL_DETAIL_MEMORY_HPP

// Wiping and constant-time comparison through Botan's stable C API. Botan
// 3.13 marks mem_ops.h (secure_scrub_memory, constant_time_compare) as a
// header that will become internal; ffi.h's botan_scrub_mem and
// botan_constant_time_compare are the same functions behind the public,
// versioned interface (doc/api_ref/ffi.rst), and ffi.h is a small C header.

#include <botan/build.h>
#include <botan/ffi.h>

#include <cstddef>
#include <cstdint>
#include <span>

#if !defined(BOTAN_HAS_FFI)
  #error "sepal needs Botan's ffi module (botan_scrub_mem, botan_constant_time_compare): see tools/botan-modules.txt"
#endif

namespace sepal::detail {

/// Overwrites `n` bytes at `p` with zeros in a way the compiler cannot
/// remove (Botan's secure scrub).
inline void wipe(void* p, std::size_t n) noexcept {
  if (p != nullptr && n != 0) (void)::botan_scrub_mem(p, n);
}

/// `wipe` over a span.
inline void wipe(std::span<std::uint8_t> bytes) noexcept { wipe(bytes.data(), bytes.size()); }

/// True when `a` and `b` have the same length and contents, in time that
/// depends only on the lengths.
[[nodiscard]] inline bool equal_in_constant_time(std::span<const std::uint8_t> a,
                                                 std::span<const std::uint8_t> b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return ::botan_constant_time_compare(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sepal::detail

#endif
