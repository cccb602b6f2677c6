// The first piece of sepal's demo: a server's long-term root key. Generates a
// P-256 root key pair (or loads it), saves the private key (mode 0600) and the
// public key that clients pin, reloads both, and signs and verifies a message.
//
//   root_key_demo [DIR]    (default: a fresh temporary directory)

#include <sepal/sepal.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  const fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / "sepal-demo";
  fs::create_directories(dir);
  const auto priv_path = dir / "root.key.pem";
  const auto pub_path = dir / "root.pub.pem";

  using key = sepal::private_key<sepal::p256>;
  if (!fs::exists(priv_path)) {
    const auto root = key::generate();
    root.save_pem(priv_path);
    root.public_key().save_pem(pub_path);
    std::printf("generated root key in %s\n", dir.c_str());
  }

  auto root = key::load_pem(priv_path);
  auto pinned = sepal::public_key<sepal::p256>::load_pem(pub_path);
  if (!root || !pinned) {
    std::fprintf(stderr, "cannot load keys: %s\n",
                 std::string(sepal::describe(root ? pinned.error() : root.error())).c_str());
    return 1;
  }
  const auto fp = pinned->fingerprint();
  std::printf("root public key fingerprint (SHA-256 of SPKI): ");
  for (auto b : fp) std::printf("%02x", b);
  std::printf("\n");

  const std::string_view text = "ephemeral key + transcript hash";
  const std::span msg(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  const auto sig = sepal::sign(*root, msg);
  const bool ok = sepal::verify(*pinned, msg, sig);
  auto tampered = sig;
  tampered[tampered.size() / 2] ^= 1;
  const bool forged = sepal::verify(*pinned, msg, tampered);
  std::printf("signature (%zu bytes DER): %s; tampered signature: %s\n", sig.size(), ok ? "valid" : "INVALID",
              forged ? "ACCEPTED" : "rejected");
  return ok && !forged ? 0 : 1;
}
