// RFC 9421 (HTTP Message Signatures), RFC 9530 (Digest Fields) and RFC 8941
// (Structured Fields): the RFCs' examples and Appendix B test vectors,
// written here as data.

#include <catch2/catch_test_macros.hpp>

#include <botan/base64.h>

#include <sepal/http/content_digest.hpp>
#include <sepal/http/signer.hpp>
#include <sepal/http/structured_fields.hpp>
#include <sepal/http/verifier.hpp>

#include "test_support.hpp"

using namespace sepal_test;
namespace http = sepal::http;
namespace sf = sepal::http::sf;

namespace {

/// RFC 9421 B.2's test request (the body is RFC 9530's example).
http::message test_request() {
  auto m = http::message::request("POST", "https://example.com/foo?param=Value&Pet=dog");
  m.add("Host", "example.com")
      .add("Date", "Tue, 20 Apr 2021 02:07:55 GMT")
      .add("Content-Type", "application/json")
      .add("Content-Digest",
           "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:")
      .add("Content-Length", "18");
  m.content = R"({"hello": "world"})";
  return m;
}

/// RFC 9421 B.2's test response.
http::message test_response() {
  auto m = http::message::response(200);
  m.add("Date", "Tue, 20 Apr 2021 02:07:56 GMT")
      .add("Content-Type", "application/json")
      .add("Content-Digest",
           "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:")
      .add("Content-Length", "23");
  m.content = R"({"message": "good dog"})";
  return m;
}

/// RFC 9421 B.1.5: test-shared-secret.
sepal::secret_bytes shared_secret() {
  const auto s = Botan::base64_decode(
      "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==");
  return sepal::secret_bytes(s);
}

/// RFC 9421 B.1.4: test-key-ed25519.
constexpr const char* ed25519_private =
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n";
constexpr const char* ed25519_public =
    "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n-----END PUBLIC KEY-----\n";
/// RFC 9421 B.1.3: test-key-ecc-p256, public half.
constexpr const char* p256_public =
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf\n"
    "w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==\n-----END PUBLIC KEY-----\n";

std::string base_of(const http::message& m, const http::signature_params& p,
                    std::span<const std::pair<std::string_view, http::field_type>> types = {}) {
  auto b = http::signature_base(m, p, types);
  REQUIRE(std::holds_alternative<std::string>(b));
  return std::get<std::string>(b);
}

/// The value line of one component, without the identifier.
std::string value_of(const http::message& m, http::signature_params p,
                     std::span<const std::pair<std::string_view, http::field_type>> types = {}) {
  const auto base = base_of(m, p, types);
  const auto colon = base.find(": ");
  return base.substr(colon + 2, base.find('\n') - colon - 2);
}

/// A fixed-time verifier with the RFC's created time, for the B.2 vectors.
struct rfc_verifier {
  std::shared_ptr<http::memory_key_store> keys = std::make_shared<http::memory_key_store>();
  http::verify_policy policy;
  rfc_verifier() {
    policy.required_components = {};
    policy.require_nonce = false;
    policy.tag.reset();
    policy.require_content_digest = false;
    policy.max_age = 600;
  }
};

}  // namespace

TEST_CASE("RFC 8941 structured fields: examples parse and serialize canonically", "[http][sf]") {
  // §3.1.2, §3.2 examples, and the RFC 9421 §2.1.1 example-dict.
  auto d = sf::parse_dictionary("en=\"Applepie\", da=:w4ZibGV0w6ZydGUK:");
  REQUIRE(d.has_value());
  CHECK(std::get<std::string>(std::get<sf::item>((*d)[0].second).value) == "Applepie");
  CHECK(sf::serialize(*d) == "en=\"Applepie\", da=:w4ZibGV0w6ZydGUK:");
  d = sf::parse_dictionary("a=?0, b, c; foo=bar");
  REQUIRE(d.has_value());
  CHECK(sf::serialize(*d) == "a=?0, b, c;foo=bar");
  d = sf::parse_dictionary(" a=1,    b=2;x=1;y=2,   c=(a   b   c)");
  REQUIRE(d.has_value());
  CHECK(sf::serialize(*d) == "a=1, b=2;x=1;y=2, c=(a b c)");
  auto l = sf::parse_list("(\"foo\" \"bar\"), (\"baz\"), (\"bat\" \"one\"), ()");
  REQUIRE(l.has_value());
  CHECK(sf::serialize(*l) == "(\"foo\" \"bar\"), (\"baz\"), (\"bat\" \"one\"), ()");
  auto i = sf::parse_item("4.50;q=-0.1");
  REQUIRE(i.has_value());
  CHECK(sf::serialize(sf::member(*i)) == "4.5;q=-0.1");
  i = sf::parse_item("\"a \\\"quoted\\\\ string\"");
  REQUIRE(i.has_value());
  CHECK(std::get<std::string>(i->value) == "a \"quoted\\ string");
  // Duplicate keys: the last value wins, in the first position (§4.2.2).
  d = sf::parse_dictionary("a=1, b=2, a=3");
  REQUIRE(d.has_value());
  CHECK(sf::serialize(*d) == "a=3, b=2");
  // Byte sequences without padding are accepted (§4.2.7).
  i = sf::parse_item(":aGk:");
  REQUIRE(i.has_value());
  CHECK(copy(std::get<sf::bytes>(i->value).value) == as_bytes("hi"));
}

