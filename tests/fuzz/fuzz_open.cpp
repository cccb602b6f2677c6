// libFuzzer harness: the packet opener and the stream record reader, the
// parsers that see every byte an attacker sends once a session exists.
// Invariants: nothing throws; a packet that opens was sealed by the peer
// (forgeries never open); a failed open leaves no plaintext in `out`; the
// record reader's memory stays bounded.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <sepal/session.hpp>
#include <sepal/stream.hpp>

#include <vector>

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

const std::array<std::uint8_t, 32> secret{7, 7, 7};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> in(data + 1, size - 1);
  // Genuine packets 0..3 exist; the fuzzer may splice them in via the seeds.
  sepal::opener<> o(sepal::secret_bytes::copy_of(secret));
  std::array<std::uint8_t, 4096> out{};
  switch (data[0] % 4) {
    case 0: {  // one packet, possibly many times (replays)
      for (int i = 0; i < 3; ++i) {
        out.fill(0xA5);
        auto r = o.open({}, in, out);
        if (!r) require(std::all_of(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(std::min(in.size(), out.size())),
                                    [](std::uint8_t b) { return b == 0xA5 || b == 0; }));
      }
      break;
    }
    case 1: {  // a stream of records fed in pieces of varying size
      sepal::record_reader<sepal::opener<>, 2048> reader(sepal::opener<>(sepal::secret_bytes::copy_of(secret)));
      std::size_t pos = 0, step = 1;
      while (pos < in.size() && !reader.failed() && !reader.ended()) {
        const auto piece = in.subspan(pos, std::min(step, in.size() - pos));
        pos += reader.feed(piece);
        if (reader.ready()) (void)reader.open({});
        step = step * 3 + 1;
      }
      (void)reader.finish();
      break;
    }
    case 3: {  // a handshake's session (connection ids, control packets: docs/protocol.md §7.1, §7.3)
      using session = sepal::session<sepal::default_cipher_suite, sepal::session_options{.connection_id_size = 8}>;
      const sepal::connection_id<8> local{1, 2, 3, 4, 5, 6, 7, 8}, peer{8, 7, 6, 5, 4, 3, 2, 1};
      session s(sepal::secret_bytes::copy_of(secret), sepal::secret_bytes::copy_of(secret), local, peer);
      std::vector<std::uint8_t> packet(in.begin(), in.end());
      auto r = s.receive_in_place({}, packet);
      // Nothing the fuzzer makes opens (it would need the keys), and a
      // failed open leaves no plaintext: each byte is as it came, or wiped.
      require(!r);
      for (std::size_t i = 0; i < packet.size(); ++i) require(packet[i] == in[i] || packet[i] == 0);
      break;
    }
    default: {  // packets separated by 2-byte lengths, opened in order
      std::size_t pos = 0;
      while (pos + 2 <= in.size()) {
        const std::size_t n = std::min<std::size_t>((std::size_t{in[pos]} << 8) | in[pos + 1], in.size() - pos - 2);
        (void)o.open({}, in.subspan(pos + 2, n), out);
        pos += 2 + n;
      }
      break;
    }
  }
  return 0;
}
