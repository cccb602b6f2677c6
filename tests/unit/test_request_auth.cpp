// Request authentication: sepal's signing profile against request_verifier's
// policy: replays, clock skew, expiry, required components, tampering, key
// rotation, algorithm confusion, the bounded nonce cache, API keys.

#include <catch2/catch_test_macros.hpp>

#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include <sepal/http/api_key.hpp>
#include <sepal/http/signer.hpp>
#include <sepal/http/verifier.hpp>

#include "test_support.hpp"

using namespace sepal_test;
namespace http = sepal::http;
using http::verify_failure;

namespace {

constexpr std::int64_t now = 1'800'000'000;

sepal::http::sf::bare_item sf_int(std::int64_t i) { return i; }

http::message request() {
  auto m = http::message::request("POST", "https://api.example.com/v1/orders?dry_run=1");
  m.add("Host", "api.example.com").add("Content-Type", "application/json");
  m.content = R"({"item": 42})";
  return m;
}

struct fixture {
  http::api_key key = http::api_key::generate();
  std::shared_ptr<http::memory_key_store> keys = std::make_shared<http::memory_key_store>();
  fixture() { keys->add(key.id(), "v1", key.verifier()); }
};

http::message signed_request(const fixture& f, std::int64_t at = now) {
  auto m = request();
  REQUIRE(http::sign_request(m, f.key.id(), f.key.signer(), at).has_value());
  return m;
}

}  // namespace

TEST_CASE("a signed request verifies once; its replay is refused", "[http][verify]") {
  fixture f;
  http::request_verifier v(f.keys);
  const auto m = signed_request(f);
  CHECK(m.values("content-digest").size() == 1);
  const auto ok = v.verify(m, now + 1);
  REQUIRE(ok.has_value());
  CHECK(ok->keyid == f.key.id());
  CHECK(ok->label == "sig");
  CHECK(ok->params.nonce().has_value());
  CHECK(ok->params.tag() == "sepal-request/1");
  const auto again = v.verify(m, now + 2);
  CHECK(again.failure() == verify_failure::replayed);
  CHECK(again.public_reason() == "invalid request signature");
  CHECK(again.http_status() == 401);
  // A fresh signature of the same request is fine.
  CHECK(v.verify(signed_request(f), now + 3).has_value());
}

TEST_CASE("clock skew, age and expiry are enforced", "[http][verify]") {
  fixture f;
  http::request_verifier v(f.keys);
  CHECK(v.verify(signed_request(f, now + 31), now).failure() == verify_failure::created_in_future);
  CHECK(v.verify(signed_request(f, now + 30), now).has_value());
  CHECK(v.verify(signed_request(f, now - 301), now).failure() == verify_failure::too_old);
  CHECK(v.verify(signed_request(f, now - 300), now).has_value());
  // expires shorter than max_age.
  auto m = request();
  http::signing_profile short_lived;
  short_lived.lifetime = 10;
  REQUIRE(http::sign_request(m, f.key.id(), f.key.signer(), now, short_lived).has_value());
  CHECK(v.verify(m, now + 11).failure() == verify_failure::expired);
  // No created, or no nonce, when required.
  http::verify_policy strict;
  strict.require_expires = true;
  http::request_verifier sv(f.keys, strict);
  http::signing_profile no_expiry;
  no_expiry.lifetime = 0;
  auto n = request();
  REQUIRE(http::sign_request(n, f.key.id(), f.key.signer(), now, no_expiry).has_value());
  CHECK(sv.verify(n, now).failure() == verify_failure::expired);
  auto hand = request();
  http::signature_params p;
  p.cover("@method").cover("@target-uri").cover("content-digest").keyid(f.key.id()).tag("sepal-request/1");
  hand.add("Content-Digest", http::content_digest(hand.content));
  http::attach(hand, http::sign(hand, "sig", p, f.key.signer()).value());
  CHECK(v.verify(hand, now).failure() == verify_failure::missing_created);
  auto no_nonce = request();
  p.created(now);
  no_nonce.add("Content-Digest", http::content_digest(no_nonce.content));
  http::attach(no_nonce, http::sign(no_nonce, "sig", p, f.key.signer()).value());
  CHECK(v.verify(no_nonce, now).failure() == verify_failure::missing_nonce);
}