TEST_CASE("RFC 8941 structured fields: invalid input is rejected, never thrown", "[http][sf]") {
  for (const char* bad :
       {"a=1,", "a=1,,b=2", "A=1", "a=1 b=2", "a=(1 2", "a=\"unterminated", "a=\"bad\\escape\"", "a=1234567890123456",
        "a=1.2345", "a=1234567890123.1", "a=?2", "a=:not base64!:", "a=@1659578233", "a=%\"display\"", "a=\"\x01\"",
        "a=1;", "a=(1)x", ",a=1", "a=-", "a=1.", "a=\"caf\xc3\xa9\""}) {
    INFO(bad);
    CHECK_FALSE(sf::parse_dictionary(bad).has_value());
  }
  CHECK_FALSE(sf::parse_dictionary(std::string(sf::max_field_size + 1, 'a')).has_value());
  std::string many;
  for (std::size_t n = 0; n <= sf::max_members; ++n) many += (n ? ", k" : "k") + std::to_string(n);
  CHECK_FALSE(sf::parse_dictionary(many).has_value());
  CHECK(sf::parse_dictionary("").has_value());  // an empty dictionary
}

TEST_CASE("RFC 9530: Content-Digest of the examples", "[http][digest]") {
  const std::string body = R"({"hello": "world"})";
  CHECK(http::content_digest(body) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
  const http::digest_algorithm both[] = {http::digest_algorithm::sha256, http::digest_algorithm::sha512};
  CHECK(http::content_digest(body, both) ==
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, "
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:");
  CHECK(http::verify_content_digest("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", body));
  CHECK(http::verify_content_digest(test_request().values("content-digest")[0], body));
  CHECK(http::verify_content_digest(test_response().values("content-digest")[0], test_response().content));
  CHECK_FALSE(http::verify_content_digest("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", body + " "));
  // Unknown algorithms are ignored, but one known digest is required; all known ones must match.
  CHECK_FALSE(http::verify_content_digest("md5=:AAAA:", body));
  CHECK_FALSE(http::verify_content_digest(
      "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, sha-512=:AAAA:", body));
  CHECK(http::verify_content_digest("unixsum=:AAAA:, sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", body));
  CHECK_FALSE(http::verify_content_digest("sha-256=\"X48E\"", body));
  CHECK_FALSE(http::verify_content_digest("", body));
}

TEST_CASE("RFC 9421 §2.1: field values, sf and key", "[http][rfc9421]") {
  auto m = http::message::request("GET", "https://www.example.com/");
  m.add("Host", "www.example.com")
      .add("Date", "Tue, 20 Apr 2021 02:07:56 GMT")
      .add("X-OWS-Header", "   Leading and trailing whitespace.   ")
      .add("X-Obs-Fold-Header", "Obsolete\r\n    line folding.")
      .add("Cache-Control", "max-age=60")
      .add("Cache-Control", "   must-revalidate")
      .add("Example-Dict", " a=1,    b=2;x=1;y=2,   c=(a   b   c)")
      .add("X-Empty-Header", "");
  http::signature_params p;
  for (const char* name :
       {"host", "date", "x-ows-header", "x-obs-fold-header", "cache-control", "example-dict", "x-empty-header"})
    p.cover(name);
  CHECK(base_of(m, p) ==
        "\"host\": www.example.com\n"
        "\"date\": Tue, 20 Apr 2021 02:07:56 GMT\n"
        "\"x-ows-header\": Leading and trailing whitespace.\n"
        "\"x-obs-fold-header\": Obsolete line folding.\n"
        "\"cache-control\": max-age=60, must-revalidate\n"
        "\"example-dict\": a=1,    b=2;x=1;y=2,   c=(a   b   c)\n"
        "\"x-empty-header\": \n"
        "\"@signature-params\": (\"host\" \"date\" \"x-ows-header\" \"x-obs-fold-header\" \"cache-control\" "
        "\"example-dict\" \"x-empty-header\")");
  const std::pair<std::string_view, http::field_type> dict[] = {{"example-dict", http::field_type::dictionary}};
  // §2.1.1 strict serialization; §2.1.2 dictionary members.
  CHECK(value_of(m, http::signature_params().cover("example-dict", {{"sf", true}}), dict) ==
        "a=1, b=2;x=1;y=2, c=(a b c)");
  CHECK(base_of(m, http::signature_params().cover("example-dict", {{"sf", true}}), dict).starts_with(
      "\"example-dict\";sf: "));
  CHECK(value_of(m, http::signature_params().cover("example-dict", {{"key", std::string("a")}})) == "1");
  CHECK(value_of(m, http::signature_params().cover("example-dict", {{"key", std::string("b")}})) == "2;x=1;y=2");
  CHECK(value_of(m, http::signature_params().cover("example-dict", {{"key", std::string("c")}})) == "(a b c)");
  // sf on a field whose type is not known fails (§2.1.1), as does a missing key.
  CHECK(std::get<http::base_error>(http::signature_base(m, http::signature_params().cover("example-dict", {{"sf", true}}))) ==
        http::base_error::invalid_component);
  CHECK(std::get<http::base_error>(http::signature_base(
            m, http::signature_params().cover("example-dict", {{"key", std::string("zz")}}))) ==
        http::base_error::missing_component);
  // §2.1.3 bs: each line as a Byte Sequence.
  auto bs = http::message::request("GET", "https://example.com/");
  bs.add("Example-Header", "value, with, lots").add("Example-Header", "of, commas");
  CHECK(value_of(bs, http::signature_params().cover("example-header")) == "value, with, lots, of, commas");
  CHECK(value_of(bs, http::signature_params().cover("example-header", {{"bs", true}})) ==
        ":dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:");
}

TEST_CASE("RFC 9421 §2.2: derived components", "[http][rfc9421]") {
  auto m = http::message::request("POST", "https://www.example.com/path?param=value");
  const auto v = [&](const char* name) { return value_of(m, http::signature_params().cover(name)); };
  CHECK(v("@method") == "POST");
  CHECK(v("@target-uri") == "https://www.example.com/path?param=value");
  CHECK(v("@authority") == "www.example.com");
  CHECK(v("@scheme") == "https");
  CHECK(v("@request-target") == "/path?param=value");
  CHECK(v("@path") == "/path");
  CHECK(v("@query") == "?param=value");
  m.target_uri = "https://WWW.Example.COM:443/path?queryString";
  CHECK(v("@authority") == "www.example.com");
  CHECK(v("@query") == "?queryString");
  m.target_uri = "http://www.example.com:8080/path";
  CHECK(v("@authority") == "www.example.com:8080");
  CHECK(v("@query") == "?");
  m.target_uri = "https://www.example.com";
  CHECK(v("@path") == "/");
  // §2.2.8 @query-param.
  m.target_uri = "https://example.com/path?param=value&foo=bar&baz=batman&qux=";
  const auto q = [&](const char* name) { return value_of(m, http::signature_params().cover_query_param(name)); };
  CHECK(q("baz") == "batman");
  CHECK(q("qux") == "");
  CHECK(q("param") == "value");
  CHECK(base_of(m, http::signature_params().cover_query_param("baz")).starts_with("\"@query-param\";name=\"baz\": batman\n"));
  m.target_uri =
      "https://example.com/parameters?var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace"
      "&fa%C3%A7ade%22%3A%20=something";
  CHECK(q("var") == "this%20is%20a%20big%0Amultiline%20value");
  CHECK(q("bar") == "with%20plus%20whitespace");
  CHECK(q("fa%C3%A7ade%22%3A%20") == "something");
  m.target_uri = "https://example.com/?a=1&a=2";  // repeated: not signable
  CHECK(std::holds_alternative<http::base_error>(http::signature_base(m, http::signature_params().cover_query_param("a"))));
  // §2.2.9 @status, only on responses; request components are not on responses.
  const auto r = test_response();
  CHECK(value_of(r, http::signature_params().cover("@status")) == "200");
  CHECK(std::holds_alternative<http::base_error>(http::signature_base(r, http::signature_params().cover("@method"))));
  CHECK(std::holds_alternative<http::base_error>(http::signature_base(m, http::signature_params().cover("@status"))));
  // Unknown derived components, @signature-params, upper-case names and duplicates fail.
  for (const char* bad : {"@unknown", "@signature-params", "Date", ""}) {
    CHECK(std::holds_alternative<http::base_error>(http::signature_base(test_request(), http::signature_params().cover(bad))));
  }
  CHECK(std::get<http::base_error>(http::signature_base(
            test_request(), http::signature_params().cover("date").cover("@method").cover("date"))) ==
        http::base_error::duplicate_component);
  CHECK(std::get<http::base_error>(http::signature_base(test_request(), http::signature_params().cover("x-missing"))) ==
        http::base_error::missing_component);
}

TEST_CASE("RFC 9421 §2.5: the signature base example, byte for byte", "[http][rfc9421]") {
  http::signature_params p;
  p.cover("@method").cover("@authority").cover("@path").cover("content-digest").cover("content-length").cover(
      "content-type");
  p.created(1618884473).keyid("test-key-rsa-pss");
  CHECK(base_of(test_request(), p) ==
        "\"@method\": POST\n"
        "\"@authority\": example.com\n"
        "\"@path\": /foo\n"
        "\"content-digest\": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEm"
        "THWXvJwew==:\n"
        "\"content-length\": 18\n"
        "\"content-type\": application/json\n"
        "\"@signature-params\": (\"@method\" \"@authority\" \"@path\" \"content-digest\" \"content-length\" "
        "\"content-type\");created=1618884473;keyid=\"test-key-rsa-pss\"");
}

TEST_CASE("RFC 9421 B.2.5: hmac-sha256 reproduces exactly and verifies", "[http][rfc9421]") {
  http::signature_params p;
  p.cover("date").cover("@authority").cover("content-type").created(1618884473).keyid("test-shared-secret");
  CHECK(base_of(test_request(), p) ==
        "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n"
        "\"@authority\": example.com\n"
        "\"content-type\": application/json\n"
        "\"@signature-params\": (\"date\" \"@authority\" \"content-type\");created=1618884473;keyid=\"test-shared-"
        "secret\"");
  const auto key = http::signing_key::hmac_sha256_or_throw(shared_secret());
  auto fields = http::sign(test_request(), "sig-b25", p, key);
  REQUIRE(fields.has_value());
  CHECK(fields->signature_input ==
        "sig-b25=(\"date\" \"@authority\" \"content-type\");created=1618884473;keyid=\"test-shared-secret\"");
  CHECK(fields->signature == "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:");

  rfc_verifier v;
  v.keys->add("test-shared-secret", "1", http::verification_key::hmac_sha256_or_throw(shared_secret()));
  http::request_verifier verifier(v.keys, v.policy);
  auto signed_request = test_request();
  signed_request.add("Signature-Input", fields->signature_input).add("Signature", fields->signature);
  const auto ok = verifier.verify(signed_request, 1618884473 + 10);
  REQUIRE(ok.has_value());
  CHECK(ok->label == "sig-b25");
  CHECK(ok->keyid == "test-shared-secret");
  CHECK(ok->alg == http::algorithm::hmac_sha256);
}

TEST_CASE("RFC 9421 B.2.6: ed25519 reproduces exactly and verifies", "[http][rfc9421]") {
  http::signature_params p;
  p.cover("date").cover("@method").cover("@path").cover("@authority").cover("content-type").cover("content-length");
  p.created(1618884473).keyid("test-key-ed25519");
  CHECK(base_of(test_request(), p) ==
        "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n"
        "\"@method\": POST\n"
        "\"@path\": /foo\n"
        "\"@authority\": example.com\n"
        "\"content-type\": application/json\n"
        "\"content-length\": 18\n"
        "\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\")"
        ";created=1618884473;keyid=\"test-key-ed25519\"");
  auto priv = sepal::private_key<sepal::ed25519>::from_pem(ed25519_private);
  REQUIRE(priv.has_value());
  const auto key = http::signing_key::ed25519(std::move(*priv));
  auto fields = http::sign(test_request(), "sig-b26", p, key);
  REQUIRE(fields.has_value());
  CHECK(fields->signature ==
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:");

  rfc_verifier v;
  v.keys->add("test-key-ed25519", "1",
             http::verification_key::ed25519(sepal::public_key<sepal::ed25519>::from_pem(ed25519_public).value()));
  http::request_verifier verifier(v.keys, v.policy);
  auto signed_request = test_request();
  http::attach(signed_request, *fields);
  CHECK(verifier.verify(signed_request, 1618884473).has_value());
}

TEST_CASE("RFC 9421 B.2.4: the ecdsa-p256-sha256 response signature verifies", "[http][rfc9421]") {
  http::signature_params p;
  p.cover("@status").cover("content-type").cover("content-digest").cover("content-length");
  p.created(1618884473).keyid("test-key-ecc-p256");
  CHECK(base_of(test_response(), p) ==
        "\"@status\": 200\n"
        "\"content-type\": application/json\n"
        "\"content-digest\": sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4"
        "l5aGgfLQ==:\n"
        "\"content-length\": 23\n"
        "\"@signature-params\": (\"@status\" \"content-type\" \"content-digest\" \"content-length\")"
        ";created=1618884473;keyid=\"test-key-ecc-p256\"");
  rfc_verifier v;
  v.policy.require_content_digest = true;  // the response's digest is right, so this holds too
  v.keys->add("test-key-ecc-p256", "1",
             http::verification_key::ecdsa_p256_sha256(sepal::public_key<sepal::p256>::from_pem(p256_public).value()));
  http::request_verifier verifier(v.keys, v.policy);
  auto response = test_response();
  response.add("Signature-Input",
               "sig-b24=(\"@status\" \"content-type\" \"content-digest\" \"content-length\");created=1618884473;"
               "keyid=\"test-key-ecc-p256\"");
  response.add("Signature",
               "sig-b24=:wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAUy5eCdlYUEkLIj+32oiasw==:");
  const auto ok = verifier.verify(response, 1618884473);
  REQUIRE(ok.has_value());
  CHECK(ok->alg == http::algorithm::ecdsa_p256_sha256);
  // One changed byte of the content breaks the digest, and so the response.
  response.content[3] ^= 1;
  http::request_verifier again(v.keys, v.policy);
  CHECK(again.verify(response, 1618884473).failure() == http::verify_failure::content_digest);
}

TEST_CASE("RFC 9421 §2.2.8: @query-param decodes UTF-8 with replacement (URL Standard §5.1)", "[http][rfc9421][gap1]") {
  auto m = http::message::request("GET", "https://example.com/");
  const auto q = [&](const char* query, const char* name) {
    m.target_uri = std::string("https://example.com/p?") + query;
    return value_of(m, http::signature_params().cover_query_param(name));
  };
  constexpr const char* fffd = "%EF%BF%BD";  // U+FFFD in UTF-8
  CHECK(q("a=%FF", "a") == fffd);
  CHECK(q("a=x%FFy", "a") == std::string("x") + fffd + "y");
  CHECK(q("a=%C3", "a") == fffd);                                     // truncated 2-byte sequence
  CHECK(q("a=%C3%A7", "a") == "%C3%A7");                              // well-formed stays
  CHECK(q("a=%E0%80", "a") == std::string(fffd) + fffd);              // overlong: E0 then 80, each replaced
  CHECK(q("a=%F0%9F%98", "a") == fffd);                               // truncated 4-byte: one maximal subpart
  CHECK(q("a=%F0%9F%98%80", "a") == "%F0%9F%98%80");                  // U+1F600
  CHECK(q("a=%ED%A0%80", "a") == std::string(fffd) + fffd + fffd);    // a surrogate is three errors
  CHECK(q("a=%C0%AF", "a") == std::string(fffd) + fffd);              // C0 is never a lead byte
  CHECK(q("a=%C3%28", "a") == std::string(fffd) + "%28");             // the bad continuation starts anew
  CHECK(q("a=%FG", "a") == "%25FG");                                  // not an escape: '%' kept as a byte
  // Names decode the same way: the name parameter is the re-encoded name.
  CHECK(q("%FF=1", fffd) == "1");
  // Raw non-ASCII bytes cannot appear in a target URI at all.
}

TEST_CASE("RFC 9421 §2.1: the whitespace before an obs-fold is part of it (RFC 9112 §5.2)", "[http][rfc9421][gap2]") {
  auto m = http::message::request("GET", "https://www.example.com/");
  const auto v = [&](std::string raw) {
    m.fields.clear();
    m.add("X-Obs-Fold-Header", std::move(raw));
    return value_of(m, http::signature_params().cover("x-obs-fold-header"));
  };
  CHECK(v("Obsolete\r\n    line folding.") == "Obsolete line folding.");  // the RFC's example
  CHECK(v("Obsolete   \r\n    line folding.") == "Obsolete line folding.");
  CHECK(v("Obsolete \t\r\n\tline folding.") == "Obsolete line folding.");
  CHECK(v("a \r\n b \r\n\t c") == "a b c");
  CHECK(v("Obsolete\n line folding.") == "Obsolete line folding.");  // a bare LF, as CRLF
  CHECK(v("  trailing fold \r\n ") == "trailing fold");
}

TEST_CASE("RFC 9421 text where other implementations deviate (docs/request-auth.md)", "[http][rfc9421][deviations]") {
  auto m = http::message::request("get", "https://example.com/a/./b/../c?a=%7E&b=!'()");
  const auto v = [&](http::signature_params p) { return value_of(m, std::move(p)); };
  // §2.2.1: the method as it is in the message (methods are case-sensitive, RFC 9110 §9.1).
  CHECK(v(http::signature_params().cover("@method")) == "get");
  // §2.2.6: the target URI's path, not normalised (no dot-segment removal).
  CHECK(v(http::signature_params().cover("@path")) == "/a/./b/../c");
  // §2.2.8: the value re-encoded with every byte outside ALPHA/DIGIT/*-._ as %XX, not encodeURIComponent.
  CHECK(v(http::signature_params().cover_query_param("a")) == "%7E");
  CHECK(v(http::signature_params().cover_query_param("b")) == "%21%27%28%29");
  // §2.1 step 3: an obs-fold (CRLF included) is one space; no CR is left in the value.
  m.add("X", "a\r\n b");
  CHECK(v(http::signature_params().cover("x")) == "a b");
}

TEST_CASE("RFC 9421 §2.2 over the request-target forms of RFC 9112 §3.2; precise URI errors", "[http][rfc9421][gap9]") {
  const auto value = [](const http::message& m, const char* name) {
    return value_of(m, http::signature_params().cover(name));
  };
  const auto error = [](const http::message& m, const char* name) {
    auto b = http::build_signature_base(m, http::signature_params().cover(name));
    REQUIRE(std::holds_alternative<http::base_failure>(b));
    return std::get<http::base_failure>(b);
  };
  // Origin form: authority from Host, scheme from the connection (RFC 9112 §3.3).
  auto origin = http::message::request("POST", "/path?param=value");
  origin.scheme = "https";
  origin.add("Host", "www.example.com");
  CHECK(value(origin, "@target-uri") == "https://www.example.com/path?param=value");
  CHECK(value(origin, "@authority") == "www.example.com");
  CHECK(value(origin, "@scheme") == "https");
  CHECK(value(origin, "@request-target") == "/path?param=value");
  CHECK(value(origin, "@path") == "/path");
  CHECK(value(origin, "@query") == "?param=value");
  CHECK(value_of(origin, http::signature_params().cover_query_param("param")) == "value");
  // §2.2.5's examples: OPTIONS * and CONNECT's authority form.
  auto options = http::message::request("OPTIONS", "*");
  options.scheme = "https";
  options.add("Host", "www.example.com");
  CHECK(value(options, "@request-target") == "*");
  CHECK(value(options, "@target-uri") == "https://www.example.com");
  CHECK(error(options, "@path").code == http::base_error::missing_component);
  auto connect = http::message::request("CONNECT", "www.example.com:80");
  connect.scheme = "http";
  CHECK(value(connect, "@request-target") == "www.example.com:80");
  CHECK(value(connect, "@authority") == "www.example.com");  // default port dropped (§2.2.3)
  // The fragment is not part of the target URI (RFC 9110 §7.1).
  auto frag = http::message::request("GET", "https://example.com/a?b=c#frag");
  CHECK(value(frag, "@target-uri") == "https://example.com/a?b=c");
  CHECK(value(frag, "@query") == "?b=c");
  // The rest fails precisely.
  const auto why = [&](http::message m) {
    const auto f = error(m, "@target-uri");
    CHECK(f.code == http::base_error::invalid_target);
    REQUIRE(f.uri.has_value());
    return *f.uri;
  };
  CHECK(why(http::message::request("GET", "https://user:pw@example.com/")) == http::uri_error::userinfo);
  CHECK(why(http::message::request("GET", "https://example.com/caf\xc3\xa9")) == http::uri_error::invalid_character);
  CHECK(why(http::message::request("GET", "https://exa mple.com/")) == http::uri_error::invalid_character);
  CHECK(why(http::message::request("GET", "")) == http::uri_error::empty);
  CHECK(why(http::message::request("GET", "1http://example.com/")) == http::uri_error::invalid_scheme);
  CHECK(why(http::message::request("GET", "https:example.com")) == http::uri_error::missing_authority);
  CHECK(why(http::message::request("GET", "https:///path")) == http::uri_error::missing_authority);
  CHECK(why(http::message::request("GET", "*")) == http::uri_error::invalid_scheme);  // * is for OPTIONS only
  auto no_scheme = http::message::request("GET", "/x");
  no_scheme.add("Host", "example.com");
  CHECK(why(no_scheme) == http::uri_error::missing_scheme);
  auto no_host = http::message::request("GET", "/x");
  no_host.scheme = "https";
  CHECK(why(no_host) == http::uri_error::missing_host);
  no_host.add("Host", "a.example").add("Host", "b.example");  // two Host fields (RFC 9112 §3.2)
  CHECK(why(no_host) == http::uri_error::missing_host);
  CHECK(http::describe(http::uri_error::userinfo) == "userinfo in the target URI");
  // @method and fields do not depend on the target.
  CHECK(value(http::message::request("GET", "https://user@example.com/"), "@method") == "GET");
}

namespace {

/// RFC 9421 §2.4's response to the test request (a 503).
http::message section_2_4_response() {
  auto m = http::message::response(503);
  m.add("Date", "Tue, 20 Apr 2021 02:07:56 GMT")
      .add("Content-Type", "application/json")
      .add("Content-Length", "62")
      .add("Content-Digest",
           "sha-512=:0Y6iCBzGg5rZtoXS95Ijz03mslf6KAMCloESHObfwnHJDbkkWWQz6PhhU9kxsTbARtY2PTBOzq24uJFpHsMuAg==:");
  m.content = R"({"busy": true, "message": "Your call is very important to us"})";
  return m;
}

http::signature_params section_2_4_params() {
  http::signature_params p;
  p.cover("@status").cover("content-digest").cover("content-type");
  p.cover("@authority", {{"req", true}}).cover("@method", {{"req", true}}).cover("@path", {{"req", true}});
  p.cover("content-digest", {{"req", true}});
  p.created(1618884479).keyid("test-key-ecc-p256");
  return p;
}

}  // namespace

TEST_CASE("RFC 9421 §2.4: a response signed with components of its request (req)", "[http][rfc9421][gap3]") {
  const auto request = test_request();
  const auto response = section_2_4_response();
  const auto p = section_2_4_params();
  // §2.4's signature base, byte for byte.
  const auto base = http::signature_base(response, request, p);
  REQUIRE(std::holds_alternative<std::string>(base));
  CHECK(std::get<std::string>(base) ==
        "\"@status\": 503\n"
        "\"content-digest\": sha-512=:0Y6iCBzGg5rZtoXS95Ijz03mslf6KAMCloESHObfwnHJDbkkWWQz6PhhU9kxsTbARtY2PTBOzq24uJFp"
        "HsMuAg==:\n"
        "\"content-type\": application/json\n"
        "\"@authority\";req: example.com\n"
        "\"@method\";req: POST\n"
        "\"@path\";req: /foo\n"
        "\"content-digest\";req: sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvR"
        "wEmTHWXvJwew==:\n"
        "\"@signature-params\": (\"@status\" \"content-digest\" \"content-type\" \"@authority\";req \"@method\";req "
        "\"@path\";req \"content-digest\";req);created=1618884479;keyid=\"test-key-ecc-p256\"");

  // §2.4's signature (ecdsa-p256-sha256, test-key-ecc-p256) verifies with
  // the request, and not without it or with another request.
  rfc_verifier v;
  v.keys->add("test-key-ecc-p256", "1",
              http::verification_key::ecdsa_p256_sha256(sepal::public_key<sepal::p256>::from_pem(p256_public).value()));
  auto signed_response = response;
  signed_response.add("Signature-Input",
                      "reqres=(\"@status\" \"content-digest\" \"content-type\" \"@authority\";req \"@method\";req "
                      "\"@path\";req \"content-digest\";req);created=1618884479;keyid=\"test-key-ecc-p256\"");
  signed_response.add("Signature",
                      "reqres=:dMT/A/76ehrdBTD/2Xx8QuKV6FoyzEP/I9hdzKN8LQJLNgzU4W767HK05rx1i8meNQQgQPgQp8wq2ive3tV5Ag==:");
  {
    http::request_verifier verifier(v.keys, v.policy);
    const auto ok = verifier.verify(signed_response, request, 1618884479);
    REQUIRE(ok.has_value());
    CHECK(ok->label == "reqres");
    CHECK(ok->params.components()[3].params == sf::parameters{{"req", true}});
  }
  {
    http::request_verifier verifier(v.keys, v.policy);
    const auto no_request = verifier.verify(signed_response, 1618884479);
    CHECK(no_request.failure() == http::verify_failure::component);
    REQUIRE(no_request.component_failure().has_value());
    CHECK(no_request.component_failure()->code == http::base_error::no_request);
    CHECK(no_request.component_failure()->index == 3);
    CHECK(no_request.component_failure()->component == "\"@authority\";req");
  }
  {
    http::request_verifier verifier(v.keys, v.policy);
    auto other = test_request();
    other.method = "PUT";
    CHECK(verifier.verify(signed_response, other, 1618884479).failure() == http::verify_failure::bad_signature);
  }

  // Both sides: sepal signs a response bound to its request and verifies it.
  const auto key = http::signing_key::hmac_sha256_or_throw(shared_secret());
  v.keys->add("test-shared-secret", "1", http::verification_key::hmac_sha256_or_throw(shared_secret()));
  http::signature_params q = p;
  q.keyid("test-shared-secret");
  q.cover("signature", {{"key", std::string("sig1")}, {"req", true}});  // §2.4: the request's own signature
  auto signed_request = test_request();
  signed_request.add("Signature", "sig1=:AAAA:");
  const auto fields = http::sign(response, signed_request, "sig", q, key);
  REQUIRE(fields.has_value());
  auto r = response;
  http::attach(r, *fields);
  http::request_verifier verifier(v.keys, v.policy);
  CHECK(verifier.verify(r, signed_request, 1618884479).has_value());
  auto tampered = signed_request;
  tampered.remove("Signature");
  tampered.add("Signature", "sig1=:AAAB:");
  http::request_verifier again(v.keys, v.policy);
  CHECK(again.verify(r, tampered, 1618884479).failure() == http::verify_failure::bad_signature);

  // sign without the request, and req on a request, say why.
  const auto no_request = http::sign(response, "sig", q, key);
  REQUIRE_FALSE(no_request.has_value());
  REQUIRE(no_request.error().base.has_value());
  CHECK(no_request.error().base->code == http::base_error::no_request);
  CHECK(http::describe(http::base_error::no_request) == "req component without the related request");
  const auto on_request = http::build_signature_base(
      test_request(), test_request(), http::signature_params().cover("@method", {{"req", true}}));
  REQUIRE(std::holds_alternative<http::base_failure>(on_request));
  CHECK(std::get<http::base_failure>(on_request).code == http::base_error::invalid_component);
  // req on a field the request lacks is missing; tr is not for derived components.
  CHECK(std::get<http::base_error>(http::signature_base(
            response, request, http::signature_params().cover("x-missing", {{"req", true}}))) ==
        http::base_error::missing_component);
  CHECK(std::get<http::base_error>(http::signature_base(
            response, request, http::signature_params().cover("@status", {{"tr", true}}))) ==
        http::base_error::invalid_component);
}

TEST_CASE("RFC 9421 §2.1.4: trailer fields with tr, apart from the header section", "[http][rfc9421][gap3]") {
  auto m = http::message::response(200);
  m.add("Expires", "Wed, 9 Nov 2022 07:28:00 GMT");
  m.add_trailer("Expires", "Wed, 9 Nov 2022 07:28:00 GMT");
  m.add_trailer("Server-Timing", "db;dur=53,  app;dur=47.2");
  CHECK(value_of(m, http::signature_params().cover("expires", {{"tr", true}})) == "Wed, 9 Nov 2022 07:28:00 GMT");
  CHECK(value_of(m, http::signature_params().cover("server-timing", {{"tr", true}})) == "db;dur=53,  app;dur=47.2");
  CHECK(base_of(m, http::signature_params().cover("expires").cover("expires", {{"tr", true}}))
            .starts_with("\"expires\": Wed, 9 Nov 2022 07:28:00 GMT\n\"expires\";tr: Wed, 9 Nov 2022 07:28:00 GMT\n"));
  // A trailer is not a header field, and the other way round.
  CHECK(std::get<http::base_error>(http::signature_base(m, http::signature_params().cover("server-timing"))) ==
        http::base_error::missing_component);
  m.trailers.clear();
  CHECK(std::get<http::base_error>(http::signature_base(m, http::signature_params().cover("expires", {{"tr", true}}))) ==
        http::base_error::missing_component);
  // tr with req: the request's trailers.
  auto req = http::message::request("POST", "https://example.com/");
  req.add_trailer("X-Check", "ok");
  CHECK(std::get<std::string>(http::signature_base(
            m, req, http::signature_params().cover("x-check", {{"req", true}, {"tr", true}})))
            .starts_with("\"x-check\";req;tr: ok\n"));
}

TEST_CASE("RFC 9421 §5.1: the Accept-Signature example parses and a signer meets it", "[http][rfc9421][gap10]") {
  const std::string field =
      "sig1=(\"@method\" \"@target-uri\" \"@authority\" \"content-digest\" \"cache-control\");"
      "keyid=\"test-key-rsa-pss\";created;tag=\"app-123\"";
  const auto parsed = http::parse_accept_signature(field);
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->size() == 1);
  const auto& entry = parsed->front();
  CHECK(entry.label == "sig1");
  REQUIRE(entry.request.items.size() == 5);
  CHECK(std::get<std::string>(entry.request.items[4].value) == "cache-control");
  CHECK(entry.request.params == sf::parameters{{"keyid", std::string("test-key-rsa-pss")},
                                               {"created", true},
                                               {"tag", std::string("app-123")}});
  CHECK(entry.serialize() == field);  // canonical already

  // A signer holding test-key-rsa-pss meets it (sepal has no RSA-PSS, so an
  // HMAC key under that id stands in): label, exactly these components,
  // created, keyid and the tag.
  const auto key = http::signing_key::hmac_sha256_or_throw(shared_secret());
  // sepal's default profile has its own tag: a requester cannot swap it.
  CHECK(http::profile_for(entry, "test-key-rsa-pss", key).error().code == http::accept_error::invalid_parameter);
  http::signing_profile app;  // this application's profile: tag app-123
  app.tag = "app-123";
  app.components = {"@method", "@target-uri"};
  const auto profile = http::profile_for(entry, "test-key-rsa-pss", key, app);
  REQUIRE(profile.has_value());
  CHECK(profile->label == "sig1");
  CHECK(profile->components ==
        std::vector<std::string>{"@method", "@target-uri", "@authority", "content-digest", "cache-control"});
  CHECK(profile->tag == "app-123");
  auto m = test_request();
  m.add("Cache-Control", "max-age=60");
  REQUIRE(http::sign_request(m, "test-key-rsa-pss", key, 1618884475, *profile).has_value());
  const auto input = m.values("signature-input");
  REQUIRE(input.size() == 1);
  CHECK(input[0].starts_with(
      "sig1=(\"@method\" \"@target-uri\" \"@authority\" \"content-digest\" \"cache-control\");created=1618884475;"));
  CHECK(input[0].find(";keyid=\"test-key-rsa-pss\"") != std::string_view::npos);
  CHECK(input[0].ends_with(";tag=\"app-123\""));

  // Another key id is refused, and so are invalid fields.
  CHECK(http::profile_for(entry, "other", key, app).error().code == http::accept_error::wrong_key);
  CHECK_FALSE(http::parse_accept_signature("sig1=\"@method\"").has_value());    // not an inner list
  CHECK_FALSE(http::parse_accept_signature("sig1=(@method)").has_value());      // a token, not a String
  CHECK_FALSE(http::parse_accept_signature("sig1=(\"@method\"").has_value());   // syntax
  CHECK_FALSE(http::parse_accept_signature(std::string(sf::max_field_size + 1, 'a')).has_value());
}
