#include <catch2/catch_test_macros.hpp>

#include <sepal/handshake/key_schedule.hpp>

#include "test_support.hpp"

using namespace sepal_test;
namespace hs = sepal::handshake;
using H = sepal::sha256;

namespace {
hs::transcript<H>::digest digest(std::string_view h) {
  hs::transcript<H>::digest d{};
  const auto b = hex(h);
  std::copy(b.begin(), b.end(), d.begin());
  return d;
}
}  // namespace

TEST_CASE("RFC 8448 §3: the TLS 1.3 key schedule of the simple 1-RTT handshake", "[handshake][kat]") {
  auto early = hs::early_secret<H>::start();
  CHECK(to_hex(early.reveal()) == "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");

  const auto ecdhe = hex("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d");
  auto handshake = std::move(early).next(ecdhe);
  CHECK(to_hex(handshake.reveal()) == "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac");

  const auto hello_hash = digest("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
  const auto client_hs = handshake.client_traffic(hello_hash);
  const auto server_hs = handshake.server_traffic(hello_hash);
  CHECK(to_hex(client_hs.reveal()) == "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21");
  CHECK(to_hex(server_hs.reveal()) == "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");

  // The server's Finished over ClientHello..CertificateVerify (RFC 8446 §4.4.4).
  const auto cv_hash = digest("edb7725fa7a3473b031ec8ef65a2485493900138a2b91291407d7951a06110ed");
  const auto fin = hs::finished_mac<H>(server_hs.reveal(), cv_hash);
  CHECK(to_hex(fin) == "9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718");
  CHECK(hs::verify_finished<H>(server_hs.reveal(), cv_hash, fin));
  auto bad = fin;
  bad[0] ^= 1;
  CHECK_FALSE(hs::verify_finished<H>(server_hs.reveal(), cv_hash, bad));
  CHECK_FALSE(hs::verify_finished<H>(client_hs.reveal(), cv_hash, fin));  // the other side's key

  auto master = std::move(handshake).next();
  CHECK(to_hex(master.reveal()) == "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919");
  const auto finished_hash = digest("9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13");
  CHECK(to_hex(master.client_traffic(finished_hash).reveal()) ==
        "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5");
  CHECK(to_hex(master.server_traffic(finished_hash).reveal()) ==
        "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643");
  CHECK(to_hex(master.exporter_master(finished_hash).reveal()) ==
        "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50");
}

TEST_CASE("hardening #2: each traffic secret can be taken from the schedule once", "[handshake][hardening]") {
  const auto h = digest("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
  auto handshake = hs::early_secret<H>::start().next(hex("01"));
  (void)handshake.client_traffic(h);
  (void)handshake.server_traffic(h);
  CHECK_THROWS_AS(handshake.client_traffic(h), sepal::error);  // would be a second sealer's key
  CHECK_THROWS_AS(handshake.server_traffic(h), sepal::error);
  auto master = std::move(handshake).next();
  (void)master.client_traffic(h);
  try {
    (void)master.client_traffic(h);
    FAIL("a second client_traffic must throw");
  } catch (const sepal::error& e) {
    CHECK(e.code() == sepal::errc::already_finished);
  }
  (void)master.server_traffic(h);
  CHECK_THROWS_AS(master.server_traffic(h), sepal::error);
  CHECK_NOTHROW(master.exporter_master(h));  // not a traffic secret: derived as often as asked
}

TEST_CASE("the transcript hash continues after current() and copies independently", "[handshake]") {
  hs::transcript<H> t;
  CHECK(to_hex(t.current()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");  // SHA-256("")
  t.update(as_bytes("ab"));
  auto fork = t;
  t.update(as_bytes("c"));
  CHECK(to_hex(t.current()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // SHA-256("abc")
  CHECK(to_hex(t.current()) == to_hex(t.current()));
  fork.update(as_bytes("c"));
  CHECK(to_hex(fork.current()) == to_hex(t.current()));
}

TEST_CASE("exporter outputs depend on label, context and the master secret", "[handshake]") {
  const auto m1 = hex("fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50");
  auto m2 = m1;
  m2[0] ^= 1;
  const auto a = hs::exporter<H>(m1, "EXPERIMENTAL sepal", as_bytes("ctx"), 32);
  CHECK(a.size() == 32);
  CHECK_FALSE(sepal::constant_time_equal(a, hs::exporter<H>(m1, "EXPERIMENTAL other", as_bytes("ctx"), 32)));
  CHECK_FALSE(sepal::constant_time_equal(a, hs::exporter<H>(m1, "EXPERIMENTAL sepal", as_bytes("ctX"), 32)));
  CHECK_FALSE(sepal::constant_time_equal(a, hs::exporter<H>(m2, "EXPERIMENTAL sepal", as_bytes("ctx"), 32)));
  CHECK(sepal::constant_time_equal(a, hs::exporter<H>(m1, "EXPERIMENTAL sepal", as_bytes("ctx"), 32)));
}
