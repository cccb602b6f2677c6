// Signed HTTP requests on 127.0.0.1: a minimal HTTP/1.1 server (plain POSIX
// sockets) verifies RFC 9421 signatures; clients sign with an HMAC API key
// and with an Ed25519 key. Shows an accepted request, a replayed one and a
// tampered one rejected, each with the reason the server logs (the client
// only ever sees "401 invalid request signature").
//
//   signed_http

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <ctime>
#include <optional>
#include <string>
#include <thread>

#include <sepal/http/api_key.hpp>
#include <sepal/http/signer.hpp>
#include <sepal/http/verifier.hpp>

namespace {

namespace http = sepal::http;

constexpr std::size_t max_request = 64 * 1024;  // headers and body: refuse more

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

/// Reads one request: headers up to CRLFCRLF, then Content-Length bytes.
std::optional<std::string> read_request(int fd) {
  std::string in;
  char buf[4096];
  std::size_t want = std::string::npos;
  while (in.size() < want) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    in.append(buf, static_cast<std::size_t>(n));
    if (in.size() > max_request) return std::nullopt;
    const auto end = in.find("\r\n\r\n");
    if (want == std::string::npos && end != std::string::npos) {
      std::size_t length = 0;
      const auto cl = in.find("\r\nContent-Length: ");
      if (cl != std::string::npos && cl < end) length = std::stoul(in.substr(cl + 18, 10));
      if (length > max_request) return std::nullopt;
      want = end + 4 + length;
    }
  }
  return in;
}

/// The server's view of a request: method, target URI (from the request
/// line and Host), fields and body.
std::optional<http::message> parse_request(const std::string& raw) {
  const auto line_end = raw.find("\r\n");
  const auto head_end = raw.find("\r\n\r\n");
  const auto sp1 = raw.find(' ');
  const auto sp2 = raw.find(' ', sp1 + 1);
  if (line_end == std::string::npos || sp2 == std::string::npos || sp2 > line_end) return std::nullopt;
  http::message m = http::message::request(raw.substr(0, sp1), "");
  const std::string target = raw.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string host;
  for (std::size_t at = line_end + 2; at < head_end;) {
    const auto eol = raw.find("\r\n", at);
    const auto colon = raw.find(':', at);
    if (colon == std::string::npos || colon > eol) return std::nullopt;
    m.add(raw.substr(at, colon - at), raw.substr(colon + 1, eol - colon - 1));
    if (http::message::equal_ignoring_case(m.fields.back().name, "host")) host = http::detail::canonical_line(m.fields.back().value);
    at = eol + 2;
  }
  m.target_uri = http::message::from_origin_form("http", host, target);
  m.content = raw.substr(head_end + 4);
  return m;
}

std::string serialize(const http::message& m) {
  const auto uri = http::uri_parts::parse(m.target_uri).value();
  std::string out = m.method + " " + uri.path + (uri.query ? "?" + *uri.query : "") + " HTTP/1.1\r\n";
  for (const auto& f : m.fields) out += f.name + ": " + f.value + "\r\n";
  out += "Content-Length: " + std::to_string(m.content.size()) + "\r\n\r\n" + m.content;
  return out;
}

