#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include <sepal/pake/file_user_store.hpp>
#include <sepal/pake/login.hpp>

#include "test_support.hpp"

using namespace sepal_test;
namespace pake = sepal::pake;
using sepal::errc;

namespace {

/// Both ends' keys give sessions that carry `text` both ways.
template <class ClientKeys, class ServerKeys>
void check_sessions_agree(ClientKeys&& client_keys, ServerKeys&& server_keys, std::string_view text) {
  auto a = std::move(client_keys).make_session();
  auto b = std::move(server_keys).make_session();
  const auto msg = as_bytes(text);
  bytes wire(msg.size() + 64), got(msg.size() + 64);
  auto opened = b.open({}, a.seal({}, msg, wire), got);
  REQUIRE(opened.has_value());
  CHECK(copy(*opened) == msg);
  REQUIRE(a.open({}, b.seal({}, msg, wire), got).has_value());
}

constexpr auto cheap = pake::password_kdf::argon2id(64, 1, 1);
constexpr std::string_view server_name = "login.example";

struct server_fixture {
  temp_dir dir;
  std::shared_ptr<pake::file_user_store<>> users = std::make_shared<pake::file_user_store<>>(dir.path() / "users");
  bytes fake_key = bytes(32, 0x5a);
  pake::login_server_config<> config{std::string(server_name), users, sepal::secret_bytes::copy_of(fake_key), cheap};
  pake::login_client_config client{std::string(server_name), {}};

  void add(std::string_view user, std::string_view password) {
    users->add(user, pake::register_password(password, user, server_name, cheap));
  }
};

/// The messages and errors of one login attempt.
struct transcript {
  bytes hello, params, share, reply, confirm;
  std::optional<errc> client_error, server_error;
  std::optional<pake::login_result<>> client, server;
};

transcript login(server_fixture& f, std::string_view user, std::string_view password) {
  transcript t;
  auto c = pake::login_client<>::start(f.client, user, password);
  t.hello = copy(c.hello());
  auto s = pake::login_server<>::accept(f.config, c.hello());
  REQUIRE(s.has_value());
  t.params = copy(s->params());
  auto proof = c.receive_params(s->params());
  REQUIRE(proof.has_value());
  t.share = copy(proof->share());
  auto reply = s->receive_share(proof->share());
  REQUIRE(reply.has_value());
  t.reply = copy(reply->reply());
  auto done = proof->receive_reply(reply->reply());
  if (!done) {
    t.client_error = done.error();
    // The server then sees no confirmation, or a forged one: it fails too.
    t.confirm = bytes(1 + pake::default_spake2plus_suite::confirm_size, 5);
    auto r = reply->receive_confirm(t.confirm);
    REQUIRE_FALSE(r.has_value());
    t.server_error = r.error();
    return t;
  }
  t.confirm = done->final_message;
  auto r = reply->receive_confirm(done->final_message);
  if (r) t.server.emplace(std::move(*r));
  else t.server_error = r.error();
  t.client.emplace(std::move(*done));
  return t;
}

}  // namespace

TEST_CASE("password login gives both sides the user and a session", "[login]") {
  server_fixture f;
  f.add("alice", "correct horse battery staple");
  auto t = login(f, "alice", "correct horse battery staple");
  REQUIRE(t.client.has_value());
  REQUIRE(t.server.has_value());
  CHECK(t.server->username == "alice");
  CHECK(t.client->username == "alice");
  CHECK(t.server->final_message.empty());
  check_sessions_agree(std::move(t.client->keys), std::move(t.server->keys),
                       "hello over a password-authenticated channel");
}

TEST_CASE("wrong password, unknown user and tampering all look the same", "[login]") {
  server_fixture f;
  f.add("alice", "right");
  const auto ok = login(f, "alice", "right");
  REQUIRE(ok.server.has_value());

  const auto wrong = login(f, "alice", "wrong");
  const auto unknown = login(f, "mallory", "right");
  const auto unknown2 = login(f, "mallory", "other");
  for (const auto* t : {&wrong, &unknown}) {
    CHECK(t->client_error == errc::authentication_failed);
    CHECK(t->server_error == errc::authentication_failed);
    // Every message has the size it has for a real user.
    CHECK(t->params.size() == ok.params.size());
    CHECK(t->share.size() == ok.share.size());
    CHECK(t->reply.size() == ok.reply.size());
  }
  // An unknown user's params are stable (a fresh salt per attempt would tell),
  // and differ from another name's.
  CHECK(unknown.params == unknown2.params);
  CHECK(unknown.params != login(f, "trudy", "x").params);
  CHECK(ok.params == wrong.params);
  // The fake record advertises the registration KDF.
  CHECK(std::equal(ok.params.begin(), ok.params.begin() + 15, unknown.params.begin()));
}

