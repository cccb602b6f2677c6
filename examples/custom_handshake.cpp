// A handshake of your own from sepal's building blocks: two peers that know
// each other's Ed25519 keys exchange X25519 shares, each signs the transcript
// hash, the TLS 1.3 key schedule derives traffic secrets, Finished MACs
// confirm the keys, and each side gets a session. (Messages are passed as
// byte vectors; a real protocol would frame and send them.)
#include <sepal/sepal.hpp>

#include <cstdio>
#include <string_view>

namespace hs = sepal::handshake;
using H = sepal::sha256;
using bytes = std::vector<std::uint8_t>;

namespace {

struct peer {
  sepal::private_key<sepal::ed25519> identity = sepal::private_key<sepal::ed25519>::generate();
  sepal::private_key<sepal::x25519> ephemeral = sepal::private_key<sepal::x25519>::generate();
  hs::transcript<H> transcript;
};

std::span<const std::uint8_t> text(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

/// Signs "context || transcript hash" and appends the signature to the transcript.
bytes prove(peer& self, std::string_view context) {
  auto msg = bytes(text(context).begin(), text(context).end());
  const auto h = self.transcript.current();
  msg.insert(msg.end(), h.begin(), h.end());
  auto sig = sepal::sign(self.identity, msg);
  self.transcript.update(sig);
  return sig;
}

bool check(peer& self, const sepal::public_key<sepal::ed25519>& other, std::string_view context, const bytes& sig) {
  auto msg = bytes(text(context).begin(), text(context).end());
  const auto h = self.transcript.current();
  msg.insert(msg.end(), h.begin(), h.end());
  self.transcript.update(sig);
  return sepal::verify(other, msg, sig);
}

}  // namespace

int main() {
  peer a, b;
  const auto a_pub = a.identity.public_key(), b_pub = b.identity.public_key();

  // 1. Shares, in a fixed order on both transcripts.
  const auto a_share = a.ephemeral.public_key().to_raw(), b_share = b.ephemeral.public_key().to_raw();
  for (peer* p : {&a, &b}) p->transcript.update(a_share).update(b_share);

  // 2. Both sides sign the transcript (SIGMA: identity bound to the shares).
  const auto a_sig = prove(a, "custom v1 initiator");
  if (!check(b, a_pub, "custom v1 initiator", a_sig)) return 1;
  const auto b_sig = prove(b, "custom v1 responder");
  if (!check(a, b_pub, "custom v1 responder", b_sig)) return 1;

  // 3. Key schedule from the shared secret and the transcript.
  auto schedule = [](peer& p, std::span<const std::uint8_t> peer_share) {
    auto dh = sepal::agree(p.ephemeral, peer_share);
    auto handshake = hs::early_secret<H>::start().next(dh.value().reveal());
    const auto th = p.transcript.current();
    auto a_to_b = handshake.client_traffic(th), b_to_a = handshake.server_traffic(th);
    return std::pair{std::move(a_to_b), std::move(b_to_a)};
  };
  auto [a_ab, a_ba] = schedule(a, b_share);
  auto [b_ab, b_ba] = schedule(b, a_share);

  // 4. Key confirmation: each side proves it derived the same secrets.
  const auto th = a.transcript.current();
  const auto a_fin = hs::finished_mac<H>(a_ab.reveal(), th);
  if (!hs::verify_finished<H>(b_ab.reveal(), b.transcript.current(), a_fin)) return 1;

  // 5. Sessions, one secret per direction, moved in: each secret becomes
  // exactly one sealer (A's a->b) or opener (B's a->b).
  sepal::session<> sa(std::move(a_ab), std::move(a_ba)), sb(std::move(b_ba), std::move(b_ab));
  bytes wire(64), out(64);
  auto packet = sa.seal({}, text("hello over a custom handshake"), wire);
  auto got = sb.open({}, packet, out);
  if (!got) return 1;
  std::printf("custom handshake done; B received: %.*s\n", static_cast<int>(got->size()),
              reinterpret_cast<const char*>(got->data()));
  return 0;
}
