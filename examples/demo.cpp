// sepal's demo (README command 1): loads or creates a root key, starts a
// UDP echo server on the endpoint (include/sepal/net/: two worker threads,
// batched system calls) on 127.0.0.1, connects many clients that each run
// the handshake (server authenticated by the pinned root key) and exchange
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
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <sepal/net.hpp>

int main(int argc, char** argv) {
  int clients = 64, packets = 1000;
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
  const auto root_public = root->public_key();
  const auto fp = root_public.fingerprint();
  std::printf("root key %s (fingerprint %02x%02x%02x%02x...)\n", key_path.c_str(), fp[0], fp[1], fp[2], fp[3]);
  std::printf("the server is authenticated by that pinned root key; the clients are anonymous (no client keys)\n");

  namespace hs = sepal::handshake;
  using server_type = sepal::net::udp_server<>;
  using client_type = sepal::net::udp_client<>;
  server_type::config server_config{.handshake = {hs::server_identity<hs::default_suite>::root(std::move(*root)), {}},
                                    .threads = 2, .address_validation = retry};
  server_config.limits.max_pending_per_address = 256;  // every demo client comes from 127.0.0.1
  server_type::handlers on;
  on.on_payload = [](server_type::connection& c, std::span<const std::uint8_t> p) { c.send(p); };  // echo
  server_type server(std::move(server_config), std::move(on));
  const client_type::config client_config{.handshake = {root_public, nullptr}, .server = server.local()};
  std::printf("UDP endpoint on %s: %u worker threads, GSO %s, GRO %s\n", server.local().to_string().c_str(),
              server.threads(), server.gso() ? "on" : "off", server.gro() ? "on" : "off");

  // Unloaded latency: one client at a time.
  std::vector<double> alone;
  for (int i = 0; i < 20; ++i) {
    client_type client(client_config);
    const auto t = std::chrono::steady_clock::now();
    if (!client.connect()) return std::fprintf(stderr, "handshake failed\n"), 1;
    alone.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count());
  }
  std::sort(alone.begin(), alone.end());
  std::printf("one client at a time: handshake over UDP median %.0f us (20 handshakes)\n", alone[alone.size() / 2]);

  // Many clients at once: each handshakes, then echoes `packets` payloads in
  // bursts of 8 (one sendmmsg each); a lost datagram is replaced by a new one.
  std::vector<double> handshake_us(static_cast<std::size_t>(clients));
  std::vector<int> echoed(static_cast<std::size_t>(clients));
  std::atomic<int> connected{0};
  std::atomic<bool> go{false};
  std::chrono::steady_clock::time_point t0;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      client_type client(client_config);
      const auto t = std::chrono::steady_clock::now();
      const bool ok = client.connect().has_value();
      handshake_us[static_cast<std::size_t>(c)] =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count();
      ++connected;
      while (!go) std::this_thread::yield();  // the echoes start together, after every handshake
      if (!ok) return;
      const std::vector<std::uint8_t> payload(size, static_cast<std::uint8_t>(c));
      auto& n = echoed[static_cast<std::size_t>(c)];
      for (int tries = 0; n < packets && tries < 100 * packets; ++tries) {
        const int burst = std::min(8, packets - n);
        for (int i = 0; i < burst; ++i) (void)client.send(payload);
        for (int i = 0; i < burst; ++i) {
          const auto got = client.receive(std::chrono::milliseconds(200));
          if (!got) break;
          n += std::ranges::equal(*got, payload) ? 1 : 0;
        }
      }
    });
  }
  while (connected < clients) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  t0 = std::chrono::steady_clock::now();
  go = true;
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto stats = server.stats();
  server.stop();

  std::sort(handshake_us.begin(), handshake_us.end());
  const int total = std::accumulate(echoed.begin(), echoed.end(), 0);
  const double mean = std::accumulate(handshake_us.begin(), handshake_us.end(), 0.0) / clients;
  if (retry) std::printf("address validation: every client echoed a stateless retry cookie first (%llu HelloRetry sent)\n",
                         static_cast<unsigned long long>(stats.retries_sent));
  std::printf("%d clients handshaked over UDP (concurrently): mean %.0f us, median %.0f us, p99 %.0f us\n", clients,
              mean, handshake_us[handshake_us.size() / 2],
              handshake_us[std::min(handshake_us.size() - 1, handshake_us.size() * 99 / 100)]);
  std::printf("%d of %d encrypted %zu-byte echoes in %.2f s: %.0f round trips/s, %.1f MB/s each way\n",
              total, clients * packets, size, seconds, total / seconds, total * static_cast<double>(size) / seconds / 1e6);
  const double calls = static_cast<double>(stats.io.receive_calls + stats.io.send_calls);
  std::printf("server: %llu handshakes completed, %.3f system calls per datagram (%llu GSO sends, %llu GRO receives)\n",
              static_cast<unsigned long long>(stats.handshakes_completed),
              calls / static_cast<double>(stats.io.datagrams_received + stats.io.datagrams_sent),
              static_cast<unsigned long long>(stats.io.gso_sends), static_cast<unsigned long long>(stats.io.gro_receives));
  std::printf("(sepal-net-bench compares the endpoint with the one-datagram-per-call loop and with plain UDP)\n");
  const int expected_handshakes = clients + 20;
  return total == clients * packets && static_cast<int>(stats.handshakes_completed) == expected_handshakes ? 0 : 1;
}
