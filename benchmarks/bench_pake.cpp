// sepal-bench, password login: full SPAKE2+ exchanges per second for every
// suite (one thread plays both sides; the password KDF is not included),
// Botan's SPAKE2p contexts called directly (what sepal's exchange runs on),
// the same group operations through Botan's EC API as the floor, the
// five-message login protocol, and the memory-hard registration step with
// its parameters.

#include <botan/ec_apoint.h>
#include <botan/ec_group.h>
#include <botan/ec_scalar.h>
#include <botan/spake2p.h>
#include <botan/system_rng.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>
#include <cstdlib>
#include <memory>
#include <string>

#include <sepal/pake/login.hpp>
#include <sepal/pake/spake2plus.hpp>

#include "bench_common.hpp"

namespace bench {
namespace {

namespace pake = sepal::pake;

template <class Suite>
double exchanges(const options& opt) {
  std::vector<std::uint8_t> seed(2 * Suite::w_seed_size, 0x42);
  const auto secrets = pake::prover_secrets<Suite>::from_seed(seed);
  const auto record = pake::verifier_record<Suite>::create(secrets, pake::password_kdf::external(), {});
  const pake::identities ids{"bench", "alice", "server"};
  return rate(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          auto p = pake::prover<Suite>::start(secrets, ids);
          auto v = pake::verifier<Suite>::start(record, ids, p.share());
          auto c = p.receive(v->response());
          if (!c || !v->finish(c->message)) std::abort();
        }
      },
      opt);
}

/// One exchange on Botan's SPAKE2p contexts, with the same identities and
/// secrets: sepal's exchange minus its checks, copies and exchange_keys.
template <class Suite>
double botan_spake2p(const options& opt) {
  namespace sp = Botan::SPAKE2p;
  auto& rng = Botan::system_rng();
  const auto& params = pake::detail::parameters<Suite>();
  std::vector<std::uint8_t> seed(2 * Suite::w_seed_size, 0x42);
  const auto secrets = pake::prover_secrets<Suite>::from_seed(seed);
  const auto secret = sp::ProverSecret::from_prehashed(*pake::detail::scalar<Suite>(secrets.w0().reveal()),
                                                       *pake::detail::scalar<Suite>(secrets.w1().reveal()));
  const auto record = secret.registration_record(rng);
  const auto b = [](std::string_view s) { return sepal::detail::bytes_of(s); };
  return rate(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          sp::ProverContext p(params, secret, b("alice"), b("server"), b("bench"));
          sp::VerifierContext v(params, record, b("alice"), b("server"), b("bench"));
          const auto response = v.process_message(p.generate_message(rng), rng);
          v.verify_confirmation(p.process_message(response, rng));
          if (p.shared_secret() != v.shared_secret()) std::abort();
        }
      },
      opt);
}

/// The group operations of one exchange, straight through Botan: shareP
/// and shareV (two 2-term multi-scalar multiplications), the prover's Z and
/// V (two more), the verifier's Z (one more) and V (one multiplication).
template <class Suite>
double botan_floor(const options& opt) {
  auto& rng = Botan::system_rng();
  const auto& params = pake::detail::parameters<Suite>();
  const auto& g = params.group();
  const auto& m = params.spake2p_m();
  const auto& nn = params.spake2p_n();
  const auto p = Botan::EC_AffinePoint::generator(g);
  const auto w0 = Botan::EC_Scalar::random(g, rng);
  const auto w1 = Botan::EC_Scalar::random(g, rng);
  const auto l = Botan::EC_AffinePoint::g_mul(w1, rng);
  return rate(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          const auto x = Botan::EC_Scalar::random(g, rng);
          const auto y = Botan::EC_Scalar::random(g, rng);
          const auto big_x = Botan::EC_AffinePoint::mul_px_qy(p, x, m, w0, rng);
          const auto big_y = Botan::EC_AffinePoint::mul_px_qy(p, y, nn, w0, rng);
          const auto zv = Botan::EC_AffinePoint::mul_px_qy(*big_x, y, m, (y * w0).negate(), rng);
          const auto vv = l.mul(y, rng);
          const auto zp = Botan::EC_AffinePoint::mul_px_qy(*big_y, x, nn, (x * w0).negate(), rng);
          const auto vp = Botan::EC_AffinePoint::mul_px_qy(*big_y, w1, nn, (w1 * w0).negate(), rng);
          if (!zv || !zp || !vp || vv.is_identity()) std::abort();
        }
      },
      opt);
}