TEST_CASE("tampering with method, path, query, header or body is caught", "[http][verify]") {
  fixture f;
  http::request_verifier v(f.keys);
  const auto tamper = [&](auto&& change) {
    auto m = signed_request(f);
    change(m);
    return v.verify(m, now).failure();
  };
  CHECK(tamper([](http::message& m) { m.method = "PUT"; }) == verify_failure::bad_signature);
  CHECK(tamper([](http::message& m) { m.target_uri = "https://api.example.com/v1/refunds?dry_run=1"; }) ==
        verify_failure::bad_signature);
  CHECK(tamper([](http::message& m) { m.target_uri = "https://api.example.com/v1/orders?dry_run=0"; }) ==
        verify_failure::bad_signature);
  CHECK(tamper([](http::message& m) { m.target_uri = "https://evil.example.com/v1/orders?dry_run=1"; }) ==
        verify_failure::bad_signature);
  CHECK(tamper([](http::message& m) { m.content = R"({"item": 43})"; }) == verify_failure::content_digest);
  CHECK(tamper([](http::message& m) {
          m.content = R"({"item": 43})";
          m.remove("content-digest");
          m.add("Content-Digest", http::content_digest(m.content));  // a new digest does not match the signature
        }) == verify_failure::bad_signature);
  CHECK(tamper([](http::message& m) { m.remove("content-digest"); }) == verify_failure::component);
  // A covered header: sign content-type too, then change it.
  http::signing_profile with_type;
  with_type.components.push_back("content-type");
  auto m = request();
  REQUIRE(http::sign_request(m, f.key.id(), f.key.signer(), now, with_type).has_value());
  m.fields[1].value = "text/plain";
  CHECK(v.verify(m, now).failure() == verify_failure::bad_signature);
  // Every byte of the signature matters.
  auto s = signed_request(f);
  for (auto& fl : s.fields)
    if (fl.name == "Signature") fl.value[6] = fl.value[6] == 'A' ? 'B' : 'A';
  CHECK(v.verify(s, now).failure() == verify_failure::bad_signature);
  // Whitespace and field-name case are safe transformations (RFC 9421 §1.3).
  auto safe = signed_request(f);
  for (auto& fl : safe.fields) {
    for (auto& ch : fl.name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    fl.value = "  " + fl.value + " ";
  }
  CHECK(v.verify(safe, now).has_value());
}

TEST_CASE("required components and policy errors", "[http][verify]") {
  fixture f;
  http::request_verifier v(f.keys);
  http::signing_profile minimal;
  minimal.components = {"@method"};
  auto m = request();
  REQUIRE(http::sign_request(m, f.key.id(), f.key.signer(), now, minimal).has_value());
  CHECK(v.verify(m, now).failure() == verify_failure::missing_component);
  // A body without a covered digest.
  minimal.components = {"@method", "@target-uri"};
  auto b = request();
  REQUIRE(http::sign_request(b, f.key.id(), f.key.signer(), now, minimal).has_value());
  CHECK(v.verify(b, now).failure() == verify_failure::missing_component);
  // No signature, another tag, another label, malformed fields, unknown key.
  CHECK(v.verify(request(), now).failure() == verify_failure::no_signature);
  http::signing_profile other_tag;
  other_tag.tag = "someone-else/1";
  auto t = request();
  REQUIRE(http::sign_request(t, f.key.id(), f.key.signer(), now, other_tag).has_value());
  CHECK(v.verify(t, now).failure() == verify_failure::wrong_tag);
  auto mal = signed_request(f);
  for (auto& fl : mal.fields)
    if (fl.name == "Signature-Input") fl.value += ",";
  CHECK(v.verify(mal, now).failure() == verify_failure::malformed);
  auto wrong_type = signed_request(f);
  for (auto& fl : wrong_type.fields)
    if (fl.name == "Signature") fl.value = "sig=\"not bytes\"";
  CHECK(v.verify(wrong_type, now).failure() == verify_failure::malformed);
  auto stranger = http::api_key::generate();
  auto u = request();
  REQUIRE(http::sign_request(u, stranger.id(), stranger.signer(), now).has_value());
  CHECK(v.verify(u, now).failure() == verify_failure::unknown_key);
  // A signature by another secret under a known id.
  auto forged = request();
  REQUIRE(http::sign_request(forged, f.key.id(), stranger.signer(), now).has_value());
  CHECK(v.verify(forged, now).failure() == verify_failure::bad_signature);
}

TEST_CASE("rotation: old and new secrets both verify until the old one is retired", "[http][verify]") {
  fixture f;
  // The new secret goes live under the same key id; clients move to it at their own pace.
  const auto next = http::api_key::generate();
  const auto rotated_signer = next.signer();
  f.keys->add(f.key.id(), "v2", next.verifier());
  http::request_verifier v(f.keys);
  auto old_signed = signed_request(f);
  auto new_signed = request();
  REQUIRE(http::sign_request(new_signed, f.key.id(), rotated_signer, now).has_value());
  CHECK(v.verify(old_signed, now).has_value());
  CHECK(v.verify(new_signed, now).has_value());
  CHECK(f.keys->retire(f.key.id(), "v1"));
  CHECK_FALSE(f.keys->retire(f.key.id(), "v1"));
  CHECK(v.verify(signed_request(f), now).failure() == verify_failure::bad_signature);
  auto newer = request();
  REQUIRE(http::sign_request(newer, f.key.id(), rotated_signer, now).has_value());
  CHECK(v.verify(newer, now).has_value());
  // Validity windows: a key scheduled to end stops verifying after its end.
  auto timed = std::make_shared<http::memory_key_store>();
  timed->add(f.key.id(), "v1", f.key.verifier(), now - 100, now + 100);
  http::request_verifier tv(timed);
  CHECK(tv.verify(signed_request(f, now + 100), now + 100).has_value());
  CHECK(tv.verify(signed_request(f, now + 101), now + 101).failure() == verify_failure::unknown_key);
}

TEST_CASE("public-key clients: ECDSA P-256/P-384 and Ed25519; no algorithm confusion", "[http][verify]") {
  auto p256 = sepal::private_key<sepal::p256>::generate();
  auto p384 = sepal::private_key<sepal::p384>::generate();
  auto ed = sepal::private_key<sepal::ed25519>::generate();
  auto keys = std::make_shared<http::memory_key_store>();
  keys->add("client-p256", "1", http::verification_key::ecdsa_p256_sha256(p256.public_key()));
  keys->add("client-p384", "1", http::verification_key::ecdsa_p384_sha384(p384.public_key()));
  keys->add("client-ed", "1", http::verification_key::ed25519(ed.public_key()));
  http::request_verifier v(keys);
  struct client {
    const char* id;
    http::signing_key key;
    http::algorithm alg;
  };
  client clients[] = {{"client-p256", http::signing_key::ecdsa_p256_sha256(std::move(p256)), http::algorithm::ecdsa_p256_sha256},
                      {"client-p384", http::signing_key::ecdsa_p384_sha384(std::move(p384)), http::algorithm::ecdsa_p384_sha384},
                      {"client-ed", http::signing_key::ed25519(std::move(ed)), http::algorithm::ed25519}};
  for (auto& c : clients) {
    auto m = request();
    REQUIRE(http::sign_request(m, c.id, c.key, now).has_value());
    const auto r = v.verify(m, now);
    REQUIRE(r.has_value());
    CHECK(r->alg == c.alg);
    CHECK(r->params.alg() == std::string(http::algorithm_name(c.alg)));
  }
  // A signature made by one client's key but claiming another's id fails.
  auto m = request();
  REQUIRE(http::sign_request(m, "client-p256", clients[2].key, now).has_value());
  CHECK(v.verify(m, now).failure() == verify_failure::algorithm_not_allowed);  // alg=ed25519 vs a P-256 key
  // An HMAC "signed" with a public key's bytes as the secret is refused by alg.
  http::signing_profile no_alg;
  no_alg.include_alg = false;
  auto confused = request();
  REQUIRE(http::sign_request(confused, "client-p256", http::signing_key::hmac_sha256_or_throw(sepal::secret_bytes::copy_of(bytes(65, 4))),
                             now, no_alg)
              .has_value());
  CHECK(v.verify(confused, now).failure() == verify_failure::bad_signature);
  // Policy can refuse algorithms outright.
  http::verify_policy only_ed;
  only_ed.allowed_algorithms = {http::algorithm::ed25519};
  http::request_verifier ev(keys, only_ed);
  auto p = request();
  REQUIRE(http::sign_request(p, "client-p384", clients[1].key, now).has_value());
  CHECK(ev.verify(p, now).failure() == verify_failure::algorithm_not_allowed);
  CHECK_FALSE(http::algorithm_from_name("rsa-v1_5-sha256").has_value());
}

TEST_CASE("the nonce cache keeps its memory under a flood and fails closed", "[http][verify]") {
  http::nonce_cache cache(1024, 1024);  // one key may take every slot here
  const auto bytes_before = cache.memory_bytes();
  CHECK(bytes_before == 1024 * 64);
  std::size_t fresh = 0, full = 0;
  for (int i = 0; i < 20000; ++i) {
    switch (cache.insert("k", "nonce-" + std::to_string(i), now, now + 300)) {
      case http::nonce_cache::outcome::fresh: ++fresh; break;
      case http::nonce_cache::outcome::full: ++full; break;
      case http::nonce_cache::outcome::replayed: FAIL("a fresh nonce reported as replayed"); break;
      case http::nonce_cache::outcome::over_quota: ++full; break;  // every slot taken: the same refusal
    }
  }
  CHECK(cache.memory_bytes() == bytes_before);
  CHECK(fresh <= 1024);
  CHECK(fresh > 900);  // the table fills almost completely before windows run out
  CHECK(full == 20000 - fresh);
  // Every accepted nonce is still refused as a replay while live.
  CHECK(cache.insert("k", "nonce-0", now, now + 300) == http::nonce_cache::outcome::replayed);
  // Once expired, slots are reused.
  CHECK(cache.insert("k", "later", now + 301, now + 600) == http::nonce_cache::outcome::fresh);
  CHECK(cache.insert("k", "nonce-0", now + 301, now + 600) == http::nonce_cache::outcome::fresh);
  // Key ids separate nonces.
  CHECK(cache.insert("other", "later", now + 301, now + 600) == http::nonce_cache::outcome::fresh);

  // Through the verifier: forged requests never enter the cache.
  fixture f;
  http::request_verifier v(f.keys, {}, 64);
  const auto stranger = http::api_key::generate();
  for (int i = 0; i < 1000; ++i) {
    auto m = request();
    REQUIRE(http::sign_request(m, f.key.id(), stranger.signer(), now).has_value());
    CHECK(v.verify(m, now).failure() == verify_failure::bad_signature);
  }
  CHECK(v.verify(signed_request(f), now).has_value());
}

TEST_CASE("API keys: generation, printable credential, parsing", "[http][apikey]") {
  const auto k = http::api_key::generate();
  CHECK(http::api_key::valid_id(k.id()));
  CHECK(k.id().starts_with("sk_"));
  const auto cred = k.credential();
  CHECK(cred.size() == k.id().size() + 1 + 44);
  auto parsed = http::api_key::parse(cred.reveal_text());
  REQUIRE(parsed.has_value());
  CHECK(parsed->id() == k.id());
  CHECK(sepal::constant_time_equal(parsed->credential(), cred));
  CHECK(http::api_key::generate().id() != k.id());
  for (std::string bad : {std::string(), std::string("sk_.x"), std::string(cred.reveal_text()) + "A",
                          "SK" + std::string(cred.reveal_text()).substr(2), std::string(cred.reveal_text()).substr(1),
                          k.id() + "." + std::string(44, '!')}) {
    CHECK(http::api_key::parse(bad).error() == sepal::errc::invalid_encoding);
  }
}

TEST_CASE("nonce cache quota: one authenticated key flooding the cache does not lock out the others",
          "[http][verify][nonce_quota]") {
  fixture a;
  const auto b_key = http::api_key::generate();
  auto store = std::make_shared<http::memory_key_store>();
  store->add(a.key.id(), "v1", a.key.verifier());
  store->add(b_key.id(), "v1", b_key.verifier());
  http::request_verifier v(store, {}, 1024);  // a quarter each: 256 live nonces per key id
  CHECK(v.nonces().per_key_limit() == 256);
  const auto memory = v.nonces().memory_bytes();

  // Key A floods with authenticated, fresh nonces until it is refused, and on.
  const auto first_of_a = signed_request(a);
  REQUIRE(v.verify(first_of_a, now).has_value());
  std::size_t accepted = 1, refused = 0;
  for (int i = 0; i < 2048; ++i) {
    const auto r = v.verify(signed_request(a), now);
    if (r) {
      ++accepted;
    } else {
      CHECK((r.failure() == verify_failure::nonce_quota || r.failure() == verify_failure::nonce_cache_full));
      ++refused;
    }
  }
  CHECK(accepted <= 256);
  CHECK(refused >= 2048 - 256);
  CHECK(v.nonces().memory_bytes() == memory);

  // Key B still verifies, every time.
  const auto signed_by_b = [&] {
    auto m = request();
    REQUIRE(http::sign_request(m, b_key.id(), b_key.signer(), now).has_value());
    return m;
  };
  const auto first_of_b = signed_by_b();
  REQUIRE(v.verify(first_of_b, now).has_value());
  for (int i = 0; i < 64; ++i) CHECK(v.verify(signed_by_b(), now).has_value());

  // Replays are still refused, for both (A's even while A is at its quota).
  CHECK(v.verify(first_of_a, now + 1).failure() == verify_failure::replayed);
  CHECK(v.verify(first_of_b, now + 1).failure() == verify_failure::replayed);

  // Once A's nonces expire, A is served again.
  CHECK(v.verify(signed_request(a, now + 302), now + 302).has_value());
}

TEST_CASE("nonce cache quota: counts are exact and expire", "[http][verify][nonce_quota]") {
  http::nonce_cache cache(256, 8);
  for (int i = 0; i < 8; ++i)
    CHECK(cache.insert("a", "n" + std::to_string(i), now, now + 10 + i) == http::nonce_cache::outcome::fresh);
  CHECK(cache.insert("a", "n8", now, now + 10) == http::nonce_cache::outcome::over_quota);
  CHECK(cache.insert("a", "n0", now, now + 10) == http::nonce_cache::outcome::replayed);
  CHECK(cache.insert("b", "n8", now, now + 10) == http::nonce_cache::outcome::fresh);
  // The first of a's nonces expires at now + 10: exactly one more fits then.
  CHECK(cache.insert("a", "n8", now + 9, now + 30) == http::nonce_cache::outcome::over_quota);
  CHECK(cache.insert("a", "n8", now + 10, now + 30) == http::nonce_cache::outcome::fresh);
  CHECK(cache.insert("a", "n9", now + 10, now + 30) == http::nonce_cache::outcome::over_quota);
  CHECK(cache.insert("a", "n9", now + 11, now + 30) == http::nonce_cache::outcome::fresh);
}

TEST_CASE("Finding 12: the verifier owns its policy and shares its key store", "[http][verify][finding12]") {
  static_assert(std::is_same_v<decltype(http::verify_policy::field_types)::value_type::first_type, std::string>);
  // Neither a temporary store nor one by reference: the verifier never keeps a pointer to a caller's store.
  static_assert(!std::is_constructible_v<http::request_verifier, http::memory_key_store&&>);
  static_assert(!std::is_constructible_v<http::request_verifier, http::memory_key_store&>);
  static_assert(!std::is_constructible_v<http::request_verifier, http::key_store&>);
  static_assert(std::is_constructible_v<http::request_verifier, std::shared_ptr<http::memory_key_store>>);
  CHECK_THROWS_AS(http::request_verifier(std::shared_ptr<http::key_store>()), sepal::error);

  const auto key = http::api_key::generate();
  std::optional<http::request_verifier> v;
  {
    // The store, the policy and its strings all die (and are scribbled over) here.
    auto store = std::make_shared<http::memory_key_store>();
    store->add(key.id(), "v1", key.verifier());
    http::verify_policy policy;
    std::string name = "x-order-priority";  // longer than the small-string buffer
    name += "-with-a-long-name-for-the-heap";
    policy.field_types.emplace_back(name, http::field_type::dictionary);
    v.emplace(store, std::move(policy));
    name.assign(name.size(), 'X');
  }
  auto m = request();
  m.add("X-Order-Priority-With-A-Long-Name-For-The-Heap", "a=1,  b=2");
  http::signature_params params;
  params.cover("@method").cover("@target-uri").cover("content-digest");
  http::sf::parameters sf_param{{"sf", true}};
  params.cover("x-order-priority-with-a-long-name-for-the-heap", sf_param);
  params.created(now).keyid(key.id()).nonce("n-1").tag("sepal-request/1");
  m.add("Content-Digest", http::content_digest(m.content));
  const std::pair<std::string_view, http::field_type> types[] = {
      {"x-order-priority-with-a-long-name-for-the-heap", http::field_type::dictionary}};
  auto fields = http::sign(m, "sig", params, key.signer(), types);
  REQUIRE(fields.has_value());
  http::attach(m, *fields);
  const auto r = v->verify(m, now);
  CHECK(r.has_value());
}

TEST_CASE("errors name the component and the reason; the verifier can show its base", "[http][verify][gap5]") {
  fixture f;
  // sign(): which component, and why.
  auto m = request();
  http::signature_params p;
  p.cover("@method").cover("x-missing").created(now);
  const auto s = http::sign(m, "sig", p, f.key.signer());
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error().code == sepal::errc::invalid_argument);
  REQUIRE(s.error().base.has_value());
  CHECK(s.error().base->code == http::base_error::missing_component);
  CHECK(s.error().base->index == 1);
  CHECK(s.error().base->component == "\"x-missing\"");
  const auto q = http::sign(m, "sig", http::signature_params().cover_query_param("nope").cover("@method"), f.key.signer());
  REQUIRE(q.error().base.has_value());
  CHECK(q.error().base->component == "\"@query-param\";name=\"nope\"");
  const auto d = http::sign(m, "sig", http::signature_params().cover("@method").cover("@method"), f.key.signer());
  CHECK(d.error().base->code == http::base_error::duplicate_component);
  CHECK(d.error().base->index == 1);
  const auto bad_label = http::sign(m, "Sig", p, f.key.signer());
  CHECK(bad_label.error().code == sepal::errc::invalid_argument);
  CHECK_FALSE(bad_label.error().base.has_value());
  CHECK(http::describe(http::base_error::missing_component) == "component missing from the message");

  // The verifier: the component that failed, and (when asked) the base.
  auto policy = http::verify_policy::strict();
  policy.keep_signature_base = true;
  http::request_verifier v(f.keys, policy);
  auto gone = signed_request(f);
  gone.remove("content-digest");
  const auto r = v.verify(gone, now);
  CHECK(r.failure() == verify_failure::component);
  REQUIRE(r.component_failure().has_value());
  CHECK(r.component_failure()->component == "\"content-digest\"");
  CHECK(r.component_failure()->code == http::base_error::missing_component);
  CHECK(r.public_reason() == "invalid request signature");  // the client still learns nothing
  auto tampered = signed_request(f);
  tampered.method = "PUT";
  const auto t = v.verify(tampered, now);
  CHECK(t.failure() == verify_failure::bad_signature);
  CHECK(t.signature_base().starts_with("\"@method\": PUT\n\"@target-uri\": https://api.example.com/v1/orders?dry_run=1\n"));
  const auto ok = v.verify(signed_request(f), now);
  REQUIRE(ok.has_value());
  CHECK(ok.signature_base().find("\"@signature-params\": (\"@method\" \"@target-uri\" \"content-digest\")") !=
        std::string::npos);
  // Off by default: no copy of the base.
  http::request_verifier quiet(f.keys);
  CHECK(quiet.verify(tampered, now).signature_base().empty());
}

