// libFuzzer harness: every SPAKE2+ and login parser, through the public API:
// verifier records, the server's hello, share and confirm, the client's
// params and reply, and the raw RFC 9383 messages. Invariants: nothing
// throws; nothing an attacker sends completes an exchange without the
// password.

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <sepal/pake/login.hpp>
#include <sepal/pake/spake2plus.hpp>

namespace {

namespace pake = sepal::pake;
using suite = pake::default_spake2plus_suite;

void require(bool ok) {
  if (!ok) std::abort();
}

constexpr auto cheap = pake::password_kdf::argon2id(64, 1, 1);
constexpr std::string_view server_name = "fuzz.example";

/// A store with one user, in memory.
struct one_user final : pake::user_store<suite> {
  std::optional<pake::verifier_record<suite>> find(std::string_view name) noexcept override {
    if (name != "alice") return std::nullopt;
    return pake::verifier_record<suite>::parse(record).value();
  }
  std::vector<std::uint8_t> record;
};

struct fixture {
  std::shared_ptr<one_user> users = std::make_shared<one_user>();
  pake::login_server_config<suite> server{std::string(server_name), users,
                                          sepal::secret_bytes::copy_of(std::vector<std::uint8_t>(32, 7)), cheap};
  // Tight limits: a fuzzed params message must not make the harness run a
  // 64 MiB KDF (the limit logic itself is what case 2 exercises).
  pake::login_client_config client{std::string(server_name), {1024, 2, 2}};
  fixture() {
    const auto r = pake::register_password<suite>("pw", "alice", server_name, cheap);
    const auto s = r.serialize();
    users->record.assign(s.reveal().begin(), s.reveal().end());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  if (size == 0) return 0;
  const std::span<const std::uint8_t> in(data + 1, size - 1);
  switch (data[0] % 7) {
    case 0: {  // a stored record
      auto r = pake::verifier_record<suite>::parse(in);
      if (r) require(pake::verifier_record<suite>::parse(r->serialize().reveal()).has_value());
      break;
    }
    case 1: {  // hello at the server
      (void)pake::login_server<suite>::accept(f.server, in);
      break;
    }
    case 2: {  // params at a client: a hostile server must not make it run a huge KDF
      auto c = pake::login_client<suite>::start(f.client, "alice", "pw");
      auto proof = c.receive_params(in);
      if (proof) require(in.size() >= 1 + 1 + 13 + 1 + 16);  // type, version, KDF, salt<1> of 16+
      break;
    }
    case 3: {  // share at the server: never throws; confirms only with the password
      auto c = pake::login_client<suite>::start(f.client, "alice", "pw");
      auto s = pake::login_server<suite>::accept(f.server, c.hello());
      require(s.has_value());
      auto reply = s->receive_share(in);
      if (reply) require(!reply->receive_confirm(in).has_value());
      break;
    }
    case 4: {  // reply at a client that sent a real share
      auto c = pake::login_client<suite>::start(f.client, "alice", "pw");
      auto s = pake::login_server<suite>::accept(f.server, c.hello());
      auto proof = c.receive_params(s->params());
      require(proof.has_value());
      auto r = proof->receive_reply(in);
      require(!r.has_value());  // x is fresh: nothing recorded passes
      if (r.error() == sepal::errc::invalid_encoding) {  // malformed: spent nothing, the real reply works
        auto reply = s->receive_share(proof->share());
        require(reply.has_value() && proof->receive_reply(reply->reply()).has_value());
      }
      break;
    }
    case 5: {  // confirm at a server that answered a real share
      auto c = pake::login_client<suite>::start(f.client, "alice", "pw");
      auto s = pake::login_server<suite>::accept(f.server, c.hello());
      auto proof = c.receive_params(s->params());
      auto reply = s->receive_share(proof->share());
      require(reply.has_value());
      auto r = reply->receive_confirm(in);
      require(!r.has_value());
      if (r.error() == sepal::errc::invalid_encoding) {  // malformed: spent nothing, the real confirm works
        auto done = proof->receive_reply(reply->reply());
        require(done.has_value() && reply->receive_confirm(done->final_message).has_value());
      }
      break;
    }
    default: {  // raw RFC 9383 shareP at a verifier
      const auto record = pake::verifier_record<suite>::parse(f.users->record).value();
      (void)pake::verifier<suite>::start(record, {"fuzz", "alice", server_name}, in);
      break;
    }
  }
  return 0;
}
