// Password login over UDP (loopback): register a user, log in with SPAKE2+
// (RFC 9383) and exchange encrypted packets on the session it gives; then
// show that a wrong password and an unknown user fail the same way.
//
//   password_login [store-folder]
//
// The server keeps one login per peer and answers repeats of a message with
// the answer it already sent, so lost datagrams are recovered by the client's
// retransmission timer. A share does not spend the login: each well-formed
// share starts its own exchange, the server keeps the last 4 and offers a
// confirm to each, so a spoofed share cannot end a login; confirms that none
// accepts count as failures of the user name (rate limiting). Login messages
// start with their type (1..5); session packets have the fixed bit 0x40 set.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
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

/// The server: per peer, the login it is at or its session.
class udp_login_server {
 public:
  /// Pending replies kept per login: a spoofed share adds one, so a flood
  /// can push the genuine one out, but one share cannot end a login.
  static constexpr std::size_t max_pending_replies = 4;
  /// Confirms no pending reply accepted, per user name, before the server
  /// refuses that name's hellos (a real server would also let them expire).
  static constexpr int max_failures_per_user = 10;
  /// How long a login may stay pending before a new hello may replace it.
  static constexpr auto login_timeout = std::chrono::seconds(30);

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
  /// One exchange a share started, and the share, to answer its repeats.
  struct pending_reply {
    bytes share;
    pake::login_server_reply<> reply;
  };
  /// A login after its hello: never spent by a share.
  struct login {
    pake::login_server<> server;
    bytes hello;
    clock_type::time_point started;
    std::deque<pending_reply> replies;  // at most max_pending_replies, oldest first
  };
  struct peer {
    std::variant<std::monostate, login, sepal::session<>> state;
  };

  void handle(const sockaddr_in& from, std::span<std::uint8_t> msg, bytes& out) {
    if (msg.empty()) return;
    // Only a hello makes a peer entry: other datagrams from unknown
    // addresses leave no state.
    const auto id = demo::peer_id(from);
    if (msg[0] != 1 && !m_peers.contains(id)) return;
    auto& p = m_peers[id];
    if ((msg[0] & 0x40) != 0) {  // a session packet: echo it
      if (auto* s = std::get_if<sepal::session<>>(&p.state)) {
        auto opened = s->receiver().open_in_place({}, msg);
        if (opened) m_socket.send_to(from, s->seal({}, *opened, out));
      }
      return;
    }
    auto* l = std::get_if<login>(&p.state);
    if (msg[0] == 1) {  // hello
      if (l && std::ranges::equal(msg, l->hello)) {
        m_socket.send_to(from, l->server.params());  // the client missed our answer
        return;
      }
      // A spoofed hello replaces neither a session nor a login in progress.
      if (std::holds_alternative<sepal::session<>>(p.state)) return;
      if (l && clock_type::now() - l->started < login_timeout) return;
      auto s = pake::login_server<>::accept(m_config, msg);
      if (!s) return;
      if (m_failures[std::string(s->username())] >= max_failures_per_user) return;  // rate limit
      m_socket.send_to(from, s->params());
      p.state = login{std::move(*s), bytes(msg.begin(), msg.end()), clock_type::now(), {}};
    } else if (l && msg[0] == 3) {  // share: a new exchange, the login is not spent
      for (const auto& r : l->replies) {
        if (std::ranges::equal(msg, r.share)) {
          m_socket.send_to(from, r.reply.reply());  // a repeat: the same reply
          return;
        }
      }
      auto reply = l->server.receive_share(msg);
      if (!reply) return;
      m_socket.send_to(from, reply->reply());
      l->replies.push_back({bytes(msg.begin(), msg.end()), std::move(*reply)});
      if (l->replies.size() > max_pending_replies) l->replies.pop_front();
    } else if (l && msg[0] == 5) {  // confirm: offered to each pending reply
      for (auto it = l->replies.begin(); it != l->replies.end();) {
        auto done = it->reply.receive_confirm(msg);
        if (done) {
          std::printf("  server: %s logged in\n", done->username.c_str());
          m_failures.erase(done->username);
          p.state.emplace<sepal::session<>>(std::move(done->keys).make_session());  // one session per login
          return;  // nothing to answer: the client's first packet confirms the session
        }
        if (done.error() == sepal::errc::invalid_encoding) return;  // malformed: spends nothing
        it = l->replies.erase(it);  // a wrong MAC spent this reply: one guess per exchange
      }
      // No pending reply accepted it: one failed attempt for this user. The
      // login stays, so the client may retry with a fresh share.
      const auto failures = ++m_failures[std::string(l->server.username())];
      std::printf("  server: login of %s failed (%d so far)\n", std::string(l->server.username()).c_str(), failures);
    }
  }

  pake::login_server_config<> m_config;
  demo::udp_socket m_socket;
  std::map<std::uint64_t, peer> m_peers;
  std::map<std::string, int> m_failures;
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
  // A datagram that is not a reply to our share (malformed, or the server's
  // answer to a share someone spoofed from our address) spends nothing:
  // ignore it and keep waiting.
  std::optional<sepal::result<pake::login_result<>>> answer;
  for (int attempt = 0; attempt < 10 && !answer; ++attempt) {
    auto reply = exchange(sock, server, proof->share());
    if (!reply) return sepal::errc::io_error;
    auto r = proof->receive_reply(*reply);
    if (r || r.error() != sepal::errc::invalid_encoding) answer.emplace(std::move(r));
  }
  if (!answer) return sepal::errc::io_error;
  auto& done = *answer;
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
