// UDP echo server: `udp_echo_server ROOT_KEY.pem PORT [SECONDS] [--retry] [--max-datagram=BYTES]`.
// Clients pin the root public key; every session packet they send comes back
// re-sealed. With --retry every client first proves its address with a
// stateless retry cookie (docs/protocol.md §7). Handshake messages longer
// than --max-datagram (default 1200) go as Fragments (§3.4).
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "udp_echo.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ROOT_KEY.pem PORT [SECONDS] [--retry] [--max-datagram=BYTES]\n", argv[0]);
    return 2;
  }
  auto root = sepal::private_key<sepal::p256>::load_pem(argv[1]);
  if (!root) {
    std::fprintf(stderr, "cannot load %s: %s\n", argv[1], std::string(sepal::describe(root.error())).c_str());
    return 1;
  }
  demo::hs::server_config<demo::suite> config{demo::hs::server_identity<demo::suite>::root(std::move(*root)), {}};
  bool retry = false;
  for (int i = 4; i < argc; ++i) {
    const std::string opt = argv[i];
    if (opt == "--retry") retry = true;
    // Longer handshake messages go as Fragments (docs/protocol.md §3.4).
    if (opt.starts_with("--max-datagram=")) config.max_datagram_size = std::strtoul(opt.c_str() + 15, nullptr, 10);
  }
  if (config.max_datagram_size < demo::hs::min_datagram_size || config.max_datagram_size > demo::hs::max_message_size) {
    std::fprintf(stderr, "--max-datagram must be %zu to %zu\n", demo::hs::min_datagram_size, demo::hs::max_message_size);
    return 2;
  }
  demo::echo_server server(std::move(config), static_cast<std::uint16_t>(std::atoi(argv[2])),
                           retry ? std::make_shared<const demo::hs::address_validator<demo::suite>>() : nullptr);
  std::printf("listening on 127.0.0.1:%u\n", server.port());
  std::fflush(stdout);
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 0;
  std::thread stopper;
  if (seconds > 0) stopper = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::seconds(seconds));
      server.stop();
    });
  server.run();
  if (stopper.joinable()) stopper.join();
  return 0;
}