class server {
 public:
  explicit server(std::shared_ptr<http::key_store> keys) : m_verifier(std::move(keys)) {
    m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(m_fd, 16) != 0) std::abort();
    socklen_t n = sizeof a;
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &n);
    m_port = ntohs(a.sin_port);
  }
  ~server() { ::close(m_fd); }
  [[nodiscard]] std::uint16_t port() const { return m_port; }

  /// Serves `count` connections, one request each.
  void serve(int count) {
    for (int i = 0; i < count; ++i) {
      const int c = ::accept(m_fd, nullptr, nullptr);
      if (c < 0) return;
      std::string status = "400 Bad Request", body = "bad request\n";
      if (const auto raw = read_request(c)) {
        if (const auto m = parse_request(*raw)) {
          const auto v = m_verifier.verify(*m, unix_now());
          if (v) {
            status = "200 OK";
            body = "hello, " + v->keyid + " (" + std::string(http::algorithm_name(v->alg)) + ")\n";
          } else {
            std::printf("  server log: rejected: %s\n", std::string(http::describe(v.failure())).c_str());
            status = "401 Unauthorized";
            body = std::string(v.public_reason()) + "\n";
          }
        }
      }
      const auto reply = "HTTP/1.1 " + status + "\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\nConnection: close\r\n\r\n" + body;
      (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

 private:
  http::request_verifier m_verifier;
  int m_fd;
  std::uint16_t m_port = 0;
};

/// Sends raw request bytes; returns the status line.
std::string send(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::abort();
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string reply;
  char buf[1024];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) reply.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return reply.substr(0, reply.find("\r\n"));
}

}  // namespace

int main() {
  // Server side: the registered keys. The API key's credential string is
  // what the client is given once; the server stores only the key.
  const auto api_key = http::api_key::generate();
  auto ed = sepal::private_key<sepal::ed25519>::generate();
  auto keys = std::make_shared<http::memory_key_store>();  // the verifier shares ownership
  keys->add(api_key.id(), "v1", api_key.verifier());
  keys->add("partner-ed25519", "v1", http::verification_key::ed25519(ed.public_key()));
  server srv(keys);
  std::thread thread([&] { srv.serve(5); });

  auto order = http::message::request("POST", "http://127.0.0.1:" + std::to_string(srv.port()) + "/v1/orders?dry_run=1");
  order.add("Host", "127.0.0.1:" + std::to_string(srv.port())).add("Content-Type", "application/json");
  order.content = R"({"item": 42, "quantity": 1})";

  std::printf("API key %s (credential %zu characters, never logged)\n", api_key.id().c_str(), api_key.credential().size());
  auto signed_order = order;
  if (!http::sign_request(signed_order, api_key.id(), api_key.signer(), unix_now())) return 1;
  const auto wire = serialize(signed_order);
  std::printf("1. signed request (hmac-sha256):\n");
  const auto first = send(srv.port(), wire);
  std::printf("  client got: %s\n", first.c_str());
  std::printf("2. the same bytes again (a replay):\n");
  const auto replay = send(srv.port(), wire);
  std::printf("  client got: %s\n", replay.c_str());
  std::printf("3. a fresh signature, body changed in transit:\n");
  auto tampered = order;
  if (!http::sign_request(tampered, api_key.id(), api_key.signer(), unix_now())) return 1;
  tampered.content = R"({"item": 42, "quantity": 100})";
  const auto changed = send(srv.port(), serialize(tampered));
  std::printf("  client got: %s\n", changed.c_str());
  std::printf("4. a fresh signature, path changed in transit:\n");
  auto moved = order;
  if (!http::sign_request(moved, api_key.id(), api_key.signer(), unix_now())) return 1;
  moved.target_uri = "http://127.0.0.1:" + std::to_string(srv.port()) + "/v1/refunds?dry_run=1";
  const auto rerouted = send(srv.port(), serialize(moved));
  std::printf("  client got: %s\n", rerouted.c_str());
  std::printf("5. a partner signing with its Ed25519 key:\n");
  auto partner = order;
  if (!http::sign_request(partner, "partner-ed25519", http::signing_key::ed25519(std::move(ed)), unix_now())) return 1;
  const auto by_partner = send(srv.port(), serialize(partner));
  std::printf("  client got: %s\n", by_partner.c_str());
  thread.join();

  const bool ok = first == "HTTP/1.1 200 OK" && replay == "HTTP/1.1 401 Unauthorized" &&
                  changed == "HTTP/1.1 401 Unauthorized" && rerouted == "HTTP/1.1 401 Unauthorized" &&
                  by_partner == "HTTP/1.1 200 OK";
  std::printf("%s\n", ok ? "accepted once; replay and tampering rejected" : "UNEXPECTED RESULT");
  return ok ? 0 : 1;
}
