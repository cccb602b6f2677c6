#ifndef SEPAL_REPLAY_HPP
#define SEPAL_REPLAY_HPP

#include <array>
#include <cstddef>
#include <cstdint>

namespace sepal {

/// An anti-replay sliding window over 64-bit packet numbers (RFC 6479): a
/// ring of 64-bit blocks with one spare block, so sliding forward clears whole
/// blocks instead of shifting bits. Accepts any packet number above the
/// largest seen, and any of the `Bits` numbers at or below it not seen yet.
///
/// Security: call `accept` only after the packet authenticated, so forged
/// packets cannot move the window (RFC 6479 §2; RFC 9000 §12.3).
template <std::size_t Bits = 2048>
class replay_window {
  static_assert(Bits >= 64 && Bits % 64 == 0, "the replay window is a whole number of 64-bit blocks");

 public:
  /// How many packet numbers at and below the largest are remembered.
  static constexpr std::size_t size = Bits;

  /// True when `pn` is new: not seen, and not older than the window.
  [[nodiscard]] bool fresh(std::uint64_t pn) const noexcept {
    if (!m_any || pn > m_largest) return true;
    if (m_largest - pn >= Bits) return false;  // too old to tell: reject
    return (m_blocks[block_of(pn)] & bit_of(pn)) == 0;
  }

  /// Records `pn` as received (call after it authenticated).
  void accept(std::uint64_t pn) noexcept {
    if (!m_any || pn > m_largest) {
      // Clear the blocks the window slides over (RFC 6479 §2.2).
      const std::uint64_t from = m_any ? m_largest / 64 + 1 : 0;
      const std::uint64_t to = pn / 64;
      if (!m_any || to - from + 1 >= blocks) {
        m_blocks.fill(0);
      } else {
        for (std::uint64_t b = from; b <= to; ++b) m_blocks[b % blocks] = 0;
      }
      m_largest = pn;
      m_any = true;
    }
    m_blocks[block_of(pn)] |= bit_of(pn);
  }

  /// True when no packet was accepted yet.
  [[nodiscard]] bool empty() const noexcept { return !m_any; }
  /// The largest accepted packet number (0 when `empty()`).
  [[nodiscard]] std::uint64_t largest() const noexcept { return m_largest; }

 private:
  static constexpr std::size_t blocks = Bits / 64 + 1;
  static std::size_t block_of(std::uint64_t pn) noexcept { return static_cast<std::size_t>((pn / 64) % blocks); }
  static std::uint64_t bit_of(std::uint64_t pn) noexcept { return std::uint64_t{1} << (pn % 64); }

  std::array<std::uint64_t, blocks> m_blocks{};
  std::uint64_t m_largest = 0;
  bool m_any = false;
};

}  // namespace sepal

#endif
