#ifndef SEPAL_DETAIL_FILES_HPP
#define SEPAL_DETAIL_FILES_HPP

// Whole-file reads and atomic, permission-aware writes for key files (POSIX).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <botan/secmem.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "../error.hpp"
#include "memory.hpp"

namespace sepal::detail {

/// Upper bound on a key file: a PEM key is a few KiB; refuse to read more.
inline constexpr std::size_t max_key_file_size = 1 << 20;

/// Reads a whole file into wiped memory; nullopt when it cannot be read or is
/// larger than `max_key_file_size`.
inline std::optional<Botan::secure_vector<std::uint8_t>> read_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  Botan::secure_vector<std::uint8_t> out;
  std::uint8_t chunk[4096];
  bool ok = true;
  for (;;) {
    const ::ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || out.size() + static_cast<std::size_t>(n) > max_key_file_size) {
      ok = false;
      break;
    }
    if (n == 0) break;
    out.insert(out.end(), chunk, chunk + n);
  }
  sepal::detail::wipe(chunk, sizeof chunk);
  ::close(fd);
  if (!ok) return std::nullopt;
  return out;
}

/// Reads `path` and hands its text to `parse` (which returns a `result`);
/// `io_error` when the file cannot be read. Never throws.
template <class R, class Parse>
R parse_file(const std::filesystem::path& path, Parse&& parse) noexcept {
  try {
    const auto bytes = read_file(path);
    if (!bytes) return errc::io_error;
    return std::forward<Parse>(parse)(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  } catch (...) {
    return errc::io_error;
  }
}

/// Writes `bytes` to `path` atomically (a temporary file in the same folder,
/// fsync, rename) with permissions `mode` (0600 for private keys), whatever the
/// umask. Errors: throws `sepal::error(errc::io_error)`.
inline void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes,
                                  ::mode_t mode) {
  std::string tmp = path.string() + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw error(errc::io_error);
  bool ok = ::fchmod(fd, mode) == 0;
  for (std::size_t done = 0; ok && done < bytes.size();) {
    const ::ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  ok = ok && ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    ::unlink(tmp.c_str());
    throw error(errc::io_error);
  }
}

}  // namespace sepal::detail

#endif
