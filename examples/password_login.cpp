// Password login over UDP (loopback): register a user, log in with SPAKE2+
// (RFC 9383) and exchange encrypted packets on the session it gives; then
// show that a wrong password and an unknown user fail the same way.
//
//   password_login [store-folder]
//
// The server keeps one login object per peer and answers repeats of a
// message with its last reply, so lost datagrams are recovered by the
// client's retransmission timer. Login messages start with their type (1..5);
// session packets have the fixed bit 0x40 set.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>
#include <variant>

#include <sepal/pake/file_user_store.hpp>
#include <sepal/pake/login.hpp>

#include "udp_echo.hpp"

namespace {

namespace pake = sepal::pake;
using demo::bytes;
using clock_type = std::chrono::steady_clock;
constexpr std::string_view server_name = "login.sepal.example";

/// The server: per peer, the login step it is at or its session.
class udp_login_server {
 public:
  udp_login_server(std::shared_ptr<pake::user_store<>> users, std::span<const std::uint8_t> fake_key)
      : m_config{std::string(server_name), std::move(users), sepal::secret_bytes::copy_of(fake_key),
                 pake::password_kdf::argon2id()} {}

  [[nodiscard]] std::uint16_t port() const { return m_socket.port(); }
  void stop() { m_stop = true; }

  void run() {
    bytes buf(2048), out(2048);
    while (!m_stop) {
      sockaddr_in from{};
      const auto n = m_socket.receive(buf, from, 50);
      if (n) handle(from, std::span(buf).first(*n), out);
    }
  }

 private:
  struct peer {
    std::variant<std::monostate, pake::login_server<>, pake::login_server_reply<>, sepal::session<>> state;
    bytes last_request, last_reply;  // for repeats
  };

  void handle(const sockaddr_in& from, std::span<std::uint8_t> msg, bytes& out) {
    auto& p = m_peers[demo::peer_id(from)];
    if (!msg.empty() && (msg[0] & 0x40) != 0) {  // a session packet: echo it
      if (auto* s = std::get_if<sepal::session<>>(&p.state)) {
        auto opened = s->receiver().open_in_place({}, msg);
        if (opened) m_socket.send_to(from, s->seal({}, *opened, out));
      }
      return;
    }
    if (msg.size() == p.last_request.size() && std::equal(msg.begin(), msg.end(), p.last_request.begin())) {
      m_socket.send_to(from, p.last_reply);  // the client missed our answer
      return;
    }
    if (msg.empty()) return;
    if (msg[0] == 1) {  // hello: a new login for this peer
      auto s = pake::login_server<>::accept(m_config, msg);
      if (!s) return;
      p.last_reply.assign(s->params().begin(), s->params().end());
      p.state = std::move(*s);
    } else if (auto* s = std::get_if<pake::login_server<>>(&p.state); s && msg[0] == 3) {
      auto reply = s->receive_share(msg);
      if (!reply) return;
      p.last_reply.assign(reply->reply().begin(), reply->reply().end());
      p.state = std::move(*reply);
    } else if (auto* r = std::get_if<pake::login_server_reply<>>(&p.state); r && msg[0] == 5) {
      auto done = r->receive_confirm(msg);
      if (!done) {
        std::printf("  server: login failed: %s\n", std::string(sepal::describe(done.error())).c_str());
        p = peer{};
        return;
      }
      std::printf("  server: %s logged in\n", done->username.c_str());
      p.state.emplace<sepal::session<>>(std::move(done->keys).make_session());  // one session per login
      p.last_request.clear();
      return;  // nothing to answer: the client's first packet confirms the session
    } else {
      return;
    }
    p.last_request.assign(msg.begin(), msg.end());
    m_socket.send_to(from, p.last_reply);
  }

