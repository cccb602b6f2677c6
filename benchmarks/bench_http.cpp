// sepal-bench, request signing: RFC 9421 sign and verify operations per
// second for each algorithm, on a typical JSON POST under sepal's profile
// (Content-Digest, created/expires/nonce/keyid/alg/tag), next to the bare
// primitive over the same signature base through Botan (the floor).

#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/mac.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <sepal/http/signer.hpp>
#include <sepal/http/verifier.hpp>

#include "bench_common.hpp"

namespace bench {
namespace {

namespace http = sepal::http;

http::message sample_request() {
  auto m = http::message::request("POST", "https://api.example.com/v1/orders?dry_run=1");
  m.add("Host", "api.example.com").add("Content-Type", "application/json").add("Accept", "application/json");
  m.content = R"({"item": 42, "quantity": 1, "note": "benchmark request of a typical size"})";
  return m;
}

struct row {
  const char* alg;
  double sign_per_s, verify_per_s, floor_sign_per_s, floor_verify_per_s;
};

/// sepal: sign_request on a fresh copy; verify with a policy that skips the
/// replay cache (every iteration verifies the same request).
row measure_alg(const char* name, const http::signing_key& key, http::verification_key vkey,
                const std::function<std::vector<std::uint8_t>(std::span<const std::uint8_t>)>& raw_sign,
                const std::function<bool(std::span<const std::uint8_t>, std::span<const std::uint8_t>)>& raw_verify,
                const options& opt) {
  auto keys = std::make_shared<http::memory_key_store>();
  keys->add("bench", "1", std::move(vkey));
  http::verify_policy policy;
  policy.max_age = 1 << 30;
  http::request_verifier verifier(keys, policy);
  const std::int64_t now = 1'800'000'000;
  auto signed_req = sample_request();
  if (!http::sign_request(signed_req, "bench", key, now)) std::abort();
  // Verifying one request again and again would be a replay, so the timed
  // verification uses the same profile without a nonce (the cache insert is
  // the only work left out; the tests cover it).
  http::verify_policy no_nonce = policy;
  no_nonce.require_nonce = false;
  http::request_verifier timing_verifier(keys, no_nonce);
  auto unsigned_req = sample_request();
  unsigned_req.add("Content-Digest", http::content_digest(unsigned_req.content));
  http::signature_params params;
  params.cover("@method").cover("@target-uri").cover("content-digest").created(now).expires(now + 300).keyid("bench").alg(
      std::string(http::algorithm_name(key.alg()))).tag("sepal-request/1");
  auto fields = http::sign(unsigned_req, "sig", params, key);
  auto verifiable = unsigned_req;
  http::attach(verifiable, *fields);
  if (!timing_verifier.verify(verifiable, now) || !verifier.verify(signed_req, now)) std::abort();

  const auto base = std::get<std::string>(http::signature_base(unsigned_req, params));
  const std::span<const std::uint8_t> base_bytes(reinterpret_cast<const std::uint8_t*>(base.data()), base.size());
  const auto raw_sig = raw_sign(base_bytes);

  row r{name, 0, 0, 0, 0};
  r.sign_per_s = rate(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          auto m = sample_request();
          if (!http::sign_request(m, "bench", key, now)) std::abort();
        }
      },
      opt);
  r.verify_per_s = rate(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i)
          if (!timing_verifier.verify(verifiable, now)) std::abort();
      },
      opt);
  r.floor_sign_per_s = rate(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) (void)raw_sign(base_bytes);
      },
      opt);
  r.floor_verify_per_s = rate(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i)
          if (!raw_verify(base_bytes, raw_sig)) std::abort();
      },
      opt);
  return r;
}

template <class PrivateKey>
row measure_pk(const char* name, const char* padding, const PrivateKey& botan_key, http::signing_key key,
               http::verification_key vkey, const options& opt) {
  auto& rng = Botan::system_rng();
  Botan::PK_Signer signer(botan_key, rng, padding, Botan::Signature_Format::Standard);
  Botan::PK_Verifier verifier(botan_key, padding, Botan::Signature_Format::Standard);
  return measure_alg(
      name, key, std::move(vkey), [&](std::span<const std::uint8_t> m) { return signer.sign_message(m, rng); },
      [&](std::span<const std::uint8_t> m, std::span<const std::uint8_t> s) { return verifier.verify_message(m, s); },
      opt);
}

}  // namespace

section bench_http(const options& opt) {
  std::fprintf(stderr, "  request signing (RFC 9421)\n");
  std::vector<row> rows;
  {
    const std::vector<std::uint8_t> secret(32, 7);
    auto mac = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)");
    mac->set_key(secret);
    rows.push_back(measure_alg(
        "hmac-sha256", http::signing_key::hmac_sha256_or_throw(sepal::secret_bytes::copy_of(secret)),
        http::verification_key::hmac_sha256_or_throw(sepal::secret_bytes::copy_of(secret)),
        [&](std::span<const std::uint8_t> m) { return mac->process<std::vector<std::uint8_t>>(m); },
        [&](std::span<const std::uint8_t> m, std::span<const std::uint8_t> s) {
          mac->update(m);
          return mac->verify_mac(s);
        },
        opt));
  }
  {
    auto k = sepal::private_key<sepal::p256>::generate();
    const auto& bk = dynamic_cast<const Botan::ECDSA_PrivateKey&>(k.botan());
    auto pub = k.public_key();
    rows.push_back(measure_pk("ecdsa-p256-sha256", "SHA-256", bk, http::signing_key::ecdsa_p256_sha256(std::move(k)),
                              http::verification_key::ecdsa_p256_sha256(pub), opt));
  }
  {
    auto k = sepal::private_key<sepal::p384>::generate();
    const auto& bk = dynamic_cast<const Botan::ECDSA_PrivateKey&>(k.botan());
    auto pub = k.public_key();
    rows.push_back(measure_pk("ecdsa-p384-sha384", "SHA-384", bk, http::signing_key::ecdsa_p384_sha384(std::move(k)),
                              http::verification_key::ecdsa_p384_sha384(pub), opt));
  }
  {
    auto k = sepal::private_key<sepal::ed25519>::generate();
    const auto& bk = dynamic_cast<const Botan::Ed25519_PrivateKey&>(k.botan());
    auto pub = k.public_key();
    rows.push_back(measure_pk("ed25519", "Pure", bk, http::signing_key::ed25519(std::move(k)),
                              http::verification_key::ed25519(pub), opt));
  }

  section s;
  s.text = "\nRFC 9421 request signing, ops/s (JSON POST, sepal profile; floor = the bare primitive on the same "
           "base via Botan):\n";
  s.json_key = "request_signing";
  s.json_value = "{";
  char line[320];
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "  %-18s sign %9.0f (floor %9.0f, %.2f)  verify %9.0f (floor %9.0f, %.2f)\n",
                  r.alg, r.sign_per_s, r.floor_sign_per_s, r.sign_per_s / r.floor_sign_per_s, r.verify_per_s,
                  r.floor_verify_per_s, r.verify_per_s / r.floor_verify_per_s);
    s.text += line;
    std::snprintf(line, sizeof line,
                  "%s\"%s\": {\"sign_per_s\": %.1f, \"verify_per_s\": %.1f, \"floor_sign_per_s\": %.1f, "
                  "\"floor_verify_per_s\": %.1f}",
                  &r == rows.data() ? "" : ", ", r.alg, r.sign_per_s, r.verify_per_s, r.floor_sign_per_s,
                  r.floor_verify_per_s);
    s.json_value += line;
  }
  s.json_value += "}";
  return s;
}

}  // namespace bench
