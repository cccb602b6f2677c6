// tools/compile-times --path: the session + handshake path a game client and
// server compile (default suite, pinned root key, one handshake, one packet
// each way). Built with PROBE_UMBRELLA it includes <sepal/sepal.hpp> instead
// of the two headers the path needs, to show what the umbrella costs; with
// PROBE_EXTERN, the opt-in <sepal/handshake/extern_default_suite.hpp> (the
// default suite compiled once, in instantiate_default_suite.cpp beside this).
#ifdef PROBE_UMBRELLA
#include <sepal/sepal.hpp>
#elif defined(PROBE_EXTERN)
#include <sepal/handshake/extern_default_suite.hpp>
#else
#include <sepal/handshake/protocol.hpp>
#include <sepal/session.hpp>
#endif

#include <array>
#include <cstdint>
#include <utility>

int main() {
  namespace hs = sepal::handshake;
  auto root_key = sepal::private_key<sepal::p256>::generate();
  const auto root_public_key = root_key.public_key();
  hs::server_config<hs::default_suite> server_cfg{hs::server_identity<hs::default_suite>::root(std::move(root_key)), {}};
  hs::client_config<hs::default_suite> client_cfg{root_public_key, nullptr};

  auto client = hs::client_handshake<hs::default_suite>::start(client_cfg);
  auto server = hs::server_handshake<hs::default_suite>::accept(server_cfg, client.client_hello());
  if (!server) return 1;
  auto c = client.receive(server->server_hello());
  if (!c) return 1;
  auto s = server->receive(c->client_finished());
  if (!s) return 1;

  const std::array<std::uint8_t, 5> payload{'h', 'e', 'l', 'l', 'o'};
  std::array<std::uint8_t, 1200 + sepal::session<>::overhead> packet{};
  std::array<std::uint8_t, 1200> buffer{};
  auto wire = c->session().seal({}, payload, packet);
  if (!s->session().open({}, wire, buffer)) return 1;
  wire = s->session().seal({}, payload, packet);
  return c->session().open({}, wire, buffer) ? 0 : 1;
}