TEST_CASE("login messages: tampering, replays and malformed input", "[login]") {
  server_fixture f;
  f.add("alice", "pw");
  auto c = pake::login_client<>::start(f.client, "alice", "pw");
  auto s = pake::login_server<>::accept(f.config, c.hello());
  REQUIRE(s.has_value());

  SECTION("a tampered salt or KDF makes the client derive other secrets") {
    auto params = copy(s->params());
    params.back() ^= 1;  // last salt byte
    auto proof = c.receive_params(params);
    REQUIRE(proof.has_value());
    auto reply = s->receive_share(proof->share());
    REQUIRE(reply.has_value());
    CHECK(proof->receive_reply(reply->reply()).error() == errc::authentication_failed);
  }
  SECTION("malformed params do not spend the client; a real answer still works") {
    auto params = copy(s->params());
    for (const auto& bad : {bytes{}, bytes{2}, bytes(params.begin(), params.end() - 1), bytes(1, 9)}) {
      CHECK(c.receive_params(bad).error() == errc::invalid_encoding);
    }
    auto over = params;
    over[3] = 0x7f;  // Argon2id memory field: about 2 TiB
    CHECK(c.receive_params(over).error() == errc::limit_reached);
    // Neither spends the client: a spoofed params message cannot end the login.
    auto proof = c.receive_params(params);
    REQUIRE(proof.has_value());
    CHECK(c.receive_params(params).error() == errc::already_finished);
  }
  SECTION("a replayed share or reply from another login fails at the end") {
    auto proof = c.receive_params(s->params());
    REQUIRE(proof.has_value());
    auto reply = s->receive_share(proof->share());
    REQUIRE(reply.has_value());
    auto done = proof->receive_reply(reply->reply());
    REQUIRE(done.has_value());
    REQUIRE(reply->receive_confirm(done->final_message).has_value());

    // An eavesdropper replays the whole client side to a new server login.
    auto s2 = pake::login_server<>::accept(f.config, c.hello());
    REQUIRE(s2.has_value());
    auto reply2 = s2->receive_share(proof->share());
    REQUIRE(reply2.has_value());
    CHECK(reply2->receive_confirm(done->final_message).error() == errc::authentication_failed);
    // The old reply to a new client login: it echoes another share, so the
    // client ignores it without spending anything (login v2).
    auto c2 = pake::login_client<>::start(f.client, "alice", "pw");
    auto proof2 = c2.receive_params(s->params());
    REQUIRE(proof2.has_value());
    CHECK(proof2->receive_reply(reply->reply()).error() == errc::invalid_encoding);
    auto reply3 = s->receive_share(proof2->share());
    REQUIRE(reply3.has_value());
    CHECK(proof2->receive_reply(reply3->reply()).has_value());
    // Spent objects say so.
    CHECK(reply->receive_confirm(done->final_message).error() == errc::already_finished);
  }
  SECTION("bit flips anywhere in share, reply or confirm fail") {
    for (int which = 0; which < 3; ++which) {
      for (std::size_t bit = 0; bit < 8 * 33; bit += 11) {
        auto cc = pake::login_client<>::start(f.client, "alice", "pw");
        auto ss = pake::login_server<>::accept(f.config, cc.hello());
        auto proof = cc.receive_params(ss->params());
        auto share = copy(proof->share());
        if (which == 0) share[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        auto reply = ss->receive_share(share);
        if (!reply) {
          CHECK(reply.error() == errc::invalid_encoding);
          continue;
        }
        auto r = copy(reply->reply());
        if (which == 1) r[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        auto done = proof->receive_reply(r);
        if (which == 0) {
          CHECK(done.error() == errc::authentication_failed);
          continue;
        }
        if (which == 1) {  // the type byte, the share's echo and shareV's shape: invalid_encoding
          const auto e = done.error();
          if (bit < 8 * (1 + pake::share_echo_size)) CHECK(e == errc::invalid_encoding);
          else CHECK((e == errc::authentication_failed || e == errc::invalid_encoding));
          continue;
        }
        REQUIRE(done.has_value());
        auto confirm = done->final_message;
        confirm[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        CHECK(reply->receive_confirm(confirm).error() ==
              (bit < 8 ? errc::invalid_encoding : errc::authentication_failed));  // bit < 8: the type byte
      }
    }
  }
}

TEST_CASE("login hello validation and configuration errors", "[login]") {
  server_fixture f;
  CHECK_THROWS_AS(pake::login_client<>::start(f.client, "", "pw"), sepal::error);
  CHECK_THROWS_AS(pake::login_client<>::start(f.client, std::string(256, 'a'), "pw"), sepal::error);
  CHECK_THROWS_AS(pake::login_client<>::start(f.client, "tab\there", "pw"), sepal::error);
  auto hello = copy(pake::login_client<>::start(f.client, "alice", "pw").hello());
  CHECK(pake::login_server<>::accept(f.config, {}).error() == errc::invalid_encoding);
  auto bad = hello;
  CHECK(hello[1] == 2);  // login v2 (the reply echoes the share)
  bad[1] = 1;
  CHECK(pake::login_server<>::accept(f.config, bad).error() == errc::wrong_algorithm);
  bad = hello;
  bad[2] = pake::p384_sha512::id;
  CHECK(pake::login_server<>::accept(f.config, bad).error() == errc::wrong_algorithm);
  bad = hello;
  bad.push_back(0);
  CHECK(pake::login_server<>::accept(f.config, bad).error() == errc::invalid_encoding);
  bad = hello;
  bad[3] = 0;  // empty name
  bad.resize(4);
  CHECK(pake::login_server<>::accept(f.config, bad).error() == errc::invalid_encoding);
  // Another suite's server refuses a P-256 hello, and vice versa.
  auto users384 = std::make_shared<pake::file_user_store<pake::p384_sha512>>(f.dir.path() / "users384");
  pake::login_server_config<pake::p384_sha512> config384{std::string(server_name), users384,
                                                          sepal::secret_bytes::copy_of(f.fake_key), cheap};
  CHECK(pake::login_server<pake::p384_sha512>::accept(config384, hello).error() == errc::wrong_algorithm);
  pake::login_server_config<> no_key{std::string(server_name), f.users, {}, cheap};
  CHECK(pake::login_server<>::accept(no_key, hello).error() == errc::invalid_argument);
  pake::login_server_config<> no_store{std::string(server_name), nullptr, sepal::secret_bytes::copy_of(f.fake_key), cheap};
  CHECK(pake::login_server<>::accept(no_store, hello).error() == errc::invalid_argument);
}

TEST_CASE("prehashed login: secrets from another KDF", "[login]") {
  server_fixture f;
  bytes seed(2 * pake::default_spake2plus_suite::w_seed_size);
  sepal::system_rng().randomize(seed);
  const auto secrets = pake::prover_secrets<>::from_seed(seed);
  f.users->add("bob", pake::verifier_record<>::create(secrets, pake::password_kdf::external(), {}));
  auto c = pake::login_client<>::start_prehashed(f.client, "bob", pake::prover_secrets<>::from_seed(seed));
  auto s = pake::login_server<>::accept(f.config, c.hello());
  auto proof = c.receive_params(s->params());
  REQUIRE(proof.has_value());
  auto reply = s->receive_share(proof->share());
  auto done = proof->receive_reply(reply->reply());
  REQUIRE(done.has_value());
  CHECK(reply->receive_confirm(done->final_message).has_value());
}

TEST_CASE("the file store never turns a user name into a path", "[login][store]") {
  temp_dir dir;
  pake::file_user_store<> users(dir.path() / "users");
  const auto record = pake::register_password("pw", "x", server_name, cheap);
  for (std::string_view name : {"../../etc/passwd", "/etc/passwd", "a/b", "..", ".", "ünïcødé", "alice"}) {
    const auto path = users.path_of(name);
    CHECK(path.parent_path() == dir.path() / "users");
    CHECK(path.filename().string().size() == 64 + std::string(".record").size());
    CHECK(path.filename().string().find_first_not_of("0123456789abcdef") == 64);
    users.add(name, pake::register_password("pw", name, server_name, cheap));
    CHECK(users.find(name).has_value());
  }
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()) == 1);
  CHECK_FALSE(users.find("nobody").has_value());
  CHECK_FALSE(users.find("").has_value());
  CHECK_THROWS_AS(users.add("", record), sepal::error);
  // Records are private, the folder too.
  const auto perms = std::filesystem::status(users.path_of("alice")).permissions();
  CHECK((perms & std::filesystem::perms::group_all) == std::filesystem::perms::none);
  CHECK((perms & std::filesystem::perms::others_all) == std::filesystem::perms::none);
  // A corrupt record reads as no user (the login then fails like a wrong password).
  {
    std::ofstream out(users.path_of("alice"), std::ios::binary | std::ios::trunc);
    out << "garbage";
  }
  CHECK_FALSE(users.find("alice").has_value());
  CHECK(users.remove("a/b"));
  CHECK_FALSE(users.remove("a/b"));
}

namespace {

template <class K>
concept lvalue_makes_session = requires(K& k) { k.make_session(); };
template <class K>
concept rvalue_makes_session = requires(K&& k) { std::move(k).make_session(); };

/// `genuine` with its type byte changed, one byte short and one byte long.
std::vector<bytes> malformed_variants(const bytes& genuine) {
  auto wrong_type = genuine;
  wrong_type[0] = static_cast<std::uint8_t>(wrong_type[0] % 5 + 1);  // another login message type
  auto longer = genuine;
  longer.push_back(0);
  return {bytes{genuine[0]}, bytes{}, wrong_type, bytes(genuine.begin(), genuine.end() - 1), longer};
}

}  // namespace

TEST_CASE("Finding 7: spoofed malformed datagrams end no login, on either side", "[login][finding7]") {
  server_fixture f;
  f.add("alice", "pw");
  auto c = pake::login_client<>::start(f.client, "alice", "pw");
  auto s = pake::login_server<>::accept(f.config, c.hello());
  REQUIRE(s.has_value());

  // Client: params. 1 byte, empty, wrong type, wrong length; then the real one.
  const auto params = copy(s->params());
  for (const auto& bad : malformed_variants(params)) CHECK(c.receive_params(bad).error() == errc::invalid_encoding);
  auto proof = c.receive_params(params);
  REQUIRE(proof.has_value());

  // Server: share.
  const auto share = copy(proof->share());
  for (const auto& bad : malformed_variants(share)) CHECK(s->receive_share(bad).error() == errc::invalid_encoding);
  auto reply = s->receive_share(share);
  REQUIRE(reply.has_value());

  // Client: reply.
  const auto reply_msg = copy(reply->reply());
  for (const auto& bad : malformed_variants(reply_msg))
    CHECK(proof->receive_reply(bad).error() == errc::invalid_encoding);
  auto done = proof->receive_reply(reply_msg);
  REQUIRE(done.has_value());

  // Server: confirm. The old code spent the exchange on the first of these.
  const auto confirm = done->final_message;
  for (const auto& bad : malformed_variants(confirm))
    CHECK(reply->receive_confirm(bad).error() == errc::invalid_encoding);
  auto server_done = reply->receive_confirm(confirm);
  REQUIRE(server_done.has_value());
  CHECK(server_done->username == "alice");

  // Both ends still agree.
  check_sessions_agree(std::move(done->keys), std::move(server_done->keys), "after a spoofing attempt");
}

TEST_CASE("Finding 7: a well-formed wrong confirmation spends the server (one guess per exchange)", "[login][finding7]") {
  server_fixture f;
  f.add("alice", "pw");
  auto c = pake::login_client<>::start(f.client, "alice", "pw");
  auto s = pake::login_server<>::accept(f.config, c.hello());
  auto proof = c.receive_params(s->params());
  auto reply = s->receive_share(proof->share());
  auto done = proof->receive_reply(reply->reply());
  REQUIRE(done.has_value());
  auto forged = done->final_message;
  forged.back() ^= 1;
  CHECK(reply->receive_confirm(forged).error() == errc::authentication_failed);
  CHECK(reply->receive_confirm(done->final_message).error() == errc::already_finished);
}

TEST_CASE("Finding 14: spent login steps report already_finished", "[login][finding14]") {
  server_fixture f;
  f.add("alice", "pw");
  auto t = login(f, "alice", "pw");
  REQUIRE(t.server.has_value());
  auto c = pake::login_client<>::start(f.client, "alice", "pw");
  auto s = pake::login_server<>::accept(f.config, c.hello());
  auto proof = c.receive_params(s->params());
  REQUIRE(proof.has_value());
  CHECK(c.receive_params(s->params()).error() == errc::already_finished);
  auto reply = s->receive_share(proof->share());
  REQUIRE(reply.has_value());
  // The server's first step is never spent (hardening #7): another share,
  // even the same one, is another exchange, with a fresh shareV.
  auto again = s->receive_share(proof->share());
  REQUIRE(again.has_value());
  CHECK(copy(again->reply()) != copy(reply->reply()));
  auto done = proof->receive_reply(reply->reply());
  REQUIRE(done.has_value());
  CHECK(proof->receive_reply(reply->reply()).error() == errc::already_finished);
  REQUIRE(reply->receive_confirm(done->final_message).has_value());
  const auto e = reply->receive_confirm(done->final_message).error();
  CHECK(e == errc::already_finished);
  CHECK(sepal::describe(e) == "already finished");
}

TEST_CASE("Finding 2: login_result keys give one session", "[login][finding2]") {
  server_fixture f;
  f.add("alice", "pw");
  auto t = login(f, "alice", "pw");
  REQUIRE(t.client.has_value());
  REQUIRE(t.server.has_value());
  static_assert(!lvalue_makes_session<decltype(t.client->keys)>);
  static_assert(rvalue_makes_session<decltype(t.client->keys)>);
  const auto exported = t.client->keys.export_key("app", {}, 32);
  auto a = std::move(t.client->keys).make_session();
  try {
    (void)std::move(t.client->keys).make_session();
    FAIL("a second session from one login");
  } catch (const sepal::error& e) {
    CHECK(e.code() == errc::already_finished);
  }
  CHECK(sepal::constant_time_equal(t.client->keys.export_key("app", {}, 32), exported));
  CHECK(sepal::constant_time_equal(t.server->keys.export_key("app", {}, 32), exported));
  auto b = std::move(*t.server).keys.make_session();
  const auto msg = as_bytes("x");
  bytes wire(msg.size() + 64), got(msg.size() + 64);
  REQUIRE(b.open({}, a.seal({}, msg, wire), got).has_value());
}

TEST_CASE("password_kdf_limits: params above the registration defaults are refused before any KDF work",
          "[login][kdf_limits]") {
  server_fixture f;
  f.add("alice", "pw");
  auto c = pake::login_client<>::start(f.client, "alice", "pw");  // default limits
  auto s = pake::login_server<>::accept(f.config, c.hello());
  const auto params = copy(s->params());
  // type, version, KDF function, then m, t, p as big-endian u32 (docs/password-login.md §3).
  const auto with = [&](std::uint32_t m, std::uint32_t t, std::uint32_t p) {
    auto b = params;
    for (int i = 0; i < 4; ++i) {
      b[3 + i] = static_cast<std::uint8_t>(m >> (24 - 8 * i));
      b[7 + i] = static_cast<std::uint8_t>(t >> (24 - 8 * i));
      b[11 + i] = static_cast<std::uint8_t>(p >> (24 - 8 * i));
    }
    return b;
  };
  const auto started = std::chrono::steady_clock::now();
  for (const auto& over : {with(65536 + 8, 3, 4), with(65536, 4, 4), with(65536, 3, 5), with(131072, 1, 1),
                           with(1u << 20, 16, 16), with(1u << 22, 1000, 4)}) {
    CHECK(c.receive_params(over).error() == errc::limit_reached);
  }
  // Running any of them would take far longer (the last one: hours).
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
  // Not spent: the genuine params still work, and the login completes.
  auto proof = c.receive_params(params);
  REQUIRE(proof.has_value());
  auto reply = s->receive_share(proof->share());
  REQUIRE(reply.has_value());
  CHECK(proof->receive_reply(reply->reply()).has_value());
}

TEST_CASE("Finding 12: login configs own their names, key and store", "[login][finding12]") {
  static_assert(std::is_same_v<decltype(pake::login_server_config<>::server_id), std::string>);
  static_assert(std::is_same_v<decltype(pake::login_server_config<>::users), std::shared_ptr<pake::user_store<>>>);
  static_assert(std::is_same_v<decltype(pake::login_server_config<>::fake_record_key), sepal::secret_bytes>);
  static_assert(std::is_same_v<decltype(pake::login_client_config::server_id), std::string>);
  temp_dir dir;
  pake::login_server_config<> config;
  pake::login_client_config client;
  {
    // Everything the configs are built from dies (and is scribbled over) here.
    std::string name(server_name);
    auto key = bytes(32, 0x5a);
    auto users = std::make_shared<pake::file_user_store<>>(dir.path() / "users");
    users->add("alice", pake::register_password("pw", "alice", name, cheap));
    config.server_id = name;
    client.server_id = name;
    config.fake_record_key = sepal::secret_bytes::copy_of(key);
    config.users = users;
    config.kdf_for_unknown_users = cheap;
    name.assign(name.size(), 'X');
    std::fill(key.begin(), key.end(), 0);
  }
  auto c = pake::login_client<>::start(client, "alice", "pw");
  auto s = pake::login_server<>::accept(config, c.hello());
  REQUIRE(s.has_value());
  auto proof = c.receive_params(s->params());
  REQUIRE(proof.has_value());
  auto reply = s->receive_share(proof->share());
  REQUIRE(reply.has_value());
  auto done = proof->receive_reply(reply->reply());
  REQUIRE(done.has_value());
  CHECK(reply->receive_confirm(done->final_message).has_value());
}

namespace {

/// A share anyone can make: a valid P-256 point (here the generator
/// multiple of a fresh prover with random secrets), framed as a share.
bytes spoofed_share() {
  bytes seed(2 * pake::default_spake2plus_suite::w_seed_size);
  sepal::system_rng().randomize(seed);
  const auto secrets = pake::prover_secrets<>::from_seed(seed);
  const auto p = pake::prover<>::start(secrets, {"attacker", "alice", "anyone"});
  bytes share(1 + p.share().size(), 3);  // the share message's type byte (docs/password-login.md §3), then X
  std::copy(p.share().begin(), p.share().end(), share.begin() + 1);
  return share;
}

}  // namespace

TEST_CASE("hardening #7: a spoofed well-formed share does not end the server's login", "[login][hardening]") {
  server_fixture f;
  f.add("alice", "pw");
  auto c = pake::login_client<>::start(f.client, "alice", "pw");
  auto s = pake::login_server<>::accept(f.config, c.hello());
  REQUIRE(s.has_value());
  CHECK(s->username() == "alice");
  auto proof = c.receive_params(s->params());
  REQUIRE(proof.has_value());

  // An off-path attacker's share arrives first. It needs no secret: any
  // curve point will do. The old code spent the login_server here, and the
  // genuine share below got already_finished.
  const auto spoofed = spoofed_share();
  REQUIRE(spoofed.size() == proof->share().size());
  auto spoofed_reply = s->receive_share(spoofed);
  REQUIRE(spoofed_reply.has_value());

  // The server sends that exchange's reply to the client's address: it
  // echoes another share, so the client ignores it and is not spent.
  CHECK(proof->receive_reply(spoofed_reply->reply()).error() == errc::invalid_encoding);

  // The genuine share still starts an exchange, and the login completes.
  auto genuine_reply = s->receive_share(proof->share());
  INFO("receive_share: " << (genuine_reply ? "ok" : sepal::describe(genuine_reply.error())));
  REQUIRE(genuine_reply.has_value());
  auto done = proof->receive_reply(genuine_reply->reply());
  REQUIRE(done.has_value());

  // The caller offers the confirm to each pending reply: the spoofed one
  // fails and is spent (only it)...
  CHECK(spoofed_reply->receive_confirm(done->final_message).error() == errc::authentication_failed);
  CHECK(spoofed_reply->receive_confirm(done->final_message).error() == errc::already_finished);
  // ...and the genuine one succeeds, after that.
  auto server_done = genuine_reply->receive_confirm(done->final_message);
  REQUIRE(server_done.has_value());
  CHECK(server_done->username == "alice");

  check_sessions_agree(std::move(done->keys), std::move(server_done->keys), "after a spoofed share");
}

TEST_CASE("hardening #7: each share is its own exchange, with one guess each", "[login][hardening]") {
  server_fixture f;
  f.add("alice", "pw");
  auto c = pake::login_client<>::start(f.client, "alice", "pw");
  auto s = pake::login_server<>::accept(f.config, c.hello());
  REQUIRE(s.has_value());
  auto proof = c.receive_params(s->params());
  REQUIRE(proof.has_value());
  // A flood of spoofed shares before and after the genuine one: every one
  // gets a reply, none touches the others.
  std::vector<pake::login_server_reply<>> pending;
  const auto spoof = [&] {
    auto r = s->receive_share(spoofed_share());
    REQUIRE(r.has_value());
    pending.push_back(std::move(*r));
  };
  for (int i = 0; i < 3; ++i) spoof();
  auto genuine = s->receive_share(proof->share());
  INFO("receive_share: " << (genuine ? "ok" : sepal::describe(genuine.error())));
  REQUIRE(genuine.has_value());
  for (int i = 0; i < 3; ++i) spoof();
  auto done = proof->receive_reply(genuine->reply());
  REQUIRE(done.has_value());
  // A malformed confirm spends none of them.
  for (auto& r : pending) CHECK(r.receive_confirm(bytes{5, 1, 2}).error() == errc::invalid_encoding);
  // A well-formed wrong confirm (the attacker's one guess) spends only the
  // reply it is offered to.
  auto forged = done->final_message;
  forged.back() ^= 1;
  CHECK(pending[0].receive_confirm(forged).error() == errc::authentication_failed);
  CHECK(pending[0].receive_confirm(done->final_message).error() == errc::already_finished);
  for (std::size_t i = 1; i < pending.size(); ++i)
    CHECK(pending[i].receive_confirm(done->final_message).error() == errc::authentication_failed);
  CHECK(genuine->receive_confirm(done->final_message).has_value());
}

TEST_CASE("hardening #7: a spoofed well-formed reply does not end the client's login", "[login][hardening]") {
  server_fixture f;
  f.add("alice", "pw");
  auto c = pake::login_client<>::start(f.client, "alice", "pw");
  auto s = pake::login_server<>::accept(f.config, c.hello());
  REQUIRE(s.has_value());
  auto proof = c.receive_params(s->params());
  REQUIRE(proof.has_value());
  // An off-path attacker's reply: a valid shareV and any confirmV, but it
  // never saw shareP, so its echo is a guess. The old code (no echo) spent
  // the client on any reply with a valid point.
  for (int i = 0; i < 4; ++i) {
    const auto share = spoofed_share();
    bytes forged{4};
    const auto echo = sepal::random_bytes<pake::share_echo_size>();
    forged.insert(forged.end(), echo.begin(), echo.end());
    forged.insert(forged.end(), share.begin() + 1, share.end());  // a valid point as shareV
    forged.resize(forged.size() + pake::default_spake2plus_suite::confirm_size, 0x33);
    CHECK(proof->receive_reply(forged).error() == errc::invalid_encoding);
  }
  auto reply = s->receive_share(proof->share());
  REQUIRE(reply.has_value());
  CHECK(reply->reply().size() == 1 + pake::share_echo_size + 65 + 32);
  auto done = proof->receive_reply(reply->reply());
  REQUIRE(done.has_value());
  CHECK(reply->receive_confirm(done->final_message).has_value());

  // With the right echo (an attacker who saw the share), a reply that does
  // not verify still spends the step: one password guess per exchange.
  auto c2 = pake::login_client<>::start(f.client, "alice", "pw");
  auto proof2 = c2.receive_params(s->params());
  REQUIRE(proof2.has_value());
  auto reply2 = s->receive_share(proof2->share());
  REQUIRE(reply2.has_value());
  auto tampered = copy(reply2->reply());
  tampered.back() ^= 1;  // confirmV
  CHECK(proof2->receive_reply(tampered).error() == errc::authentication_failed);
  CHECK(proof2->receive_reply(reply2->reply()).error() == errc::already_finished);
}
