#ifndef SEPAL_PAKE_FILE_USER_STORE_HPP
#define SEPAL_PAKE_FILE_USER_STORE_HPP

#include <botan/hex.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "../detail/bytes.hpp"
#include "../detail/files.hpp"
#include "../error.hpp"
#include "../handshake/transcript.hpp"
#include "../hashes.hpp"
#include "login.hpp"
#include "registration.hpp"

namespace sepal::pake {

/// A `user_store` that keeps one record file per user in a folder: an
/// example store for small deployments and demos.
///
/// Security: a file's name is the hex SHA-256 of a label and the user name,
/// never the name itself, so no user name (`../x`, `/etc/passwd`, `a/b`)
/// reaches the file system as a path. The folder is created 0700 and records
/// are written atomically with mode 0600. Lookups of known and unknown users
/// cost one open() each; the file system's own timing is not hidden.
template <spake2plus_suite Suite = default_spake2plus_suite>
class file_user_store final : public user_store<Suite> {
 public:
  /// A store in `folder`, created if missing, whose records are parsed
  /// with `limits` (a record whose KDF exceeds them reads as no user).
  ///
  /// Errors: throws `sepal::error(io_error)` when the folder cannot be created.
  explicit file_user_store(std::filesystem::path folder, password_kdf_limits limits = {})
      : m_folder(std::move(folder)), m_limits(limits) {
    std::error_code ec;
    std::filesystem::create_directories(m_folder, ec);
    if (!std::filesystem::is_directory(m_folder, ec)) throw error(errc::io_error);
    std::filesystem::permissions(m_folder, std::filesystem::perms::owner_all, ec);
  }

  /// Stores `record` for `username`, replacing any earlier one.
  ///
  /// Errors: throws `sepal::error` (`invalid_argument` for an invalid user
  /// name, `io_error` when the file cannot be written).
  void add(std::string_view username, const verifier_record<Suite>& record) {
    if (!valid_username(username)) throw error(errc::invalid_argument);
    const auto bytes = record.serialize();
    sepal::detail::write_file_atomically(path_of(username), bytes.reveal(), 0600);
  }

  /// Removes `username`'s record; false when there was none.
  bool remove(std::string_view username) noexcept {
    if (!valid_username(username)) return false;
    std::error_code ec;
    return std::filesystem::remove(path_of(username), ec);
  }

  /// The record of `username`; nullopt when it is missing, unreadable or
  /// does not parse. Never throws.
  [[nodiscard]] std::optional<verifier_record<Suite>> find(std::string_view username) noexcept override {
    try {
      if (!valid_username(username)) return std::nullopt;
      const auto bytes = sepal::detail::read_file(path_of(username));
      if (!bytes) return std::nullopt;
      auto record = verifier_record<Suite>::parse(*bytes, m_limits);
      if (!record) return std::nullopt;
      return std::move(*record);
    } catch (...) {
      return std::nullopt;
    }
  }

  /// Where `username`'s record lives: `<folder>/<hex SHA-256>.record`.
  [[nodiscard]] std::filesystem::path path_of(std::string_view username) const {
    constexpr std::string_view label = "sepal user v1\n";
    handshake::transcript<sha256> h;
    h.update(sepal::detail::bytes_of(label))
        .update(sepal::detail::bytes_of(username));
    const auto digest = h.current();
    return m_folder / (Botan::hex_encode(digest.data(), digest.size(), false) + ".record");
  }

 private:
  std::filesystem::path m_folder;
  password_kdf_limits m_limits;
};

}  // namespace sepal::pake

#endif
