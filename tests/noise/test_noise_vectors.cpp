// Noise vector runner: every vector of cacophony.txt and snow.txt whose
// protocol name this engine supports is replayed through dynamic_handshake
// (the run-time name -> instantiation entry point) with the vector's fixed
// keys; the handshake messages, the handshake hash (where given) and the
// transport messages must match byte for byte, and the receiving side must
// recover each payload. Counts are printed: run / skipped by reason. Without
// the external vectors the program exits 77 (SKIP).

#include <catch2/catch_session.hpp>
#include <catch2/catch_test_macros.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include <sepal/noise.hpp>

#include "test_support.hpp"

using namespace sepal_test;
namespace noise = sepal::noise;
using json = nlohmann::json;

namespace {

std::optional<sepal::secret_bytes> secret_field(const json& v, const char* name) {
  if (!v.contains(name)) return std::nullopt;
  return secret(hex(v[name].get<std::string>()));
}

noise::dynamic_keys keys_for(const json& v, const std::string& side, const bytes& prologue) {
  noise::dynamic_keys k;
  k.prologue = prologue;
  k.local_static = secret_field(v, (side + "_static").c_str());
  if (v.contains(side + "_remote_static")) k.remote_static = hex(v[side + "_remote_static"].get<std::string>());
  k.fixed_ephemeral_for_testing_only = secret_field(v, (side + "_ephemeral").c_str());
  if (v.contains(side + "_psks"))
    for (const auto& p : v[side + "_psks"]) k.psks.push_back(secret(hex(p.get<std::string>())));
  return k;
}

struct counts {
  std::size_t run = 0, messages = 0, hashes = 0;
  std::map<std::string, std::size_t> skipped;
};

/// Replays one vector; returns false with a skip reason for unsupported names.
bool replay(const json& v, counts& c) {
  const std::string name = v["protocol_name"].get<std::string>();
  const bytes ip = hex(v["init_prologue"].get<std::string>()), rp = hex(v["resp_prologue"].get<std::string>());
  auto parsed = noise::parse_protocol_name(name);
  if (!parsed) {
    // Only names outside the supported features may be skipped.
    REQUIRE(parsed.error() == sepal::errc::wrong_algorithm);
    const bool fallback = name.find("fallback") != std::string::npos, hybrid = name.find("hfs") != std::string::npos;
    c.skipped[fallback ? "fallback" : hybrid ? "hybrid" : "unsupported name"]++;
    return false;
  }
  auto init = noise::dynamic_handshake::create(name, noise::role::initiator, keys_for(v, "init", ip));
  auto resp = noise::dynamic_handshake::create(name, noise::role::responder, keys_for(v, "resp", rp));
  INFO(name);
  REQUIRE(init.has_value());
  REQUIRE(resp.has_value());
  const auto& msgs = v["messages"];
  std::size_t i = 0;
  // Handshake messages: the initiator writes even ones, the responder odd ones.
  for (; i < msgs.size() && !init->is_complete(); ++i) {
    INFO("handshake message " << i);
    auto& writer = i % 2 == 0 ? *init : *resp;
    auto& reader = i % 2 == 0 ? *resp : *init;
    const bytes payload = hex(msgs[i]["payload"].get<std::string>());
    auto m = writer.write_message(payload);
    REQUIRE(m.has_value());
    REQUIRE(to_hex(*m) == msgs[i]["ciphertext"].get<std::string>());
    auto p = reader.read_message(*m);
    REQUIRE(p.has_value());
    REQUIRE(*p == payload);
    ++c.messages;
  }
  REQUIRE(init->is_complete());
  REQUIRE(resp->is_complete());
  REQUIRE(to_hex(init->handshake_hash()) == to_hex(resp->handshake_hash()));
  if (v.contains("handshake_hash")) {
    REQUIRE(to_hex(init->handshake_hash()) == v["handshake_hash"].get<std::string>());
    ++c.hashes;
  }
  const bool one_way = init->one_way();
  auto ti = std::move(*init).into_transport();
  auto tr = std::move(*resp).into_transport();
  REQUIRE(ti.has_value());
  REQUIRE(tr.has_value());
  // Transport messages alternate after the handshake (one-way: all from the initiator).
  for (std::size_t j = 0; i < msgs.size(); ++i, ++j) {
    INFO("transport message " << i);
    const bool from_initiator = one_way || i % 2 == 0;
    auto& sender = from_initiator ? *ti : *tr;
    auto& receiver = from_initiator ? *tr : *ti;
    const bytes payload = hex(msgs[i]["payload"].get<std::string>());
    const auto m = sender.seal(payload);
    REQUIRE(to_hex(m) == msgs[i]["ciphertext"].get<std::string>());
    auto p = receiver.open(m);
    REQUIRE(p.has_value());
    REQUIRE(*p == payload);
    ++c.messages;
  }
  ++c.run;
  return true;
}

void run_file(const char* relative, std::size_t expected_min) {
  const auto path = *vectors_dir() / relative;
  std::ifstream in(path);
  REQUIRE(in.good());
  const json doc = json::parse(in);
  counts c;
  for (const auto& v : doc["vectors"]) replay(v, c);
  std::cout << relative << ": " << c.run << " run (" << c.messages << " messages, " << c.hashes
            << " handshake hashes), skipped:";
  std::size_t skipped = 0;
  for (const auto& [why, n] : c.skipped) {
    std::cout << ' ' << n << ' ' << why;
    skipped += n;
  }
  if (skipped == 0) std::cout << " none";
  std::cout << '\n';
  CHECK(c.run + skipped == doc["vectors"].size());
  CHECK(c.run >= expected_min);
}

}  // namespace

TEST_CASE("cacophony: every supported vector's handshake messages, handshake hash and transport match byte for byte",
          "[noise][vectors]") {
  run_file("cacophony/cacophony.txt", 944);
}

TEST_CASE("snow: every supported vector (multi-psk names included) matches byte for byte", "[noise][vectors]") {
  run_file("snow/snow.txt", 408);
}

int main(int argc, char** argv) {
  if (!vectors_dir()) {
    std::cout << vectors_hint << '\n';
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