/// The login protocol (hello, params, share, reply, confirm) with a
/// prehashed record, so no password KDF runs.
double logins(const options& opt) {
  struct one_user final : pake::user_store<> {
    std::optional<pake::verifier_record<>> find(std::string_view) noexcept override {
      return pake::verifier_record<>::parse(stored.reveal()).value();
    }
    sepal::secret_bytes stored;
  };
  const auto users = std::make_shared<one_user>();
  const std::vector<std::uint8_t> seed(2 * pake::default_spake2plus_suite::w_seed_size, 0x42);
  users->stored = pake::verifier_record<>::create(pake::prover_secrets<>::from_seed(seed),
                                                 pake::password_kdf::external(), {})
                     .serialize();
  const pake::login_server_config<> sc{"server", users, sepal::secret_bytes::copy_of(std::vector<std::uint8_t>(32, 1)),
                                       pake::password_kdf::argon2id()};
  return rate(
      [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          auto c = pake::login_client<>::start_prehashed({"server", {}}, "alice", pake::prover_secrets<>::from_seed(seed));
          auto s = pake::login_server<>::accept(sc, c.hello());
          auto proof = c.receive_params(s->params());
          auto reply = s->receive_share(proof->share());
          auto done = proof->receive_reply(reply->reply());
          if (!done || !reply->receive_confirm(done->final_message)) std::abort();
        }
      },
      opt);
}

/// Milliseconds for one registration: the first call in this process (the
/// KDF's memory is freshly mapped and faulted in, as in a client that logs
/// in once) and the median of three more (memory reused).
std::pair<double, double> registration_ms(const pake::password_kdf& kdf) {
  std::vector<double> ms;
  for (int r = 0; r < 4; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    (void)pake::register_password("correct horse battery staple", "alice", "server", kdf);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin() + 1, ms.end());
  return {ms[0], ms[2]};
}

struct suite_row {
  const char* name;
  double sepal, botan, floor;
};

template <class Suite>
suite_row row(const char* name, const options& opt) {
  return {name, exchanges<Suite>(opt), botan_spake2p<Suite>(opt), botan_floor<Suite>(opt)};
}

}  // namespace

section bench_pake(const options& opt) {
  std::fprintf(stderr, "  password login (SPAKE2+)\n");
  const suite_row rows[] = {
      row<pake::p256_sha256>("P256-SHA256-HKDF-SHA256-HMAC-SHA256", opt),
      row<pake::p256_sha512>("P256-SHA512-HKDF-SHA512-HMAC-SHA512", opt),
      row<pake::p384_sha256>("P384-SHA256-HKDF-SHA256-HMAC-SHA256", opt),
      row<pake::p384_sha512>("P384-SHA512-HKDF-SHA512-HMAC-SHA512", opt),
      row<pake::p521_sha512>("P521-SHA512-HKDF-SHA512-HMAC-SHA512", opt),
  };
  const double login = logins(opt);
  const auto argon = pake::password_kdf::argon2id();
  const auto scrypt = pake::password_kdf::scrypt();
  const auto [argon_first, argon_ms] = registration_ms(argon);
  const auto [scrypt_first, scrypt_ms] = registration_ms(scrypt);

  section s;
  s.text = "\nSPAKE2+ (RFC 9383) exchanges/s, one thread, both sides, no password KDF:\n";
  s.json_key = "spake2plus";
  s.json_value = "{\"exchanges_per_s\": {";
  char line[256];
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line,
                  "  %-36s sepal %7.0f  Botan SPAKE2p %7.0f  Botan EC floor %7.0f  (sepal/SPAKE2p %.2f, sepal/floor "
                  "%.2f)\n",
                  r.name, r.sepal, r.botan, r.floor, r.sepal / r.botan, r.sepal / r.floor);
    s.text += line;
    std::snprintf(line, sizeof line, "%s\"%s\": {\"sepal\": %.1f, \"botan_spake2p\": %.1f, \"botan_floor\": %.1f}",
                  &r == rows ? "" : ", ", r.name, r.sepal, r.botan, r.floor);
    s.json_value += line;
  }
  std::snprintf(line, sizeof line,
                "  login protocol (5 messages, default suite, prehashed record): %.0f logins/s\n"
                "  registration = the client's KDF at each login (first call in a process / warm):\n"
                "    Argon2id m=%u KiB t=%u p=%u: %.0f / %.0f ms; scrypt N=%u r=%u p=%u: %.0f / %.0f ms\n",
                login, argon.memory_or_n, argon.iterations_or_r, argon.parallelism, argon_first, argon_ms,
                scrypt.memory_or_n, scrypt.iterations_or_r, scrypt.parallelism, scrypt_first, scrypt_ms);
  s.text += line;
  std::snprintf(line, sizeof line,
                "}, \"logins_per_s\": %.1f, \"registration_ms\": {\"argon2id_m65536_t3_p4\": {\"first\": %.1f, "
                "\"warm\": %.1f}, \"scrypt_n65536_r8_p1\": {\"first\": %.1f, \"warm\": %.1f}}}",
                login, argon_first, argon_ms, scrypt_first, scrypt_ms);
  s.json_value += line;
  return s;
}

}  // namespace bench
