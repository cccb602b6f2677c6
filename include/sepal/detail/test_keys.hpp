#ifndef SEPAL_DETAIL_TEST_KEYS_HPP
#define SEPAL_DETAIL_TEST_KEYS_HPP

// The fixed, published private keys behind `private_key<C>::unsafe_test_key()`.
// Each comes from the RFC whose known-answer tests use it, so tests can check
// sepal against the RFC with them.

#include <string_view>

#include "../curves.hpp"

namespace sepal::detail {

template <class Curve>
struct test_key;

/// RFC 6979 §A.2.5 (P-256).
template <>
struct test_key<p256> {
  static constexpr std::string_view hex = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";
};
/// RFC 6979 §A.2.6 (P-384).
template <>
struct test_key<p384> {
  static constexpr std::string_view hex =
      "6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D896D5724E4C70A825F872C9EA60D2EDF5";
};
/// RFC 6979 §A.2.7 (P-521).
template <>
struct test_key<p521> {
  static constexpr std::string_view hex =
      "00FAD06DAA62BA3B25D2FB40133DA757205DE67F5BB0018FEE8C86E1B68C7E75CAA896EB32F1F47C70855836A6D16FCC1466F6D8FBEC67D"
      "B89EC0C08B0E996B83538";
};
/// RFC 7748 §6.1, Alice's private key.
template <>
struct test_key<x25519> {
  static constexpr std::string_view hex = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
};
/// RFC 7748 §6.2, Alice's private key.
template <>
struct test_key<x448> {
  static constexpr std::string_view hex =
      "9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf574a9419744897391006382a6f127ab1d9ac2d8c0a598726b";
};
/// RFC 8032 §7.1, TEST 1.
template <>
struct test_key<ed25519> {
  static constexpr std::string_view hex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
};
/// RFC 8032 §7.4, the first ("-----Blank") test.
template <>
struct test_key<ed448> {
  static constexpr std::string_view hex =
      "6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b";
};

}  // namespace sepal::detail

#endif
