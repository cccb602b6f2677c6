#ifndef SEPAL_DETAIL_WIRE_HPP
#define SEPAL_DETAIL_WIRE_HPP

// Bounds-checked big-endian reading and writing of handshake messages. The
// reader never throws and never reads past its input: any short read marks it
// failed and later reads return zeros/empty, so parsers check `ok()` once.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "../error.hpp"

namespace sepal::detail {

class wire_reader {
 public:
  explicit wire_reader(std::span<const std::uint8_t> in) noexcept : m_in(in) {}

  std::uint8_t u8() noexcept { return static_cast<std::uint8_t>(number(1)); }
  std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(number(2)); }
  std::uint64_t u64() noexcept { return number(8); }

  /// The next `n` bytes (empty and failed when fewer remain).
  std::span<const std::uint8_t> bytes(std::size_t n) noexcept {
    if (!m_ok || m_in.size() - m_pos < n) {
      m_ok = false;
      return {};
    }
    const auto out = m_in.subspan(m_pos, n);
    m_pos += n;
    return out;
  }
  /// opaque x<2>: a 16-bit length, then that many bytes.
  std::span<const std::uint8_t> opaque16() noexcept { return bytes(u16()); }

  [[nodiscard]] bool ok() const noexcept { return m_ok; }
  [[nodiscard]] bool at_end() const noexcept { return m_ok && m_pos == m_in.size(); }
  /// Everything read so far.
  [[nodiscard]] std::span<const std::uint8_t> consumed() const noexcept { return m_in.first(m_pos); }

 private:
  std::uint64_t number(std::size_t n) noexcept {
    std::uint64_t v = 0;
    for (std::uint8_t b : bytes(n)) v = (v << 8) | b;
    return v;
  }

  std::span<const std::uint8_t> m_in;
  std::size_t m_pos = 0;
  bool m_ok = true;
};

class wire_writer {
 public:
  explicit wire_writer(std::vector<std::uint8_t>& out) noexcept : m_out(&out) {}

  wire_writer& u8(std::uint8_t v) { return number(v, 1); }
  wire_writer& u16(std::uint16_t v) { return number(v, 2); }
  wire_writer& u64(std::uint64_t v) { return number(v, 8); }
  wire_writer& bytes(std::span<const std::uint8_t> b) {
    m_out->insert(m_out->end(), b.begin(), b.end());
    return *this;
  }
  /// Errors: throws `sepal::error(errc::invalid_argument)` over 65535 bytes.
  wire_writer& opaque16(std::span<const std::uint8_t> b) {
    if (b.size() > 0xFFFF) throw error(errc::invalid_argument);
    return u16(static_cast<std::uint16_t>(b.size())).bytes(b);
  }
  [[nodiscard]] std::size_t size() const noexcept { return m_out->size(); }

 private:
  wire_writer& number(std::uint64_t v, std::size_t n) {
    for (std::size_t i = n; i-- > 0;) m_out->push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    return *this;
  }
  std::vector<std::uint8_t>* m_out;
};

}  // namespace sepal::detail

#endif
