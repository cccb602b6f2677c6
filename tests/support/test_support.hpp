#ifndef SEPAL_TESTS_SUPPORT_HPP
#define SEPAL_TESTS_SUPPORT_HPP

// Test-only helpers (never installed).

#include <botan/hex.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <sepal/sepal.hpp>

namespace sepal_test {

using bytes = std::vector<std::uint8_t>;

inline bytes hex(std::string_view h) { return Botan::hex_decode(h); }
inline std::string to_hex(std::span<const std::uint8_t> b) { return Botan::hex_encode(b.data(), b.size(), false); }
inline bytes as_bytes(std::string_view s) { return bytes(s.begin(), s.end()); }
inline bytes copy(std::span<const std::uint8_t> s) { return bytes(s.begin(), s.end()); }
/// An owned copy of `b` as a traffic secret (sealers, openers and sessions
/// consume theirs): tests that need one secret on both ends copy it explicitly.
inline sepal::secret_bytes secret(std::span<const std::uint8_t> b) { return sepal::secret_bytes::copy_of(b); }

/// The external vector suites (../shared/vectors), from SEPAL_VECTORS_DIR;
/// nullopt when unset or missing, and the tests that need it skip.
inline std::optional<std::filesystem::path> vectors_dir() {
  const char* dir = std::getenv("SEPAL_VECTORS_DIR");
  if (dir == nullptr || *dir == '\0' || !std::filesystem::is_directory(dir)) return std::nullopt;
  return std::filesystem::path(dir);
}

/// A fresh private temporary directory, removed with the object.
class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sepal-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    m_path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

using all_curves = std::tuple<sepal::p256, sepal::p384, sepal::p521, sepal::x25519, sepal::x448, sepal::ed25519,
                              sepal::ed448>;
using signature_curves = std::tuple<sepal::p256, sepal::p384, sepal::p521, sepal::ed25519, sepal::ed448>;
using agreement_curves = std::tuple<sepal::p256, sepal::p384, sepal::p521, sepal::x25519, sepal::x448>;
using all_aeads = std::tuple<sepal::aes128_gcm, sepal::aes256_gcm, sepal::chacha20_poly1305>;
using all_hashes = std::tuple<sepal::sha256, sepal::sha384, sepal::sha512>;
using nist_curves = std::tuple<sepal::p256, sepal::p384, sepal::p521>;
using encrypted_pem_curves = std::tuple<sepal::p256, sepal::ed25519>;

}  // namespace sepal_test

#endif