TEST_CASE("generic clients: an untagged signature is wrong_tag; the interop preset accepts it", "[http][verify][gap6]") {
  fixture f;
  auto m = request();
  REQUIRE(http::sign_request(m, f.key.id(), f.key.signer(), now, http::signing_profile::interop()).has_value());
  const auto input = m.values("signature-input");
  REQUIRE(input.size() == 1);
  CHECK(input[0].find("nonce") == std::string_view::npos);
  CHECK(input[0].find("tag") == std::string_view::npos);
  http::request_verifier strict(f.keys);
  CHECK(strict.verify(m, now).failure() == verify_failure::wrong_tag);
  http::verify_policy labelled;
  labelled.label = "other";
  CHECK(http::request_verifier(f.keys, labelled).verify(signed_request(f), now).failure() ==
        verify_failure::wrong_label);
  CHECK(strict.verify(request(), now).failure() == verify_failure::no_signature);

  http::request_verifier generic(f.keys, http::verify_policy::interop());
  const auto ok = generic.verify(m, now + 1);
  REQUIRE(ok.has_value());
  CHECK_FALSE(ok->params.nonce().has_value());
  CHECK(generic.verify(m, now + 2).has_value());  // no nonce: a replay is not detected (documented)
  // Still required: created, expires, the components, the digest.
  auto no_expiry_profile = http::signing_profile::interop();
  no_expiry_profile.lifetime = 0;
  auto ne = request();
  REQUIRE(http::sign_request(ne, f.key.id(), f.key.signer(), now, no_expiry_profile).has_value());
  CHECK(generic.verify(ne, now).failure() == verify_failure::expired);
  CHECK(generic.verify(m, now + 301).failure() != verify_failure::no_signature);
  CHECK_FALSE(generic.verify(m, now + 301).has_value());
  auto body = m;
  body.content += " ";
  CHECK(generic.verify(body, now).failure() == verify_failure::content_digest);
  auto few = request();
  auto only_method = http::signing_profile::interop();
  only_method.components = {"@method", "content-digest"};
  REQUIRE(http::sign_request(few, f.key.id(), f.key.signer(), now, only_method).has_value());
  CHECK(generic.verify(few, now).failure() == verify_failure::missing_component);
  // A nonce, when sent, is still checked for replay under the preset.
  auto with_nonce = signed_request(f);
  CHECK(generic.verify(with_nonce, now).has_value());
  CHECK(generic.verify(with_nonce, now).failure() == verify_failure::replayed);
}