  pake::login_server_config<> m_config;
  demo::udp_socket m_socket;
  std::map<std::uint64_t, peer> m_peers;
  std::atomic<bool> m_stop = false;
};

/// Sends `request` and waits for an answer, resending on a 300 ms timer.
std::optional<bytes> exchange(demo::udp_socket& sock, const sockaddr_in& server, std::span<const std::uint8_t> request) {
  bytes buf(2048);
  for (int attempt = 0; attempt < 10; ++attempt) {
    sock.send_to(server, request);
    sockaddr_in from{};
    if (const auto n = sock.receive(buf, from, 300)) return bytes(buf.begin(), buf.begin() + static_cast<long>(*n));
  }
  return std::nullopt;
}

/// One login; on success, three echoed packets. Returns the login error, if any.
std::optional<sepal::errc> client(std::uint16_t port, std::string_view user, std::string_view password) {
  demo::udp_socket sock;
  const auto server = demo::loopback(port);
  auto c = pake::login_client<>::start({std::string(server_name), {}}, user, password);
  auto params = exchange(sock, server, c.hello());
  if (!params) return sepal::errc::io_error;
  const auto t0 = clock_type::now();
  auto proof = c.receive_params(*params);
  if (!proof) return proof.error();
  const auto kdf_ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
  auto reply = exchange(sock, server, proof->share());
  if (!reply) return sepal::errc::io_error;
  auto done = proof->receive_reply(*reply);
  if (!done) return done.error();
  std::printf("  client: server proved it holds %s's record (password KDF %.0f ms)\n", done->username.c_str(), kdf_ms);
  sock.send_to(server, done->final_message);  // the echo below retries if this is lost
  auto session = std::move(done->keys).make_session();  // consumes the traffic keys
  bytes out(2048), back(2048), buf(2048);
  for (int i = 0; i < 3; ++i) {
    const std::string text = "secret packet " + std::to_string(i);
    const auto payload = std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    bool echoed = false;
    for (int attempt = 0; attempt < 10 && !echoed; ++attempt) {
      sock.send_to(server, session.seal({}, payload, out));
      sockaddr_in from{};
      const auto n = sock.receive(buf, from, 300);
      if (!n) {
        sock.send_to(server, done->final_message);  // the server may not have it yet
        continue;
      }
      auto opened = session.open({}, std::span(buf).first(*n), back);
      echoed = opened && std::equal(opened->begin(), opened->end(), payload.begin(), payload.end());
    }
    if (!echoed) return sepal::errc::io_error;
  }
  std::printf("  client: 3 packets echoed over the session\n");
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path folder = argc > 1 ? argv[1] : std::filesystem::temp_directory_path() / "sepal-users";
  const auto users = std::make_shared<pake::file_user_store<>>(folder);
  const auto kdf = pake::password_kdf::argon2id();
  const auto t0 = clock_type::now();
  users->add("alice", pake::register_password("correct horse battery staple", "alice", server_name, kdf));
  std::printf("registered alice in %s (Argon2id m=%u KiB t=%u p=%u, %.0f ms)\n", folder.c_str(), kdf.memory_or_n,
              kdf.iterations_or_r, kdf.parallelism,
              std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());

  const auto fake_key = sepal::random_bytes<32>();  // a real server loads a stable one
  udp_login_server server(users, fake_key);
  std::thread thread([&] { server.run(); });

  std::printf("alice, right password:\n");
  const auto ok = client(server.port(), "alice", "correct horse battery staple");
  std::printf("alice, wrong password:\n");
  const auto wrong = client(server.port(), "alice", "Tr0ub4dor&3");
  std::printf("  client: %s\n", wrong ? std::string(sepal::describe(*wrong)).c_str() : "logged in?!");
  std::printf("mallory (no such user):\n");
  const auto unknown = client(server.port(), "mallory", "anything");
  std::printf("  client: %s\n", unknown ? std::string(sepal::describe(*unknown)).c_str() : "logged in?!");

  server.stop();
  thread.join();
  const bool as_expected = !ok && wrong == sepal::errc::authentication_failed &&
                           unknown == sepal::errc::authentication_failed;
  std::printf("%s\n", as_expected ? "password login works; wrong password and unknown user fail alike"
                                  : "UNEXPECTED RESULT");
  return as_expected ? 0 : 1;
}
