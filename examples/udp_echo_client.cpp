// UDP echo client: `udp_echo_client ROOT_PUB.pem PORT [MESSAGE]`: handshakes
// with the server (authenticated by the pinned root key) and echoes MESSAGE.
#include <string>

#include "udp_echo.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ROOT_PUB.pem PORT [MESSAGE]\n", argv[0]);
    return 2;
  }
  auto root = sepal::public_key<sepal::p256>::load_pem(argv[1]);
  if (!root) {
    std::fprintf(stderr, "cannot load %s\n", argv[1]);
    return 1;
  }
  demo::hs::client_config<demo::suite> config{*root, nullptr};
  demo::echo_client client(config, static_cast<std::uint16_t>(std::atoi(argv[2])));
  const auto t = client.connect();
  const std::string msg = argc > 3 ? argv[3] : "hello";
  const bool ok = client.echo({reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()});
  std::printf("handshake %.0f us; echo of \"%s\": %s\n", std::chrono::duration<double, std::micro>(t).count(),
              msg.c_str(), ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