TEST_CASE("HMAC secrets: results, not exceptions; 16 bytes is the floor", "[http][keys][gap7]") {
  CHECK(http::min_hmac_secret_size == 16);
  CHECK(http::signing_key::hmac_sha256(sepal::secret_bytes::copy_of(bytes(15, 1))).error() ==
        sepal::errc::invalid_argument);
  CHECK(http::verification_key::hmac_sha256(sepal::secret_bytes::copy_of(bytes(15, 1))).error() ==
        sepal::errc::invalid_argument);
  CHECK(http::signing_key::hmac_sha256(sepal::secret_bytes::copy_of({})).error() == sepal::errc::invalid_argument);
  CHECK_THROWS_AS(http::signing_key::hmac_sha256_or_throw(sepal::secret_bytes::copy_of(bytes(15, 1))), sepal::error);
  // 16- and 20-byte secrets, as other implementations use, sign and verify.
  for (std::size_t n : {16u, 20u, 31u, 32u, 64u}) {
    auto sk = http::signing_key::hmac_sha256(sepal::secret_bytes::copy_of(bytes(n, 3)));
    REQUIRE(sk.has_value());
    auto keys = std::make_shared<http::memory_key_store>();
    keys->add("short", "1", http::verification_key::hmac_sha256(sepal::secret_bytes::copy_of(bytes(n, 3))).value());
    auto m = request();
    REQUIRE(http::sign_request(m, "short", *sk, now).has_value());
    http::request_verifier v(keys);
    CHECK(v.verify(m, now).has_value());
  }
}

