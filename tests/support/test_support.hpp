#ifndef SEPAL_TESTS_SUPPORT_HPP
#define SEPAL_TESTS_SUPPORT_HPP

// Test-only helpers (never installed).

#include <botan/hex.h>
#include <botan/rng.h>

#include <algorithm>
#include <stdexcept>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

// Only what the helpers below need: each test includes the sepal headers it
// tests (the unit executable also precompiles them all, tests/pch/).
#include <sepal/aeads.hpp>
#include <sepal/curves.hpp>
#include <sepal/hashes.hpp>
#include <sepal/secret.hpp>

namespace sepal_test {

using bytes = std::vector<std::uint8_t>;

inline bytes hex(std::string_view h) { return Botan::hex_decode(h); }
inline std::string to_hex(std::span<const std::uint8_t> b) { return Botan::hex_encode(b.data(), b.size(), false); }
inline bytes as_bytes(std::string_view s) { return bytes(s.begin(), s.end()); }
inline bytes copy(std::span<const std::uint8_t> s) { return bytes(s.begin(), s.end()); }
/// An owned copy of `b` as a traffic secret (sealers, openers and sessions
/// consume theirs): tests that need one secret on both ends copy it explicitly.
inline sepal::secret_bytes secret(std::span<const std::uint8_t> b) { return sepal::secret_bytes::copy_of(b); }

/// An RNG that hands out `bytes` and then fails: for known-answer tests of
/// randomized algorithms whose vectors fix the randomness (ML-KEM's m).
class fixed_output_rng final : public Botan::RandomNumberGenerator {
 public:
  explicit fixed_output_rng(bytes out) : m_out(std::move(out)) {}
  bool accepts_input() const override { return false; }
  std::string name() const override { return "fixed_output_rng"; }
  void clear() override { m_out.clear(); }
  bool is_seeded() const override { return true; }
  /// Bytes not handed out yet.
  std::size_t remaining() const { return m_out.size() - m_at; }

 private:
  void fill_bytes_with_input(std::span<std::uint8_t> output, std::span<const std::uint8_t>) override {
    if (output.size() > remaining()) throw std::runtime_error("fixed_output_rng: out of bytes");
    std::copy_n(m_out.begin() + static_cast<std::ptrdiff_t>(m_at), output.size(), output.begin());
    m_at += output.size();
  }
  bytes m_out;
  std::size_t m_at = 0;
};

/// The external vector suites: SEPAL_VECTORS_DIR (CI: ../shared/vectors)
/// when it names a directory, else where tools/fetch-vectors puts them
/// (${SEPAL_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/sepal}/vectors); nullopt
/// when neither exists, and the tests that need them skip.
inline std::optional<std::filesystem::path> vectors_dir() {
  namespace fs = std::filesystem;
  const auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
  };
  fs::path cache = env("SEPAL_CACHE_DIR");
  if (cache.empty()) {
    const auto xdg = env("XDG_CACHE_HOME"), home = env("HOME");
    cache = !xdg.empty() ? fs::path(xdg) / "sepal" : !home.empty() ? fs::path(home) / ".cache" / "sepal" : fs::path();
  }
  for (const fs::path& dir : {fs::path(env("SEPAL_VECTORS_DIR")), cache.empty() ? fs::path() : cache / "vectors"}) {
    std::error_code ec;
    if (!dir.empty() && fs::is_directory(dir, ec)) return dir;
  }
  return std::nullopt;
}

/// What a test that needs the external vectors says when they are missing.
inline constexpr const char* vectors_hint =
    "external test vectors not found: run tools/fetch-vectors (needs internet), or set SEPAL_VECTORS_DIR "
    "(meson: -Dvectors_dir) to a copy such as ../shared/vectors";

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
using all_aeads = std::tuple<sepal::aes128_gcm, sepal::aes256_gcm, sepal::chacha20_poly1305, sepal::aes128_gcm_siv,
                             sepal::aes256_gcm_siv>;
using all_hashes = std::tuple<sepal::sha256, sepal::sha384, sepal::sha512>;
using nist_curves = std::tuple<sepal::p256, sepal::p384, sepal::p521>;
using encrypted_pem_curves = std::tuple<sepal::p256, sepal::ed25519>;

}  // namespace sepal_test

#endif
