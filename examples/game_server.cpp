// A 60 Hz game server on the UDP endpoint: `game_server KEYDIR PORT SECONDS`.
// Loads (or creates) the root key in KEYDIR (and writes root.pub.pem for the
// clients to pin); every client authenticates with its own key, which names
// its player. Clients send their position; 60 times a second every worker
// sends each of its players the whole world.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <sepal/net.hpp>

namespace hs = sepal::handshake;
using server = sepal::net::udp_server<>;

int main(int argc, char** argv) {
  if (argc < 4) return std::fprintf(stderr, "usage: %s KEYDIR PORT SECONDS\n", argv[0]), 2;
  const std::filesystem::path dir = argv[1];
  if (!std::filesystem::exists(dir / "root.key.pem")) {
    std::filesystem::create_directories(dir);
    sepal::private_key<sepal::p256>::generate().save_pem(dir / "root.key.pem");
  }
  auto root = sepal::private_key<sepal::p256>::load_pem(dir / "root.key.pem");
  if (!root) return std::fprintf(stderr, "cannot load the root key\n"), 1;
  root->public_key().save_pem(dir / "root.pub.pem");

  std::mutex m;
  std::map<std::uint64_t, std::array<std::uint8_t, 8>> world;  // player -> position (x, y as 2 x 4 bytes)
  server::config cfg{.handshake = {hs::server_identity<hs::default_suite>::root(std::move(*root)), {}},
                     .bind = sepal::net::endpoint::loopback_v4(static_cast<std::uint16_t>(std::atoi(argv[2]))),
                     .threads = 2, .tick_interval = std::chrono::milliseconds(16)};
  cfg.handshake.allow_client = [](const sepal::public_key<sepal::p256>&) { return true; };  // any key; it names the player
  server::handlers on;
  on.on_connect = [&](server::connection& c) {
    const auto fp = c.client_identity()->fingerprint();
    std::memcpy(&c.user(), fp.data(), sizeof(std::uint64_t));  // the player id: the key's fingerprint
    std::printf("player %016llx joined from %s\n", static_cast<unsigned long long>(c.user()), c.remote().to_string().c_str());
  };
  on.on_payload = [&](server::connection& c, std::span<const std::uint8_t> p) {
    if (p.size() != 8) return;  // a position: anything else is ignored
    std::lock_guard lock(m);
    std::copy(p.begin(), p.end(), world[c.user()].begin());
  };
  on.on_close = [&](server::connection& c, sepal::net::close_reason) {
    std::lock_guard lock(m);
    world.erase(c.user());
  };
  on.on_tick = [&](server::worker& w) {  // 60 Hz: the world (16 bytes per player) to each player of this worker
    std::vector<std::uint8_t> snapshot;
    {
      std::lock_guard lock(m);
      for (const auto& [player, pos] : world) {
        snapshot.insert(snapshot.end(), reinterpret_cast<const std::uint8_t*>(&player),
                        reinterpret_cast<const std::uint8_t*>(&player) + 8);
        snapshot.insert(snapshot.end(), pos.begin(), pos.end());
      }
    }
    w.for_each_connection([&](server::connection& c) { c.send(snapshot); });
  };
  server srv(std::move(cfg), std::move(on));
  std::printf("listening on %s\n", srv.local().to_string().c_str());
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(std::atoi(argv[3])));
  const auto s = srv.stats();
  std::printf("%llu handshakes, %llu updates in, %llu snapshots out, %llu dropped datagrams\n",
              static_cast<unsigned long long>(s.handshakes_completed), static_cast<unsigned long long>(s.payloads_received),
              static_cast<unsigned long long>(s.payloads_sent),
              static_cast<unsigned long long>(s.rejected_packets + s.unknown_peer + s.malformed));
}
