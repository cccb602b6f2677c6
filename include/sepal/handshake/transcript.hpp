#ifndef SEPAL_HANDSHAKE_TRANSCRIPT_HPP
#define SEPAL_HANDSHAKE_TRANSCRIPT_HPP

#include <botan/hash.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "../concepts.hpp"
#include "../detail/boundary.hpp"

namespace sepal::handshake {

/// A running transcript hash (RFC 8446 §4.4.1): every handshake message is
/// fed in order, and `current()` gives the hash of everything so far without
/// ending the transcript. A building block for handshakes of your own.
template <hash_algorithm Hash>
class transcript {
 public:
  /// A transcript hash value: `Hash::digest_size` bytes.
  using digest = std::array<std::uint8_t, Hash::digest_size>;

  /// An empty transcript.
  transcript()
      : m_hash(sepal::detail::or_throw(errc::internal_error,
                                [] { return Botan::HashFunction::create_or_throw(sepal::detail::algorithm<Hash>::hash); })) {}

  transcript(const transcript& other) : m_hash(other.m_hash->copy_state()) {}
  transcript& operator=(const transcript& other) {
    m_hash = other.m_hash->copy_state();
    return *this;
  }
  transcript(transcript&&) noexcept = default;
  transcript& operator=(transcript&&) noexcept = default;
  ~transcript() = default;

  /// Appends a whole message.
  transcript& update(std::span<const std::uint8_t> message) {
    m_hash->update(message);
    return *this;
  }

  /// The hash of all messages so far; the transcript continues.
  [[nodiscard]] digest current() const {
    digest out{};
    m_hash->copy_state()->final(out);
    return out;
  }

  /// The hash of no messages: Transcript-Hash("") (RFC 8446 §7.1).
  [[nodiscard]] static digest empty() { return transcript().current(); }

 private:
  std::unique_ptr<Botan::HashFunction> m_hash;
};

}  // namespace sepal::handshake

#endif
