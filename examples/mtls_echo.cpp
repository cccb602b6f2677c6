// An mTLS echo server and client over TCP on 127.0.0.1 (TLS 1.3, both sides
// present certificates from the same CA and verify each other): the client
// sends lines and reads them back; then a client whose certificate comes
// from another CA is refused.
//
//   mtls_echo [messages]

#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

#include <sepal/pki/authority.hpp>
#include <sepal/tls/tcp.hpp>

namespace pki = sepal::pki;
namespace tls = sepal::tls;
using key = sepal::private_key<sepal::p256>;

namespace {

const std::int64_t now = std::time(nullptr);

/// A certificate for `name` (and 127.0.0.1), which the CA allows exactly.
std::vector<pki::certificate> issue(const pki::certificate_authority<sepal::p256>& ca, const key& k,
                                    const std::string& name, pki::usage u) {
  const auto csr = pki::certificate_request::create(k, {name}, {{name}, {"127.0.0.1"}, {}});
  return {ca.issue(csr, u, {.dns = {name}, .ip = {"127.0.0.1"}}, now - 60, now + 86400).value()};
}

/// An identity that owns a fresh key, certified by `ca` for `name`.
tls::identity make_identity(const pki::certificate_authority<sepal::p256>& ca, const std::string& name, pki::usage u) {
  auto k = key::generate();
  auto chain = issue(ca, k, name, u);
  return tls::identity::from(std::move(k), std::move(chain));
}

void serve(tls::tcp_listener& listener, const tls::config& config, int connections) {
  for (int i = 0; i < connections; ++i) {
    auto conn = listener.accept();
    auto ch = tls::channel::server(config);
    if (!conn.handshake(ch)) {
      std::printf("  server: refused a client: %s\n",
                  ch.verify_error() ? std::string(pki::describe(*ch.verify_error())).c_str()
                                    : ch.failure_details().c_str());
      continue;
    }
    std::printf("  server: %s connected\n", ch.peer_path().front().subject().common_name.c_str());
    for (;;) {
      auto msg = conn.receive(ch);
      if (!msg || msg->empty()) break;
      if (!conn.send(ch, *msg)) break;
    }
    conn.close(ch);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int messages = argc > 1 ? std::atoi(argv[1]) : 3;
  const auto ca = pki::certificate_authority<sepal::p256>::create_root(key::generate(), {"echo CA"}, now - 3600,
                                                                       now + 86400 * 30);
  auto anchors = std::make_shared<pki::trust_store>();
  anchors->add(ca.cert());
  // The client names the server it expects: a client without a server name
  // refuses to start.
  const tls::config server_config{make_identity(ca, "echo.local", pki::usage::server), anchors};
  const tls::config client_config{make_identity(ca, "echo-client", pki::usage::client), anchors, "echo.local"};

  tls::tcp_listener listener;
  std::thread server([&] { serve(listener, server_config, 2); });

  bool ok = true;
  {
    auto conn = tls::tcp_connection::connect("127.0.0.1", listener.port());
    auto ch = tls::channel::client(client_config);
    ok = conn.handshake(ch).has_value();
    std::printf("client: connected to %s\n", ok ? ch.peer_path().front().subject().common_name.c_str() : "nothing");
    for (int i = 0; ok && i < messages; ++i) {
      const std::string line = "echo " + std::to_string(i);
      const std::span bytes(reinterpret_cast<const std::uint8_t*>(line.data()), line.size());
      auto back = conn.send(ch, bytes) ? conn.receive(ch) : sepal::result<std::vector<std::uint8_t>>(sepal::errc::io_error);
      ok = back && std::string(back->begin(), back->end()) == line;
    }
    std::printf("client: %d messages echoed: %s\n", messages, ok ? "ok" : "FAILED");
    conn.close(ch);
  }
  {
    // A client certified by another CA.
    const auto rogue_ca = pki::certificate_authority<sepal::p256>::create_root(key::generate(), {"rogue CA"}, now - 3600,
                                                                             now + 86400);
    const tls::config rogue{make_identity(rogue_ca, "rogue", pki::usage::client), anchors, "echo.local"};
    auto conn = tls::tcp_connection::connect("127.0.0.1", listener.port());
    auto ch = tls::channel::client(rogue);
    const bool got_in = conn.handshake(ch).has_value() && conn.send(ch, std::vector<std::uint8_t>{'x'}).has_value() &&
                        conn.receive(ch).value_or(std::vector<std::uint8_t>{}).size() == 1;
    std::printf("rogue client: %s\n", got_in ? "got in?!" : "refused");
    ok = ok && !got_in;
  }
  server.join();
  std::printf("%s\n", ok ? "mTLS echo works; a foreign certificate is refused" : "UNEXPECTED RESULT");
  return ok ? 0 : 1;
}