TEST_CASE("verify_policy::field_types owns its names", "[http][verify][gap8]") {
  static_assert(std::is_same_v<decltype(http::verify_policy::field_types)::value_type::first_type, std::string>);
  fixture f;
  http::verify_policy policy;
  {
    std::string name = "x-list";
    policy.field_types.emplace_back(name, http::field_type::list);
    name.assign("garbage!");  // the caller's string changes and dies: the policy has its own copy
  }
  http::request_verifier v(f.keys, policy);
  auto m = request();
  m.add("X-List", "a,   b");
  http::signature_params p;
  p.cover("@method").cover("@target-uri").cover("content-digest").cover("x-list", {{"sf", true}}).created(now).keyid(
      f.key.id()).nonce("n-gap8").tag("sepal-request/1");
  m.add("Content-Digest", http::content_digest(m.content));
  const std::pair<std::string_view, http::field_type> types[] = {{"x-list", http::field_type::list}};
  http::attach(m, http::sign(m, "sig", p, f.key.signer(), types).value());
  CHECK(v.verify(m, now).has_value());
}

TEST_CASE("a server verifies an origin-form request from its Host and scheme; bad targets say why", "[http][verify][gap9]") {
  fixture f;
  http::request_verifier v(f.keys);
  const auto signed_abs = signed_request(f);  // the client signed https://api.example.com/v1/orders?dry_run=1
  auto received = signed_abs;
  received.target_uri = "/v1/orders?dry_run=1";  // as on the request line
  received.scheme = "https";                     // the connection was TLS
  CHECK(v.verify(received, now).has_value());
  auto over_http = signed_abs;
  over_http.target_uri = "/v1/orders?dry_run=1";
  over_http.scheme = "http";  // a downgrade changes @target-uri
  CHECK(v.verify(over_http, now).failure() == verify_failure::bad_signature);
  auto no_scheme = signed_abs;
  no_scheme.target_uri = "/v1/orders?dry_run=1";
  const auto r = v.verify(no_scheme, now);
  CHECK(r.failure() == verify_failure::component);
  REQUIRE(r.component_failure().has_value());
  CHECK(r.component_failure()->code == http::base_error::invalid_target);
  CHECK(r.component_failure()->uri == http::uri_error::missing_scheme);
  CHECK(r.component_failure()->component == "\"@target-uri\"");
  // A client with userinfo in its URI learns why it cannot sign.
  auto m = http::message::request("GET", "https://me@api.example.com/");
  const auto s = http::sign(m, "sig", http::signature_params().cover("@authority"), f.key.signer());
  REQUIRE(s.error().base.has_value());
  CHECK(s.error().base->uri == http::uri_error::userinfo);
}

