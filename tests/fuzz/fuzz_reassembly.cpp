// libFuzzer harness: handshake Fragment reassembly (docs/protocol.md §3.4).
// The input is a sequence of datagrams, each a 16-bit big-endian length and
// that many bytes; every datagram goes to a reassembly of a ServerHello, to
// a server's ClientHello collector and to a client waiting for a
// ServerHello. The binding is the input's first 8 bytes, so the fuzzer can
// reach accepted fragments. Invariants: nothing throws; memory never
// exceeds the message length or max_message_size; at most max_fragments
// are accepted; a completed message has the first fragment's length; no
// handshake completes without the server's keys.

#include <cstdint>
#include <cstdlib>
#include <span>

#include <sepal/handshake/protocol.hpp>
#include <sepal/handshake/reassembly.hpp>

namespace {

namespace hs = sepal::handshake;
using suite = hs::default_suite;

void require(bool ok) {
  if (!ok) std::abort();
}

struct fixture {
  hs::shared_private_key<sepal::p256> root = hs::share(sepal::private_key<sepal::p256>::unsafe_test_key());
  hs::client_config<suite> client{root->public_key(), nullptr};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  if (size < 8) return 0;
  hs::fragment_binding binding{};
  std::copy_n(data, binding.size(), binding.begin());
  std::span<const std::uint8_t> in(data + 8, size - 8);

  hs::reassembly r(suite::id, 2, binding);
  hs::client_hello_collector<suite> collector;
  auto client = hs::client_handshake<suite>::start(f.client);
  std::size_t first_length = 0;
  while (in.size() >= 2) {
    const std::size_t n = std::min<std::size_t>(in.size() - 2, std::size_t{in[0]} << 8 | in[1]);
    const auto d = in.subspan(2, n);
    in = in.subspan(2 + n);

    const auto st = r.add(d);
    if (st && r.started() && first_length == 0) first_length = r.memory();
    require(r.memory() <= hs::max_message_size);
    require(r.fragments() <= hs::max_fragments);
    if (r.complete()) {
      require(r.message().size() == first_length);
      r.reset();
      first_length = 0;
      require(r.memory() == 0);
    }
    if (d.size() == 1 && d[0] == 0) {  // a timer tick
      (void)r.on_timer();
      (void)collector.on_timer();
      (void)client.on_timer();
    }

    (void)collector.add(d);
    require(collector.memory() <= 2 * hs::max_message_size);
    if (collector.complete()) require(collector.message().size() >= hs::min_client_hello_size);

    auto c = client.on_datagram(d, 0);
    require(!(c && c->has_value()));  // the client's random is fresh: nothing here can complete it
    require(client.reassembly_memory() <= hs::max_message_size);
  }
  return 0;
}
