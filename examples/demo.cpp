// sepal's demo (README command 1): loads or creates a root key, starts the
// UDP echo server on 127.0.0.1, connects many clients that each run the
// handshake (server authenticated by the pinned root key) and exchange
// encrypted packets, and prints handshake latency and packet throughput.
//
//   demo [--clients N] [--packets N] [--size BYTES] [--keys DIR] [--retry]
//   (--retry: the server demands stateless address validation first;
//   --keys: keep the root key in DIR, created 0700, instead of a private
//   temporary directory removed at exit)
//
// The clients are anonymous (no client key): only the server is
// authenticated, by the root key the clients pin. See docs/protocol.md for
// mutual authentication.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "udp_echo.hpp"

int main(int argc, char** argv) {
  int clients = 64, packets = 200;
  std::size_t size = 1200;
  std::filesystem::path keys;
  bool retry = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--retry") retry = true;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--retry") {
      --i;
      continue;
    }
    if (a == "--clients") clients = std::max(1, std::atoi(argv[i + 1]));
    if (a == "--packets") packets = std::max(1, std::atoi(argv[i + 1]));
    if (a == "--size") size = static_cast<std::size_t>(std::max(1, std::atoi(argv[i + 1])));
    if (a == "--keys") keys = argv[i + 1];
  }

  // The root key: created once, then loaded; clients pin its public key. It
  // lives in a directory only this user can enter: a private temporary one
  // (mkdtemp, 0700) unless --keys names one.
  const bool temporary_keys = keys.empty();
  if (temporary_keys) {
    std::string dir = (std::filesystem::temp_directory_path() / "sepal-demo-XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) {
      std::fprintf(stderr, "cannot create a private directory in %s\n", dir.c_str());
      return 1;
    }
    keys = dir;
  } else {
    std::filesystem::create_directories(keys);
    std::filesystem::permissions(keys, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  }
  struct remove_at_exit {
    std::filesystem::path dir;
    ~remove_at_exit() {
      std::error_code ec;
      if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
  } cleanup{temporary_keys ? keys : std::filesystem::path{}};
  const auto key_path = keys / "root.key.pem";
  if (!std::filesystem::exists(key_path)) sepal::private_key<sepal::p256>::generate().save_pem(key_path);
  auto root = sepal::private_key<sepal::p256>::load_pem(key_path);
  if (!root) {
    std::fprintf(stderr, "cannot load %s\n", key_path.c_str());
    return 1;
  }
  const auto fp = root->public_key().fingerprint();
  std::printf("root key %s (fingerprint %02x%02x%02x%02x...)\n", key_path.c_str(), fp[0], fp[1], fp[2], fp[3]);
  std::printf("the server is authenticated by that pinned root key; the clients are anonymous (no client keys)\n");

  demo::hs::client_config<demo::suite> client_config{root->public_key(), nullptr};
  demo::hs::server_config<demo::suite> server_config{demo::hs::server_identity<demo::suite>::root(std::move(*root)), {}};
  demo::echo_server server(std::move(server_config), 0,
                           retry ? std::make_shared<const demo::hs::address_validator<demo::suite>>() : nullptr);
  std::thread server_thread([&] { server.run(); });

  // Unloaded latency: one client at a time.
  std::vector<double> alone;
  for (int i = 0; i < 20; ++i) {
    demo::echo_client client(client_config, server.port());
    alone.push_back(std::chrono::duration<double, std::micro>(client.connect()).count());
  }
  std::sort(alone.begin(), alone.end());
  std::printf("one client at a time: handshake over UDP median %.0f us (20 handshakes)\n", alone[alone.size() / 2]);

  std::vector<double> handshake_us(static_cast<std::size_t>(clients));
  std::vector<int> echoed(static_cast<std::size_t>(clients));
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      demo::echo_client client(client_config, server.port());
      handshake_us[static_cast<std::size_t>(c)] =
          std::chrono::duration<double, std::micro>(client.connect()).count();
      const demo::bytes payload(size, static_cast<std::uint8_t>(c));
      for (int i = 0; i < packets; ++i) echoed[static_cast<std::size_t>(c)] += client.echo(payload) ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  server.stop();
  server_thread.join();

  std::sort(handshake_us.begin(), handshake_us.end());
  const int total = std::accumulate(echoed.begin(), echoed.end(), 0);
  const double mean = std::accumulate(handshake_us.begin(), handshake_us.end(), 0.0) / clients;
  if (retry) std::printf("address validation: every client echoed a stateless retry cookie first\n");
  std::printf("%d clients handshaked over UDP (concurrently): mean %.0f us, median %.0f us, p99 %.0f us\n", clients,
              mean, handshake_us[handshake_us.size() / 2],
              handshake_us[std::min(handshake_us.size() - 1, handshake_us.size() * 99 / 100)]);
  std::printf("%d of %d encrypted %zu-byte echoes in %.2f s: %.0f round trips/s, %.1f MB/s each way\n", total,
              clients * packets, size, seconds, total / seconds, total * static_cast<double>(size) / seconds / 1e6);
  std::printf("server: %zu handshakes completed\n", server.completed_handshakes());
  const int expected_handshakes = clients + 20;
  return total == clients * packets && static_cast<int>(server.completed_handshakes()) == expected_handshakes ? 0 : 1;
}