TEST_CASE("any signature parameter is signed and reaches the policy; bad ones are refused precisely",
          "[http][sign][gap4]") {
  fixture f;
  auto m = request();
  m.add("Content-Digest", http::content_digest(m.content));
  // RFC 9421 §2.3: every parameter is part of @signature-params.
  http::signature_params p;
  p.cover("@method").cover("@target-uri").cover("content-digest");
  p.created(now).expires(now + 60).keyid(f.key.id()).nonce("n-1").tag("sepal-request/1");
  p.param("app-version", sf_int(7)).param("x.mode", sepal::http::sf::token{"strict"}).param("*flag", true);
  const auto fields = http::sign(m, "sig", p, f.key.signer());
  REQUIRE(fields.has_value());
  CHECK(fields->signature_input.find(";app-version=7;x.mode=strict;*flag") != std::string::npos);
  auto base = http::build_signature_base(m, p);
  REQUIRE(std::holds_alternative<std::string>(base));
  CHECK(std::get<std::string>(base).ends_with(";tag=\"sepal-request/1\";app-version=7;x.mode=strict;*flag"));
  http::attach(m, *fields);
  http::request_verifier v(f.keys);
  const auto ok = v.verify(m, now);
  REQUIRE(ok.has_value());
  const auto* ver = http::sf::find(ok->params.params(), "app-version");
  REQUIRE(ver != nullptr);
  CHECK(std::get<std::int64_t>(*ver) == 7);
  CHECK(std::get<http::sf::token>(*http::sf::find(ok->params.params(), "x.mode")).value == "strict");
  // Changing an extension parameter breaks the signature: it is signed.
  auto changed = request();
  changed.add("Content-Digest", http::content_digest(changed.content));
  changed.add("Signature-Input", std::string(fields->signature_input).replace(
                                     fields->signature_input.find("app-version=7"), 13, "app-version=8"));
  changed.add("Signature", fields->signature);
  http::request_verifier v2(f.keys);
  CHECK(v2.verify(changed, now).failure() == verify_failure::bad_signature);

  const auto refused = [&](http::signature_params q) {
    const auto r = http::sign(request(), "sig", q.cover("@method"), f.key.signer());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == sepal::errc::invalid_argument);
    CHECK_FALSE(r.error().base.has_value());
    REQUIRE(r.error().param.has_value());
    return *r.error().param;
  };
  auto dup = refused(http::signature_params().created(now).param("created", sf_int(now + 1)));
  CHECK(dup.code == http::param_error::duplicate);
  CHECK(dup.key == "created");
  CHECK(refused(http::signature_params().expires(2).param("expires", sf_int(1))).code ==
        http::param_error::duplicate);
  for (const char* fixed : {"keyid", "alg", "nonce", "tag"}) {
    http::signature_params q;
    q.param(fixed, std::string("a")).param(fixed, std::string("b"));
    CHECK(refused(q).code == http::param_error::duplicate);
  }
  CHECK(refused(http::signature_params().param("Upper", true)).code == http::param_error::invalid_key);
  CHECK(refused(http::signature_params().param("", true)).code == http::param_error::invalid_key);
  CHECK(refused(http::signature_params().param("1st", true)).code == http::param_error::invalid_key);
  CHECK(refused(http::signature_params().param("a b", true)).key == "a b");
  CHECK(refused(http::signature_params().param("created", std::string("now"))).code == http::param_error::wrong_type);
  CHECK(refused(http::signature_params().param("keyid", sf_int(1))).code == http::param_error::wrong_type);
  CHECK(refused(http::signature_params().param("x", std::string("a\nb"))).code == http::param_error::invalid_value);
  CHECK(refused(http::signature_params().param("x", http::sf::token{"1bad"})).code == http::param_error::invalid_value);
  CHECK(refused(http::signature_params().param("x", sf_int(1'000'000'000'000'000))).code ==
        http::param_error::invalid_value);
  http::signature_params many;
  for (int i = 0; i <= static_cast<int>(http::sf::max_parameters); ++i) many.param("p" + std::to_string(i), true);
  CHECK(refused(many).code == http::param_error::too_many);
  CHECK(http::describe(http::param_error::duplicate) == "signature parameter given twice");
}

TEST_CASE("Accept-Signature: the verifier asks for its policy, the signer meets it, it verifies",
          "[http][verify][gap10]") {
  fixture f;
  http::request_verifier v(f.keys);  // strict: tag, nonce, content-digest
  const auto asked = v.accept_signature();
  CHECK(asked == "sig=(\"@method\" \"@target-uri\" \"content-digest\");created;tag=\"sepal-request/1\"");
  auto entries = http::parse_accept_signature(asked);
  REQUIRE(entries.has_value());
  REQUIRE(entries->size() == 1);
  const auto profile = http::profile_for(entries->front(), f.key.id(), f.key.signer());
  REQUIRE(profile.has_value());
  auto m = request();
  REQUIRE(http::sign_request(m, f.key.id(), f.key.signer(), now, *profile).has_value());
  CHECK(v.verify(m, now).has_value());

  // The interop preset asks for expires; a challenge nonce and the key id
  // are carried through, and the signature uses that nonce.
  http::request_verifier iv(f.keys, http::verify_policy::interop());
  const auto challenge = iv.accept_signature("sig", f.key.id(), "c-7f3a");
  CHECK(challenge == "sig=(\"@method\" \"@target-uri\" \"content-digest\");created;expires;keyid=\"" + f.key.id() +
                         "\";nonce=\"c-7f3a\"");
  auto m2 = request();
  m2.add("Accept-Signature", challenge);  // read from a message, as a client would from a 401
  entries = http::parse_accept_signature(m2);
  REQUIRE(entries.has_value());
  http::signing_profile no_expiry = http::signing_profile::interop();
  no_expiry.lifetime = 0;
  const auto p2 = http::profile_for(entries->front(), f.key.id(), f.key.signer(), no_expiry);
  REQUIRE(p2.has_value());
  CHECK(p2->lifetime == 300);  // expires was asked for
  CHECK(p2->nonce == "c-7f3a");
  auto m3 = request();
  REQUIRE(http::sign_request(m3, f.key.id(), f.key.signer(), now, *p2).has_value());
  const auto ok = iv.verify(m3, now);
  REQUIRE(ok.has_value());
  CHECK(ok->params.nonce() == "c-7f3a");
  CHECK(ok->params.expires() == now + 300);

  // What a signer cannot meet is refused, naming it.
  const auto refuse = [&](std::string_view field) {
    const auto e = http::parse_accept_signature(field);
    REQUIRE(e.has_value());
    REQUIRE(e->size() == 1);
    const auto r = http::profile_for(e->front(), f.key.id(), f.key.signer());
    REQUIRE_FALSE(r.has_value());
    return r.error();
  };
  CHECK(refuse("sig=(\"@method\" \"content-digest\";sf)").code == http::accept_error::component_parameters);
  CHECK(refuse("sig=(\"@method\" \"content-digest\";sf)").what == "\"content-digest\";sf");
  CHECK(refuse("sig=(\"@method\");created=5").code == http::accept_error::invalid_parameter);
  CHECK(refuse("sig=(\"@method\");tag=app").code == http::accept_error::invalid_parameter);
  CHECK(refuse("sig=(\"@method\");x-ext=1").what == "x-ext");
  CHECK(refuse("sig=(\"@method\");alg=\"ed25519\"").code == http::accept_error::wrong_algorithm);
  CHECK(http::describe(http::accept_error::wrong_key) == "requested key id is not the signer's");
  const auto alg_ok = http::parse_accept_signature("sig=(\"@method\");alg=\"hmac-sha256\"");
  REQUIRE(alg_ok.has_value());
  CHECK(http::profile_for(alg_ok->front(), f.key.id(), f.key.signer()).has_value());
  CHECK_FALSE(http::parse_accept_signature(request()).has_value());  // no field
}

TEST_CASE("a signed trailer or request Content-Digest does not bind the body checked against the header",
          "[http][verify][review]") {
  // A client signs ("@method" "@target-uri" "content-digest";tr) (RFC 9421
  // §2.1.4). A man in the middle swaps the body and adds a header
  // Content-Digest for the new body: the trailer's signature still holds, so
  // the policy must not count "content-digest";tr as the header.
  fixture f;
  http::request_verifier v(f.keys);
  auto m = request();
  m.add_trailer("Content-Digest", http::content_digest(m.content));
  http::signature_params p;
  p.cover("@method").cover("@target-uri").cover("content-digest", {{"tr", true}}).keyid(f.key.id()).created(now);
  p.nonce("n-tr").tag("sepal-request/1");
  http::attach(m, http::sign(m, "sig", p, f.key.signer()).value());
  m.content = R"({"item": 666})";
  m.add("Content-Digest", http::content_digest(m.content));
  const auto r = v.verify(m, now);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.failure() == verify_failure::missing_component);
  // Covered whole (plain, or as a structured field) it still counts.
  CHECK(http::signature_params().cover("content-digest").covers("content-digest"));
  CHECK(http::signature_params().cover("content-digest", {{"sf", true}}).covers("content-digest"));
  CHECK_FALSE(http::signature_params().cover("content-digest", {{"req", true}}).covers("content-digest"));
  CHECK_FALSE(http::signature_params().cover("content-digest", {{"key", std::string("sha-256")}}).covers("content-digest"));
  CHECK_FALSE(http::signature_params().cover("@method", {{"req", true}}).covers("@method"));
}
