#ifndef SEPAL_DETAIL_BOUNDARY_HPP
#define SEPAL_DETAIL_BOUNDARY_HPP

// Where Botan's exceptions stop. Every call into Botan on the public API goes
// through one of these, so no Botan exception crosses sepal's surface.

#include <botan/exceptn.h>

#include <exception>
#include <new>
#include <utility>

#include "../error.hpp"

namespace sepal::detail {

/// Runs `f` (which returns `result<T>` or `T`) and maps any exception to
/// `on_failure`: for parsing and verifying attacker-controlled input, where the
/// caller must learn only that it failed.
template <class R, class F>
R guarded(errc on_failure, F&& f) noexcept {
  try {
    return std::forward<F>(f)();
  } catch (const std::bad_alloc&) {
    return errc::internal_error;
  } catch (...) {
    return on_failure;
  }
}

/// Runs `f` for a local operation (generate, encode, save) and rethrows any
/// Botan or standard exception as `sepal::error(code)`.
template <class F>
decltype(auto) or_throw(errc code, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const sepal::error&) {
    throw;
  } catch (const Botan::PRNG_Unseeded&) {
    throw sepal::error(errc::rng_failure);
  } catch (const Botan::System_Error&) {
    throw sepal::error(errc::rng_failure);
  } catch (const std::exception&) {
    throw sepal::error(code);
  }
}

}  // namespace sepal::detail

#endif
