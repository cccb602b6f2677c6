#ifndef SEPAL_TESTS_COUNTING_NEW_HPP
#define SEPAL_TESTS_COUNTING_NEW_HPP

// Replaces the global operator new/delete with malloc/free plus a counter, to
// prove hot paths allocate nothing. Include it in exactly one translation
// unit of a program (tests/unit/test_alloc.cpp, benchmarks/sepal_bench.cpp).

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace sepal_test {
/// Calls of the global operator new so far.
inline std::atomic<std::size_t> allocations{0};
}  // namespace sepal_test

// GCC 12 pairs the inlined malloc with free and warns; the pairing is ours.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  sepal_test::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

#endif
