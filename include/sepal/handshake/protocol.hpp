#ifndef SEPAL_HANDSHAKE_PROTOCOL_HPP
#define SEPAL_HANDSHAKE_PROTOCOL_HPP

// The sepal handshake, version 5 (docs/protocol.md): sans-I/O client and
// server state machines that authenticate the server by its root key (or a
// delegated key), optionally the client by its own key, and produce sessions.

#include <algorithm>
#include <array>
#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "../aead.hpp"
#include "../detail/bytes.hpp"
#include "../detail/wire.hpp"
#include "../hashes.hpp"
#include "../kdf.hpp"
#include "../kex.hpp"
#include "../key_share.hpp"
#include "../keys.hpp"
#include "../session.hpp"
#include "../sign.hpp"
#include "credentials.hpp"
#include "key_schedule.hpp"
#include "reassembly.hpp"
#include "suite.hpp"

namespace sepal::handshake {

/// Before a client's address is validated, a server sends it at most this
/// many times the bytes it received from that address, resends included
/// (RFC 9000 §8.1's anti-amplification limit): root-key replies are smaller
/// than the ClientHello, certificate chains need the headroom.
inline constexpr std::size_t amplification_limit = 3;
/// A pending server handshake sends its ServerHello at most this many times
/// more (on a retransmitted ClientHello or the caller's timer), budget
/// permitting, and waits this many ticks of the caller's resend timer for
/// the ClientFinished before it is `exhausted()`.
inline constexpr unsigned max_server_hello_resends = 10;
/// A client follows at most this many HelloRetry messages per handshake
/// (each must carry a valid integrity tag): a later genuine one may replace
/// an earlier one whose cookie did not get through, and a loop ends.
inline constexpr unsigned max_hello_retries = 3;
/// Whether the server knows the client can receive at its address (it
/// echoed a valid retry cookie): then the amplification budget does not apply.
enum class address_status : bool { unvalidated, validated };

/// Bytes of a session's connection ids (docs/protocol.md §3.1, §7.1).
inline constexpr std::size_t connection_id_size = 8;
/// A connection id of a session a handshake makes: each side chooses its
/// own, sends it in its hello, and the peer puts it in every packet.
using connection_id = sepal::connection_id<connection_id_size>;
/// The packet options of the sessions handshakes make: connection ids.
inline constexpr sepal::session_options session_packet_options{.connection_id_size = connection_id_size};

namespace detail {

using sepal::detail::wire_reader;
using sepal::detail::wire_writer;

enum : std::uint8_t { client_hello_type = 1, server_hello_type = 2, client_finished_type = 3, hello_retry_type = 4 };

/// The longest cookie a client echoes back (docs/protocol.md §7).
inline constexpr std::size_t max_cookie_size = 64;
/// HelloRetry's integrity tag (docs/protocol.md §7, after RFC 9001 §5.8).
inline constexpr std::size_t retry_tag_size = 16;
inline constexpr std::string_view retry_tag_context = "sepal v2 hello retry";

template <class Suite>
void write_header(wire_writer& w, std::uint8_t type) {
  w.u8(type).u8(protocol_version).u16(Suite::id);
}

/// Errors: `invalid_encoding` (type or truncation), `wrong_algorithm`
/// (version or suite: no negotiation, no downgrade).
template <class Suite>
result<void> read_header(wire_reader& r, std::uint8_t type) noexcept {
  const auto t = r.u8();
  const auto version = r.u8();
  const auto suite_id = r.u16();
  if (!r.ok() || t != type) return errc::invalid_encoding;
  if (version != protocol_version || suite_id != Suite::id) return errc::wrong_algorithm;
  return {};
}

/// The fields of a well-formed ClientHello (docs/protocol.md §3.1).
struct client_hello_fields {
  std::span<const std::uint8_t> random;
  std::span<const std::uint8_t> connection_id;  ///< the client's
  std::span<const std::uint8_t> share;
  std::span<const std::uint8_t> cookie;
};

/// Parses a ClientHello completely (size, header, every field, zero
/// padding), so nothing is spent on a datagram that is not one.
/// Errors: `invalid_encoding`, `wrong_algorithm`.
template <class Suite>
result<client_hello_fields> parse_client_hello(std::span<const std::uint8_t> hello) noexcept {
  if (hello.size() < min_client_hello_size || hello.size() > max_message_size) return errc::invalid_encoding;
  wire_reader r(hello);
  if (auto h = read_header<Suite>(r, client_hello_type); !h) return h.error();
  client_hello_fields f;
  f.random = r.bytes(32);
  f.connection_id = r.bytes(connection_id_size);
  f.share = r.opaque16();
  f.cookie = r.opaque16();
  const auto padding = r.opaque16();
  if (!r.at_end() || f.cookie.size() > max_cookie_size) return errc::invalid_encoding;
  if (!std::all_of(padding.begin(), padding.end(), [](std::uint8_t b) { return b == 0; })) return errc::invalid_encoding;
  return f;
}

/// HelloRetry's tag: HMAC-SHA-256 keyed with the ClientHello's random over
/// the context and the message before the tag, truncated to 16 bytes
/// (docs/protocol.md §7). It binds the HelloRetry to the ClientHello it
/// answers: an off-path attacker, who never saw the random, cannot forge one.
inline std::array<std::uint8_t, retry_tag_size> retry_tag(std::span<const std::uint8_t> client_random,
                                                         std::span<const std::uint8_t> retry_without_tag) {
  hmac<sha256> mac(client_random);
  mac.update(sepal::detail::bytes_of(retry_tag_context)).update(retry_without_tag);
  const auto full = mac.final();
  std::array<std::uint8_t, retry_tag_size> out{};
  std::copy_n(full.begin(), out.size(), out.begin());
  return out;
}

/// opaque chain<2>: a list of opaque certificate<2> (docs/protocol.md §3.2).
inline void write_chain(wire_writer& w, const der_chain& chain) {
  std::vector<std::uint8_t> inner;
  wire_writer iw(inner);
  for (const auto& c : chain) iw.opaque16(c);
  w.opaque16(inner);
}

/// Reads what `write_chain` wrote: 1 to `max_chain_certificates` non-empty
/// certificates; nullopt otherwise.
inline std::optional<std::vector<std::span<const std::uint8_t>>> read_chain(wire_reader& r) {
  const auto all = r.opaque16();
  if (!r.ok()) return std::nullopt;
  wire_reader cr(all);
  std::vector<std::span<const std::uint8_t>> out;
  while (!cr.at_end()) {
    const auto c = cr.opaque16();
    if (!cr.ok() || c.empty() || out.size() == max_chain_certificates) return std::nullopt;
    out.push_back(c);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

inline der_chain copy_chain(std::span<const std::span<const std::uint8_t>> chain) {
  der_chain out;
  for (const auto c : chain) out.emplace_back(c.begin(), c.end());
  return out;
}

/// ServerAuth.credential_kind and ClientAuth.has_identity / client_auth values.
enum : std::uint8_t { root_key_kind = 0, delegated_kind = 1, certificate_kind = 2 };
enum : std::uint8_t { no_client_auth = 0, raw_key_auth = 1, certificate_auth = 2 };

/// Handshake traffic protection: key and IV from a handshake traffic secret
/// (RFC 8446 §7.3); each direction seals exactly one message, with nonce = IV.
template <class Suite, class Engine>
struct flight_keys {
  Engine aead;
  std::array<std::uint8_t, Suite::aead::nonce_size> iv{};

  explicit flight_keys(std::span<const std::uint8_t> secret) {
    aead.set_key(hkdf<typename Suite::hash>::expand_label(secret, "key", {}, Suite::aead::key_size).reveal());
    const auto v = hkdf<typename Suite::hash>::expand_label(secret, "iv", {}, iv.size());
    std::copy_n(v.reveal().begin(), iv.size(), iv.begin());
  }
};

/// Seals one handshake flight.
template <class Suite>
std::vector<std::uint8_t> seal_flight(std::span<const std::uint8_t> secret, std::span<const std::uint8_t> ad,
                                      std::span<const std::uint8_t> plain) {
  flight_keys<Suite, sepal::detail::aead_encryptor<typename Suite::aead>> k(secret);
  std::vector<std::uint8_t> out(plain.size() + Suite::aead::tag_size);
  (void)k.aead.seal(k.iv, ad, plain, out);
  return out;
}

/// Opens one handshake flight; never throws.
template <class Suite>
result<std::vector<std::uint8_t>> open_flight(std::span<const std::uint8_t> secret, std::span<const std::uint8_t> ad,
                                              std::span<const std::uint8_t> sealed) {
  flight_keys<Suite, sepal::detail::aead_decryptor<typename Suite::aead>> k(secret);
  std::vector<std::uint8_t> out(sealed.size());
  auto r = k.aead.open(k.iv, ad, sealed, out);
  if (!r) return r.error();
  out.resize(r->size());
  return out;
}

/// The signed content (docs/protocol.md §6, as RFC 8446 §4.4.3).
template <class Digest>
std::vector<std::uint8_t> signature_input(std::string_view context, const Digest& transcript_hash) {
  std::vector<std::uint8_t> out(64 + context.size() + 1 + transcript_hash.size(), 0x20);
  const auto at = std::copy(context.begin(), context.end(), out.begin() + 64);
  *at = 0;
  std::copy(transcript_hash.begin(), transcript_hash.end(), at + 1);
  return out;
}
// The contexts kept their v1 text (docs/protocol.md §10); the version byte in
// every header, and so in the transcript, separates the protocol versions.
inline constexpr std::string_view server_signature_context = "sepal v1 server signature";
inline constexpr std::string_view client_signature_context = "sepal v1 client signature";

/// True when `size` is an allowed `max_datagram_size` (docs/protocol.md §3.4).
[[nodiscard]] constexpr bool valid_datagram_size(std::size_t size) noexcept {
  return size >= min_datagram_size && size <= max_message_size;
}

/// The binding of a handshake: the first 8 bytes of its ClientHello.random.
[[nodiscard]] inline fragment_binding binding_of(std::span<const std::uint8_t> client_random) noexcept {
  fragment_binding b{};
  std::copy_n(client_random.begin(), b.size(), b.begin());
  return b;
}

/// The sum of the datagrams' sizes.
[[nodiscard]] inline std::size_t flight_bytes(std::span<const std::vector<std::uint8_t>> flight) noexcept {
  std::size_t n = 0;
  for (const auto& d : flight) n += d.size();
  return n;
}

/// True when `datagram` is `message` again: the whole message, or the
/// Fragment at offset 0 of it (docs/protocol.md §3.4: a message arrives
/// again when its first fragment does). Other fragments are not.
[[nodiscard]] inline bool is_message_again(std::span<const std::uint8_t> datagram, std::span<const std::uint8_t> message,
                                           std::uint8_t type, const fragment_binding& binding,
                                           std::uint16_t suite_id) noexcept {
  if (message.empty()) return false;
  if (std::ranges::equal(datagram, message)) return true;
  if (!is_fragment(datagram)) return false;
  const auto f = parse_fragment(datagram, suite_id);
  return f && f->message_type == type && f->binding == binding && f->offset == 0 &&
         f->message_length == message.size() && std::ranges::equal(f->data, message.first(f->data.size()));
}

/// The application secrets both sides derive after the server's Finished.
template <class Suite>
struct application_secrets {
  secret_bytes client, server, exporter;

  static application_secrets derive(handshake_secret<typename Suite::hash>&& hs,
                                    const typename transcript<typename Suite::hash>::digest& through_server_finished) {
    auto master = std::move(hs).next();
    return {master.client_traffic(through_server_finished), master.server_traffic(through_server_finished),
            master.exporter_master(through_server_finished)};
  }
};

}  // namespace detail

/// Client settings: how to authenticate the server (a pinned root public
/// key, an X.509 chain verifier, or both: the server's ServerAuth says which
/// it uses) and, for mutual authentication, the client's own signing key
/// (which must outlive the handshake) and, when the server asks for a
/// certificate, the key's chain.
///
/// Security: the config shares ownership of the client key (`share(std::move(key))`).
template <handshake_suite Suite>
struct client_config {
  std::optional<public_key<typename Suite::sig>> root{};      ///< pinned; never taken from the wire
  shared_private_key<typename Suite::sig> identity{};         ///< client key, for mutual authentication
  chain_verifier<typename Suite::sig> verify_server_chain{};  ///< X.509 server authentication
  der_chain certificate_chain{};                              ///< the client's chain (leaf first)
  /// The largest datagram the client sends (`min_datagram_size` to
  /// `max_message_size`): longer messages go as Fragments (docs/protocol.md §3.4).
  std::size_t max_datagram_size = default_max_datagram_size;
};

/// Server settings: its identity and, for mutual authentication, either a
/// verifier that decides which raw client keys may connect or an X.509
/// chain verifier for client certificates (neither: no client
/// authentication; the chain verifier wins when both are set).
template <handshake_suite Suite>
struct server_config {
  server_identity<Suite> identity;                                            ///< root, delegated or certified key
  std::function<bool(const public_key<typename Suite::sig>&)> allow_client{};  ///< raw-key client verifier
  chain_verifier<typename Suite::sig> verify_client_chain{};                  ///< certificate client verifier
  /// The largest datagram the server sends (`min_datagram_size` to
  /// `max_message_size`): longer messages go as Fragments (docs/protocol.md §3.4).
  std::size_t max_datagram_size = default_max_datagram_size;
};

/// A finished handshake's result on either side: the session and the
/// exporter (RFC 8446 §7.5).
template <handshake_suite Suite>
class established {
 public:
  using session_type = sepal::session<typename Suite::symmetric, session_packet_options>;  ///< the packet session

  /// The session for application packets.
  [[nodiscard]] session_type& session() noexcept { return m_session; }

  /// Keys for the application, bound to this handshake (RFC 8446 §7.5).
  [[nodiscard]] secret_bytes export_key(std::string_view label, std::span<const std::uint8_t> context,
                                        std::size_t length) const {
    return exporter<typename Suite::hash>(m_exporter.reveal(), label, context, length);
  }

  /// The authenticated client key (server side, mutual mode).
  [[nodiscard]] const std::optional<public_key<typename Suite::sig>>& client_identity() const noexcept {
    return m_client;
  }

  /// The certificate chain (DER, leaf first) exactly as the peer sent it,
  /// when it authenticated with one: the server's on the client side, the
  /// client's on the server side. Security: this is what was received, not
  /// the validated path (which the chain verifier built from it and the trust
  /// anchors); only the leaf is known to be the peer's.
  [[nodiscard]] const der_chain& peer_chain_as_received() const noexcept { return m_peer_chain; }

  /// Client side: the ClientFinished to send, and to send again when
  /// `is_server_hello_again` says the server repeated its ServerHello.
  [[nodiscard]] std::span<const std::uint8_t> client_finished() const noexcept { return m_last_flight; }
  /// Client side: the datagrams that carry the ClientFinished (itself, or
  /// its Fragments when it is longer than `client_config::max_datagram_size`,
  /// docs/protocol.md §3.4): send them all where `client_finished()` would be sent.
  [[nodiscard]] std::span<const std::vector<std::uint8_t>> client_finished_datagrams() const noexcept {
    return m_last_datagrams;
  }
  /// Client side: true when `datagram` is the ServerHello this handshake
  /// already processed (the server did not get ClientFinished): the whole
  /// message, or its Fragment at offset 0; other fragments of it are not.
  [[nodiscard]] bool is_server_hello_again(std::span<const std::uint8_t> datagram) const noexcept {
    return m_client_side &&
           detail::is_message_again(datagram, m_peer_flight, detail::server_hello_type, m_binding, Suite::id);
  }

  /// True once the handshake is confirmed (docs/protocol.md §7.2, as QUIC's
  /// handshake confirmation, RFC 9001 §4.1.2): on the server at once; on the
  /// client when a packet from the server has opened in `session()` (the
  /// server's handshake-done packet, or any other), which proves the server
  /// holds the session. Until then the client's session is provisional: it
  /// may send, but if ClientFinished never arrived the server drops it all.
  [[nodiscard]] bool confirmed() const noexcept { return !m_client_side || m_session.receiver().has_received(); }

  /// Client side, until `confirmed()`: call on the resend timer (every
  /// 200 ms in docs/protocol.md §7.2). Returns the ClientFinished to send
  /// again, or an empty span once confirmed (and always on the server).
  ///
  /// Errors: `timed_out` after `max_finished_resends` resends without
  /// confirmation: the handshake failed (the server never got ClientFinished,
  /// or gave up waiting for it); start a new one.
  [[nodiscard]] result<std::span<const std::uint8_t>> on_timer() noexcept {
    if (confirmed()) return std::span<const std::uint8_t>{};
    if (m_finished_resends == max_finished_resends) return errc::timed_out;
    ++m_finished_resends;
    return std::span<const std::uint8_t>(m_last_flight);
  }
  /// `on_timer`, for a caller that sends datagrams: the ClientFinished's
  /// datagrams to send again (all of them), or none once confirmed. Shares
  /// `on_timer`'s count. Errors: as `on_timer`.
  [[nodiscard]] result<std::span<const std::vector<std::uint8_t>>> on_timer_datagrams() noexcept {
    auto r = on_timer();
    if (!r) return r.error();
    if (r->empty()) return std::span<const std::vector<std::uint8_t>>{};
    return std::span<const std::vector<std::uint8_t>>(m_last_datagrams);
  }

  /// Resends of ClientFinished before the client gives up: 10, as the
  /// server's wait for it (10 ticks), so a client stops when a server that
  /// never saw ClientFinished has dropped the pending handshake.
  static constexpr unsigned max_finished_resends = 10;

  /// Server side: a handshake-done packet, an empty session packet that
  /// confirms the handshake to the client (docs/protocol.md §7.2). Send one
  /// when `server_handshake::receive` succeeds, and a fresh one for each
  /// ClientFinished the client sends again (`is_client_finished_again`). Each
  /// call seals a new packet (the next packet number), into a buffer of this
  /// object: the span is valid until the next call, move or destruction.
  /// After 1 + `max_finished_resends` of them (all a client can ask for),
  /// and on the client side, it returns an empty span: a replayed
  /// ClientFinished cannot draw more.
  ///
  /// Errors: as `session::seal`.
  [[nodiscard]] std::span<const std::uint8_t> handshake_done() {
    if (m_client_side || m_done_sent > max_finished_resends) return {};
    ++m_done_sent;
    return m_session.seal({}, {}, m_done_packet);
  }
  /// Server side: true when `message` is the ClientFinished this handshake
  /// verified (the client did not get the handshake-done packet yet).
  [[nodiscard]] bool is_client_finished_again(std::span<const std::uint8_t> message) const noexcept {
    return !m_client_side &&
           detail::is_message_again(message, m_peer_flight, detail::client_finished_type, m_binding, Suite::id);
  }

 private:
  template <handshake_suite>
  friend class client_handshake;
  template <handshake_suite>
  friend class server_handshake;

  established(secret_bytes send, secret_bytes receive, const connection_id& local, const connection_id& peer,
              secret_bytes exporter, std::vector<std::uint8_t> last_flight, std::vector<std::uint8_t> peer_flight,
              bool client_side)
      : m_session(std::move(send), std::move(receive), local, peer),
        m_exporter(std::move(exporter)),
        m_last_flight(std::move(last_flight)),
        m_peer_flight(std::move(peer_flight)),
        m_client_side(client_side) {}

  session_type m_session;
  secret_bytes m_exporter;
  std::vector<std::uint8_t> m_last_flight;
  std::vector<std::vector<std::uint8_t>> m_last_datagrams;
  std::vector<std::uint8_t> m_peer_flight;
  fragment_binding m_binding{};
  bool m_client_side;
  std::array<std::uint8_t, session_type::overhead> m_done_packet{};
  unsigned m_finished_resends = 0;
  unsigned m_done_sent = 0;
  std::optional<public_key<typename Suite::sig>> m_client;
  der_chain m_peer_chain;
};

/// The client side: `start` makes the ClientHello; `receive` takes the
/// ServerHello and, when it verifies, gives the established session and the
/// ClientFinished to send.
///
/// Errors (never throws on peer input): see docs/protocol.md §9. A message
/// that fails leaves the handshake waiting, so a spoofed datagram cannot end
/// it; the caller's timeout does.
template <handshake_suite Suite>
class client_handshake {
  using kex = typename Suite::kex;
  using sig = typename Suite::sig;
  using hash = typename Suite::hash;

 public:
  /// Starts a handshake to a server whose root key is `config.root`.
  ///
  /// Errors: throws `sepal::error(errc::invalid_argument)` when
  /// `config.max_datagram_size` is outside `min_datagram_size` to
  /// `max_message_size` (before any key is made).
  [[nodiscard]] static client_handshake start(const client_config<Suite>& config,
                                              Botan::RandomNumberGenerator& rng = system_rng()) {
    if (!detail::valid_datagram_size(config.max_datagram_size)) throw error(errc::invalid_argument);
    client_handshake c(config, key_share_client<kex>::generate(rng));
    c.m_random = random_bytes<32>(rng);
    c.m_connection_id = random_bytes<connection_id_size>(rng);
    c.m_reassembly = reassembly(Suite::id, detail::server_hello_type, detail::binding_of(c.m_random));
    c.build_hello({});
    return c;
  }

  /// The ClientHello: send it, and send it again on the caller's timer until
  /// `receive` succeeds. (A caller that sends datagrams of at most
  /// `client_config::max_datagram_size` sends `client_hello_datagrams()`.)
  [[nodiscard]] std::span<const std::uint8_t> client_hello() const noexcept { return m_hello; }

  /// The datagrams that carry the ClientHello: the ClientHello itself when
  /// it fits `client_config::max_datagram_size`, else its Fragments
  /// (docs/protocol.md §3.4). Send them all, and again on each tick of the
  /// resend timer (`on_timer`).
  [[nodiscard]] std::span<const std::vector<std::uint8_t>> client_hello_datagrams() const noexcept {
    return m_hello_datagrams;
  }

  /// The caller's resend timer fired before the handshake completed: the
  /// ClientHello's datagrams to send again. A ServerHello reassembly that
  /// is still incomplete at the `max_reassembly_ticks`-th tick since it
  /// started is discarded (the server resends its whole flight in answer).
  [[nodiscard]] std::span<const std::vector<std::uint8_t>> on_timer() noexcept {
    (void)m_reassembly.on_timer();
    return m_hello_datagrams;
  }

  /// Bytes of memory held for a ServerHello being reassembled (at most `max_message_size`).
  [[nodiscard]] std::size_t reassembly_memory() const noexcept { return m_reassembly.memory(); }

  /// Processes one datagram from the server: a ServerHello, a HelloRetry or
  /// a Fragment of a ServerHello (docs/protocol.md §3.4). Returns the
  /// established handshake when a whole ServerHello verified (as
  /// `receive`), or an empty optional when a fragment was kept and more
  /// are needed. A fragment changes nothing unless it carries this
  /// handshake's binding and agrees with the fragments kept before; a
  /// complete ServerHello that fails to verify is discarded, and the client
  /// waits for the server's resend, unchanged.
  ///
  /// Errors: as `receive`; for a fragment, those of `reassembly::add` (the
  /// fragment was dropped). Nothing expensive runs before the message is complete.
  [[nodiscard]] result<std::optional<established<Suite>>> on_datagram(std::span<const std::uint8_t> datagram,
                                                                      std::uint64_t now) noexcept {
    if (!m_ephemeral) return errc::already_finished;
    if (!is_fragment(datagram)) {
      auto r = receive(datagram, now);
      if (!r) return r.error();
      return std::optional<established<Suite>>(std::move(*r));
    }
    const auto st = m_reassembly.add(datagram);
    if (!st) return st.error();
    if (*st == reassembly::status::incomplete) return std::optional<established<Suite>>();
    auto r = receive(m_reassembly.message(), now);
    m_reassembly.reset();  // verified or not, this reassembly is over (docs/protocol.md §3.4)
    if (!r) return r.error();
    return std::optional<established<Suite>>(std::move(*r));
  }

  /// Processes a ServerHello. On success the handshake is established (this
  /// object is spent: further calls return `already_finished`); send
  /// `client_finished()` of the result. `now` is Unix seconds, for delegated
  /// credentials and certificates.
  ///
  /// Errors: `retry_requested` is not a failure: the server asked for address
  /// validation (docs/protocol.md §7), and `client_hello()` now carries its
  /// cookie: send it again. A HelloRetry whose tag does not match this
  /// handshake's ClientHello is ignored (`authentication_failed`), and at
  /// most `max_hello_retries` are followed.
  [[nodiscard]] result<established<Suite>> receive(std::span<const std::uint8_t> server_hello,
                                                   std::uint64_t now) noexcept {
    if (!m_ephemeral) return errc::already_finished;
    if (server_hello.size() > max_message_size) return errc::invalid_encoding;
    try {
      if (!server_hello.empty() && server_hello[0] == detail::hello_retry_type) return retry(server_hello);
      return process(server_hello, now);
    } catch (...) {
      return errc::internal_error;
    }
  }
  /// `receive` at the current time (as `server_handshake::receive`).
  [[nodiscard]] result<established<Suite>> receive(std::span<const std::uint8_t> server_hello) noexcept {
    return receive(server_hello, static_cast<std::uint64_t>(std::time(nullptr)));
  }

 private:
  client_handshake(const client_config<Suite>& config, key_share_client<kex> ephemeral)
      : m_root(config.root),
        m_identity(config.identity),
        m_verify_chain(config.verify_server_chain),
        m_chain(config.certificate_chain),
        m_max_datagram(config.max_datagram_size),
        m_ephemeral(std::move(ephemeral)) {}

  /// ClientHello (docs/protocol.md §3.1); the transcript starts from it.
  void build_hello(std::span<const std::uint8_t> cookie) {
    m_hello.clear();
    detail::wire_writer w(m_hello);
    detail::write_header<Suite>(w, detail::client_hello_type);
    w.bytes(m_random).bytes(m_connection_id).opaque16(m_ephemeral->share()).opaque16(cookie);
    const std::size_t pad = min_client_hello_size - std::min(min_client_hello_size, w.size() + 2);
    w.opaque16(std::vector<std::uint8_t>(pad, 0));
    m_transcript = transcript<hash>();
    m_transcript.update(m_hello);
    m_hello_datagrams = fragment_message(m_hello, detail::client_hello_type, detail::binding_of(m_random), Suite::id,
                                         m_max_datagram)
                            .value();  // at most 1834 bytes: 8 fragments even at min_datagram_size
    m_reassembly.reset();
  }

  /// HelloRetry: header, opaque cookie<2>, tag[16] (docs/protocol.md §7).
  /// Nothing changes unless the tag proves the message answers this
  /// handshake's ClientHello.
  result<established<Suite>> retry(std::span<const std::uint8_t> message) {
    detail::wire_reader r(message);
    if (auto h = detail::read_header<Suite>(r, detail::hello_retry_type); !h) return h.error();
    const auto cookie = r.opaque16();
    const auto before_tag = r.consumed();
    const auto tag = r.bytes(detail::retry_tag_size);
    if (!r.at_end() || cookie.empty() || cookie.size() > detail::max_cookie_size) return errc::invalid_encoding;
    if (!constant_time_equal(detail::retry_tag(m_random, before_tag), tag)) return errc::authentication_failed;
    if (m_retries == max_hello_retries) return errc::limit_reached;  // no loops
    ++m_retries;
    build_hello(cookie);
    return errc::retry_requested;
  }

  result<established<Suite>> process(std::span<const std::uint8_t> message, std::uint64_t now) {
    detail::wire_reader r(message);
    if (auto h = detail::read_header<Suite>(r, detail::server_hello_type); !h) return h.error();
    (void)r.bytes(32);  // server random: bound through the transcript
    const auto server_id = r.bytes(connection_id_size);
    const auto share = r.opaque16();
    const auto cleartext = r.consumed();
    const auto sealed = r.opaque16();
    if (!r.at_end()) return errc::invalid_encoding;
    connection_id peer{};
    std::copy(server_id.begin(), server_id.end(), peer.begin());

    auto ecdhe = m_ephemeral->finish(share);  // key_share.hpp: ECDH, or ML-KEM decapsulation and ECDH
    if (!ecdhe) return errc::invalid_key;
    auto t = m_transcript;
    t.update(cleartext);
    auto hs = early_secret<hash>::start().next(ecdhe->reveal());
    const auto hello_hash = t.current();
    const auto c_hs = hs.client_traffic(hello_hash);
    const auto s_hs = hs.server_traffic(hello_hash);

    auto plain = detail::open_flight<Suite>(s_hs.reveal(), cleartext, sealed);
    if (!plain) return errc::authentication_failed;
    detail::wire_reader p(*plain);
    const auto kind = p.u8();
    std::optional<delegated_credential<Suite>> dc;
    std::optional<std::vector<std::span<const std::uint8_t>>> chain;
    if (kind == detail::delegated_kind) {
      auto d = delegated_credential<Suite>::decode(p);
      if (!d) return d.error();
      dc = std::move(*d);
    } else if (kind == detail::certificate_kind) {
      chain = detail::read_chain(p);
      if (!chain) return errc::invalid_encoding;
    } else if (kind != detail::root_key_kind) {
      return errc::invalid_encoding;
    }
    const auto client_auth = p.u8();
    const auto through_auth = p.consumed().size();
    const auto signature = p.opaque16();
    const auto through_signature = p.consumed().size();
    const auto finished = p.bytes(hash::digest_size);
    if (!p.at_end() || client_auth > detail::certificate_auth) return errc::invalid_encoding;

    // The server's key: the pinned root, a key the pinned root delegated to
    // (docs/protocol.md §4), or the leaf of a chain the configured X.509
    // verifier accepts (§3.2). A kind this client is not set up for fails.
    std::optional<public_key<sig>> signer_key;
    if (chain) {
      if (!m_verify_chain) return errc::invalid_signature;
      auto leaf = m_verify_chain(*chain, now);
      if (!leaf) return errc::invalid_signature;
      signer_key = std::move(*leaf);
    } else {
      if (!m_root) return errc::invalid_signature;
      if (dc) {
        if (auto v = dc->verify(*m_root, now); !v) return v.error();
      }
      signer_key = dc ? dc->key() : *m_root;
    }
    const std::span<const std::uint8_t> pt(*plain);
    t.update(pt.first(through_auth));
    const auto h1 = t.current();
    if (!verify(*signer_key, detail::signature_input(detail::server_signature_context, h1), signature,
                signature_format::p1363))
      return errc::invalid_signature;
    t.update(pt.subspan(through_auth, through_signature - through_auth));
    if (!verify_finished<hash>(s_hs.reveal(), t.current(), finished)) return errc::authentication_failed;
    t.update(finished);
    auto app = detail::application_secrets<Suite>::derive(std::move(hs), t.current());

    // ClientAuth (docs/protocol.md §3.3): nothing, a raw key or a chain,
    // then a signature by that key.
    if (client_auth != detail::no_client_auth && !m_identity) return errc::missing_credential;  // nothing to prove with
    if (client_auth == detail::certificate_auth && m_chain.empty()) return errc::missing_credential;
    std::vector<std::uint8_t> auth;
    detail::wire_writer w(auth);
    w.u8(client_auth);
    if (client_auth != detail::no_client_auth) {
      if (client_auth == detail::raw_key_auth) w.opaque16(m_identity->public_key().to_raw());
      else detail::write_chain(w, m_chain);
      t.update(auth);
      const auto sig_bytes = sign(*m_identity, detail::signature_input(detail::client_signature_context, t.current()),
                                  signature_format::p1363);
      const auto before = auth.size();
      w.opaque16(sig_bytes);
      t.update(std::span(auth).subspan(before));
    } else {
      t.update(auth);
    }
    const auto fin = finished_mac<hash>(c_hs.reveal(), t.current());
    w.bytes(fin);

    std::vector<std::uint8_t> flight;
    detail::wire_writer f(flight);
    detail::write_header<Suite>(f, detail::client_finished_type);
    const std::vector<std::uint8_t> header(flight.begin(), flight.end());
    f.opaque16(detail::seal_flight<Suite>(c_hs.reveal(), header, auth));

    auto datagrams = fragment_message(flight, detail::client_finished_type, detail::binding_of(m_random), Suite::id,
                                      m_max_datagram);
    if (!datagrams) return datagrams.error();  // a client chain over what max_fragments can carry
    m_ephemeral.reset();  // spent: the ephemeral keys are wiped
    established<Suite> done(std::move(app.client), std::move(app.server), m_connection_id, peer,
                            std::move(app.exporter), std::move(flight),
                            std::vector<std::uint8_t>(message.begin(), message.end()), true);
    done.m_last_datagrams = std::move(*datagrams);
    done.m_binding = detail::binding_of(m_random);
    if (chain) done.m_peer_chain = detail::copy_chain(*chain);
    return done;
  }

  std::optional<public_key<sig>> m_root;
  shared_private_key<sig> m_identity;
  chain_verifier<sig> m_verify_chain;
  der_chain m_chain;
  std::size_t m_max_datagram;
  std::optional<key_share_client<kex>> m_ephemeral;
  std::array<std::uint8_t, 32> m_random{};
  connection_id m_connection_id{};
  transcript<hash> m_transcript;
  std::vector<std::uint8_t> m_hello;
  std::vector<std::vector<std::uint8_t>> m_hello_datagrams;
  reassembly m_reassembly{Suite::id, detail::server_hello_type};
  unsigned m_retries = 0;
};

/// The server's collection of one ClientHello from the datagrams of one
/// client address, before `server_handshake::accept` (and before an
/// `address_validator`, which also needs the whole ClientHello): the
/// ClientHello itself, or its Fragments (docs/protocol.md §3.4).
///
/// Security: this is all the state a server keeps before the ClientHello is
/// complete: at most `max_message_size` bytes, allocated when the first
/// fragment is accepted (`memory()`); the caller bounds how many it keeps
/// per address and in all (its pending limits), keyed by address and
/// `binding()`. Nothing expensive runs here: a complete ClientHello is
/// parsed (§3.1) and its random checked against the fragments' binding.
template <handshake_suite Suite>
class client_hello_collector {
 public:
  using status = reassembly::status;  ///< incomplete or complete

  /// Adds one datagram from the client's address (its bytes count toward
  /// `bytes_received()` whatever it is). After completion it only counts.
  ///
  /// Errors (the datagram changed nothing but the count): those of
  /// `reassembly::add` for a Fragment; `invalid_encoding` or
  /// `wrong_algorithm` for a ClientHello (or a reassembled one) that is not
  /// well-formed (§3.1); `authentication_failed` when a reassembled
  /// ClientHello's random does not start with the fragments' binding (the
  /// reassembly is then discarded).
  [[nodiscard]] result<status> add(std::span<const std::uint8_t> datagram) noexcept {
    m_received += datagram.size();
    if (m_complete) return status::complete;
    if (!is_fragment(datagram)) {
      const auto fields = detail::parse_client_hello<Suite>(datagram);
      if (!fields) return fields.error();
      try {
        m_whole.assign(datagram.begin(), datagram.end());
      } catch (...) {
        return errc::internal_error;
      }
      m_reassembly.reset();  // a whole ClientHello wins over fragments in progress
      m_complete = true;
      return status::complete;
    }
    const auto st = m_reassembly.add(datagram);
    if (!st || *st == status::incomplete) return st;
    const auto fields = detail::parse_client_hello<Suite>(m_reassembly.message());
    if (!fields || detail::binding_of(fields->random) != m_reassembly.binding()) {
      m_reassembly.reset();
      return fields ? errc::authentication_failed : fields.error();
    }
    m_complete = true;
    return status::complete;
  }

  /// True once a whole, well-formed ClientHello was collected.
  [[nodiscard]] bool complete() const noexcept { return m_complete; }
  /// The ClientHello (empty until `complete()`).
  [[nodiscard]] std::span<const std::uint8_t> message() const noexcept {
    if (!m_complete) return {};
    return m_whole.empty() ? m_reassembly.message() : std::span<const std::uint8_t>(m_whole);
  }
  /// The binding of the fragments accepted so far, if any were.
  [[nodiscard]] std::optional<fragment_binding> binding() const noexcept {
    if (!m_reassembly.started()) return std::nullopt;
    return m_reassembly.binding();
  }
  /// Bytes of every datagram given to `add`.
  [[nodiscard]] std::size_t bytes_received() const noexcept { return m_received; }
  /// Bytes of memory held (at most `max_message_size`).
  [[nodiscard]] std::size_t memory() const noexcept { return m_reassembly.memory() + m_whole.capacity(); }
  /// One tick of the server's resend timer: true when an incomplete
  /// ClientHello reached `max_reassembly_ticks` ticks and was discarded
  /// (drop this collector; the client resends its whole flight).
  bool on_timer() noexcept { return !m_complete && m_reassembly.on_timer(); }

 private:
  reassembly m_reassembly{Suite::id, detail::client_hello_type};
  std::vector<std::uint8_t> m_whole;
  std::size_t m_received = 0;
  bool m_complete = false;
};

/// The server side: `accept` answers a ClientHello with a ServerHello;
/// `receive` takes the ClientFinished and gives the established session.
///
/// Until the client's address is validated (a valid retry cookie, or the
/// ClientFinished) the handshake keeps RFC 9000 §8.1's budget: it never
/// sends more than `amplification_limit` times the bytes it was given from
/// that address, resends included. Send the ServerHello only as `accept`,
/// `on_datagram` and `on_timer` hand it out.
///
/// Errors (never throws on peer input): see docs/protocol.md §9.
template <handshake_suite Suite>
class server_handshake {
  using kex = typename Suite::kex;
  using sig = typename Suite::sig;
  using hash = typename Suite::hash;

 public:
  /// Answers `client_hello` from an address not validated yet: on success,
  /// send `server_hello()` once.
  [[nodiscard]] static result<server_handshake> accept(const server_config<Suite>& config,
                                                       std::span<const std::uint8_t> client_hello,
                                                       Botan::RandomNumberGenerator& rng = system_rng()) noexcept {
    return accept(config, client_hello, address_status::unvalidated, rng);
  }

  /// Answers `client_hello`; `address` says whether its sender proved its
  /// address (an `address_validator` accepted the cookie).
  [[nodiscard]] static result<server_handshake> accept(const server_config<Suite>& config,
                                                       std::span<const std::uint8_t> client_hello,
                                                       address_status address,
                                                       Botan::RandomNumberGenerator& rng = system_rng()) noexcept {
    return start(config, client_hello, client_hello.size(), address, nullptr, rng);
  }

  /// `accept` with the server's connection id for this session chosen by
  /// the caller (docs/protocol.md §3.2: for example to route by it; the
  /// other overloads draw it from `rng`). The caller keeps it unique among
  /// its sessions.
  [[nodiscard]] static result<server_handshake> accept(const server_config<Suite>& config,
                                                       std::span<const std::uint8_t> client_hello,
                                                       address_status address, const connection_id& local,
                                                       Botan::RandomNumberGenerator& rng = system_rng()) noexcept {
    return start(config, client_hello, client_hello.size(), address, &local, rng);
  }

  /// Answers the ClientHello `hello` collected (whole or from its
  /// Fragments, docs/protocol.md §3.4); every datagram the collector
  /// counted counts toward the budget. On success send `server_hello_datagrams()`.
  ///
  /// Errors: `invalid_argument` when `hello` is not complete, or
  /// `config.max_datagram_size` is outside `min_datagram_size` to
  /// `max_message_size`; otherwise as the other `accept`.
  [[nodiscard]] static result<server_handshake> accept(const server_config<Suite>& config,
                                                       const client_hello_collector<Suite>& hello,
                                                       address_status address,
                                                       Botan::RandomNumberGenerator& rng = system_rng()) noexcept {
    if (!hello.complete()) return errc::invalid_argument;
    return start(config, hello.message(), hello.bytes_received(), address, nullptr, rng);
  }

  /// `accept` of a collected ClientHello with the server's connection id
  /// chosen by the caller (as the other overload that takes one).
  [[nodiscard]] static result<server_handshake> accept(const server_config<Suite>& config,
                                                       const client_hello_collector<Suite>& hello,
                                                       address_status address, const connection_id& local,
                                                       Botan::RandomNumberGenerator& rng = system_rng()) noexcept {
    if (!hello.complete()) return errc::invalid_argument;
    return start(config, hello.message(), hello.bytes_received(), address, &local, rng);
  }

  /// The ServerHello, to send once after `accept` (as one message: a caller
  /// that sends datagrams sends `server_hello_datagrams()` instead).
  [[nodiscard]] std::span<const std::uint8_t> server_hello() const noexcept { return m_reply; }
  /// The datagrams that carry the ServerHello: itself when it fits
  /// `server_config::max_datagram_size`, else its Fragments (docs/protocol.md
  /// §3.4). Send them all, once, after `accept`.
  [[nodiscard]] std::span<const std::vector<std::uint8_t>> server_hello_datagrams() const noexcept {
    return m_flight;
  }
  /// True when `datagram` is the ClientHello this handshake answered: the
  /// whole message, or its Fragment at offset 0 (docs/protocol.md §3.4);
  /// other fragments of it are not.
  [[nodiscard]] bool is_client_hello_again(std::span<const std::uint8_t> datagram) const noexcept {
    return detail::is_message_again(datagram, m_hello, detail::client_hello_type, m_binding, Suite::id);
  }

  /// `on_datagram` for a caller that sends datagrams: the bytes count toward
  /// the budget, and when `datagram` is the ClientHello again (whole, or its
  /// Fragment at offset 0), all of the ServerHello's datagrams to send
  /// again, if the budget (for the whole flight: never half of it) and
  /// `max_server_hello_resends` allow. Nothing else is ever answered.
  [[nodiscard]] std::optional<std::span<const std::vector<std::uint8_t>>> on_datagram_flight(
      std::span<const std::uint8_t> datagram) noexcept {
    m_received += datagram.size();
    if (!is_client_hello_again(datagram)) return std::nullopt;
    return resend_flight();
  }

  /// `on_timer` for a caller that sends datagrams: the ServerHello's
  /// datagrams to send again (all or none), if the budget and
  /// `max_server_hello_resends` allow. Shares `on_timer`'s ticks; an
  /// incomplete ClientFinished reassembly is discarded at its
  /// `max_reassembly_ticks`-th tick (the client resends it whole).
  [[nodiscard]] std::optional<std::span<const std::vector<std::uint8_t>>> on_timer_flight() noexcept {
    if (m_spent || m_ticks == max_server_hello_resends) return std::nullopt;
    ++m_ticks;
    (void)m_finished.on_timer();
    return resend_flight();
  }

  /// Processes one datagram from the client's address that is its
  /// ClientFinished or a Fragment of it (docs/protocol.md §3.4); its bytes
  /// count toward the budget. Returns the established handshake when a
  /// whole ClientFinished verified (as `receive`), or an empty optional
  /// when a fragment was kept and more are needed. A complete
  /// ClientFinished that fails to verify is discarded; the handshake waits, unchanged.
  ///
  /// Errors: as `receive`; for a fragment, those of `reassembly::add` (the
  /// fragment was dropped).
  [[nodiscard]] result<std::optional<established<Suite>>> receive_datagram(std::span<const std::uint8_t> datagram,
                                                                           std::uint64_t now) noexcept {
    if (m_spent) return errc::already_finished;
    m_received += datagram.size();
    if (!is_fragment(datagram)) {
      auto r = receive(datagram, now);
      if (!r) return r.error();
      return std::optional<established<Suite>>(std::move(*r));
    }
    const auto st = m_finished.add(datagram);
    if (!st) return st.error();
    if (*st == reassembly::status::incomplete) return std::optional<established<Suite>>();
    auto r = receive(m_finished.message(), now);
    m_finished.reset();
    if (!r) return r.error();
    return std::optional<established<Suite>>(std::move(*r));
  }

  /// Bytes of memory held for a ClientFinished being reassembled.
  [[nodiscard]] std::size_t reassembly_memory() const noexcept { return m_finished.memory(); }

  /// A datagram from the client's address that is not its ClientFinished
  /// (the caller demultiplexes): its bytes count toward the budget, and
  /// when it is this handshake's ClientHello again (the ServerHello was
  /// lost), the ServerHello to send again, if the budget and
  /// `max_server_hello_resends` allow. Nothing else is ever answered.
  [[nodiscard]] std::optional<std::span<const std::uint8_t>> on_datagram(
      std::span<const std::uint8_t> datagram) noexcept {
    m_received += datagram.size();
    if (!is_client_hello_again(datagram)) return std::nullopt;
    return resend();
  }

  /// The caller's resend timer fired (the ClientFinished may have been
  /// lost): the ServerHello to send again, if the budget and
  /// `max_server_hello_resends` allow. Every call is one tick of the
  /// handshake's lifetime, whether or not it resends.
  [[nodiscard]] std::optional<std::span<const std::uint8_t>> on_timer() noexcept {
    if (m_spent || m_ticks == max_server_hello_resends) return std::nullopt;
    ++m_ticks;
    (void)m_finished.on_timer();
    return resend();
  }

  /// True once the handshake waited `max_server_hello_resends` timer ticks
  /// for its ClientFinished: drop it. (A handshake whose budget allows no
  /// resend keeps waiting until then: its ClientFinished may still come,
  /// and more bytes from the client raise the budget.)
  [[nodiscard]] bool exhausted() const noexcept { return m_ticks == max_server_hello_resends; }

  /// Bytes counted from the client's address (ClientHello, then `on_datagram`).
  [[nodiscard]] std::size_t bytes_received() const noexcept { return m_received; }
  /// Bytes handed out to send (the ServerHello and its resends: the
  /// flight's datagrams from `accept` and the `_flight` calls, the whole
  /// message from `on_datagram` and `on_timer`).
  [[nodiscard]] std::size_t bytes_sent() const noexcept { return m_sent; }

  /// Processes a ClientFinished. On success the handshake is established
  /// (this object is spent, its secrets wiped: further calls return
  /// `already_finished`). `now` is Unix seconds, for client certificates.
  [[nodiscard]] result<established<Suite>> receive(std::span<const std::uint8_t> client_finished,
                                                   std::uint64_t now) noexcept {
    if (m_spent) return errc::already_finished;
    if (client_finished.size() > max_message_size) return errc::invalid_encoding;
    try {
      auto r = process(client_finished, now);
      if (r) {
        m_spent = true;
        m_client_hs = secret_bytes();
        m_app = {};
      }
      return r;
    } catch (...) {
      return errc::internal_error;
    }
  }
  /// `receive` at the current time.
  [[nodiscard]] result<established<Suite>> receive(std::span<const std::uint8_t> client_finished) noexcept {
    return receive(client_finished, static_cast<std::uint64_t>(std::time(nullptr)));
  }

 private:
  server_handshake(const server_config<Suite>& config, transcript<hash> t, secret_bytes c_hs,
                   detail::application_secrets<Suite> app, std::uint8_t client_auth, std::vector<std::uint8_t> hello,
                   std::vector<std::uint8_t> reply)
      : m_allow(config.allow_client),
        m_verify_chain(config.verify_client_chain),
        m_transcript(std::move(t)),
        m_client_hs(std::move(c_hs)),
        m_app(std::move(app)),
        m_client_auth(client_auth),
        m_hello(std::move(hello)),
        m_reply(std::move(reply)),
        m_binding(detail::binding_of(std::span(m_hello).subspan(4, 8))),
        m_finished(Suite::id, detail::client_finished_type, m_binding) {}

  static result<server_handshake> start(const server_config<Suite>& config, std::span<const std::uint8_t> client_hello,
                                        std::size_t received, address_status address, const connection_id* local,
                                        Botan::RandomNumberGenerator& rng) noexcept {
    try {
      if (!detail::valid_datagram_size(config.max_datagram_size)) return errc::invalid_argument;
      const bool validated = address == address_status::validated;
      auto h = answer(config, client_hello, received, validated, local, rng);
      if (h) {
        h->m_validated = validated;
        h->m_received = received;
        h->m_sent = detail::flight_bytes(h->m_flight);
      }
      return h;
    } catch (...) {
      return errc::internal_error;
    }
  }

  [[nodiscard]] bool within_budget(std::size_t more) const noexcept {
    return m_validated || m_sent + more <= amplification_limit * m_received;
  }

  std::optional<std::span<const std::uint8_t>> resend() noexcept {
    if (m_spent || m_resends == max_server_hello_resends || !within_budget(m_reply.size())) return std::nullopt;
    ++m_resends;
    m_sent += m_reply.size();
    return std::span<const std::uint8_t>(m_reply);
  }

  /// All of the flight or nothing (RFC 9000 §8.1 counts every datagram).
  std::optional<std::span<const std::vector<std::uint8_t>>> resend_flight() noexcept {
    const auto bytes = detail::flight_bytes(m_flight);
    if (m_spent || m_resends == max_server_hello_resends || !within_budget(bytes)) return std::nullopt;
    ++m_resends;
    m_sent += bytes;
    return std::span<const std::vector<std::uint8_t>>(m_flight);
  }

  static result<server_handshake> answer(const server_config<Suite>& config, std::span<const std::uint8_t> hello,
                                         std::size_t received, bool validated, const connection_id* local,
                                         Botan::RandomNumberGenerator& rng) {
    // The client random is bound through the transcript; the cookie was
    // checked by an address_validator, if the server uses one.
    if (!config.identity.has_key()) return errc::moved_from;  // a moved-from config
    const auto fields = detail::parse_client_hello<Suite>(hello);
    if (!fields) return fields.error();
    const auto share = fields->share;

    // The server's share and the shared secret (key_share.hpp): a fresh
    // ECDH key, or for a hybrid an encapsulation to the client's ML-KEM key
    // next to a fresh ECDH key.
    auto ecdhe = respond_to_key_share<kex>(share, rng);
    if (!ecdhe) return ecdhe.error() == errc::rng_failure ? errc::rng_failure : errc::invalid_key;

    transcript<hash> t;
    t.update(hello);
    std::vector<std::uint8_t> reply;
    detail::wire_writer w(reply);
    detail::write_header<Suite>(w, detail::server_hello_type);
    w.bytes(random_bytes<32>(rng));
    const connection_id server_id = local ? *local : random_bytes<connection_id_size>(rng);
    w.bytes(server_id).opaque16(ecdhe->share);
    const std::vector<std::uint8_t> cleartext = reply;
    t.update(cleartext);
    auto hs = early_secret<hash>::start().next(ecdhe->shared_secret.reveal());
    const auto hello_hash = t.current();
    auto c_hs = hs.client_traffic(hello_hash);
    const auto s_hs = hs.server_traffic(hello_hash);

    // ServerAuth (docs/protocol.md §3.2, §6).
    const std::uint8_t client_auth = config.verify_client_chain ? detail::certificate_auth
                                     : config.allow_client      ? detail::raw_key_auth
                                                                : detail::no_client_auth;
    std::vector<std::uint8_t> auth;
    detail::wire_writer a(auth);
    if (!config.identity.chain().empty()) {
      a.u8(detail::certificate_kind);
      detail::write_chain(a, config.identity.chain());
    } else if (config.identity.credential()) {
      a.u8(detail::delegated_kind);
      config.identity.credential()->encode(a);
    } else {
      a.u8(detail::root_key_kind);
    }
    a.u8(client_auth);
    t.update(auth);
    const auto signature = sign(config.identity.key(),
                                detail::signature_input(detail::server_signature_context, t.current()),
                                signature_format::p1363, rng);
    std::size_t before = auth.size();
    a.opaque16(signature);
    t.update(std::span(auth).subspan(before));
    const auto fin = finished_mac<hash>(s_hs.reveal(), t.current());
    a.bytes(fin);
    t.update(fin);
    auto app = detail::application_secrets<Suite>::derive(std::move(hs), t.current());

    w.opaque16(detail::seal_flight<Suite>(s_hs.reveal(), cleartext, auth));
    if (reply.size() > max_message_size) return errc::limit_reached;  // configure a shorter chain
    auto flight = fragment_message(reply, detail::server_hello_type, detail::binding_of(fields->random), Suite::id,
                                   config.max_datagram_size);
    if (!flight) return flight.error();  // more than max_fragments at this datagram size
    // Anti-amplification (docs/protocol.md §3.1): every datagram of the
    // flight against every datagram of the ClientHello. A longer chain
    // needs a validated address (stateless retry, §7).
    if (!validated && detail::flight_bytes(*flight) > amplification_limit * received) return errc::limit_reached;
    server_handshake h(config, std::move(t), std::move(c_hs), std::move(app), client_auth,
                       std::vector<std::uint8_t>(hello.begin(), hello.end()), std::move(reply));
    h.m_flight = std::move(*flight);
    h.m_local_id = server_id;
    std::copy(fields->connection_id.begin(), fields->connection_id.end(), h.m_client_id.begin());
    return h;
  }

  result<established<Suite>> process(std::span<const std::uint8_t> message, std::uint64_t now) {
    detail::wire_reader r(message);
    if (auto h = detail::read_header<Suite>(r, detail::client_finished_type); !h) return h.error();
    const auto header = r.consumed();
    const auto sealed = r.opaque16();
    if (!r.at_end()) return errc::invalid_encoding;
    auto plain = detail::open_flight<Suite>(m_client_hs.reveal(), header, sealed);
    if (!plain) return errc::authentication_failed;

    auto t = m_transcript;
    const std::span<const std::uint8_t> pt(*plain);
    detail::wire_reader p(pt);
    const auto has_identity = p.u8();
    if (!p.ok() || has_identity != m_client_auth) return errc::invalid_encoding;
    std::optional<public_key<sig>> client;
    std::optional<std::vector<std::span<const std::uint8_t>>> chain;
    if (has_identity != detail::no_client_auth) {
      std::optional<public_key<sig>> key;
      if (has_identity == detail::raw_key_auth) {
        auto k = public_key<sig>::from_raw(p.opaque16());
        if (!p.ok()) return errc::invalid_encoding;
        if (!k) return errc::invalid_key;
        key = std::move(*k);
      } else {
        chain = detail::read_chain(p);
        if (!chain) return errc::invalid_encoding;
      }
      const auto through_key = p.consumed().size();
      const auto signature = p.opaque16();
      if (!p.ok()) return errc::invalid_encoding;
      if (chain) {  // the signing key is the leaf's, once the chain verifies
        auto leaf = m_verify_chain(*chain, now);
        if (!leaf) return errc::unknown_identity;  // not an allowed client
        key = std::move(*leaf);
      }
      t.update(pt.first(through_key));
      if (!verify(*key, detail::signature_input(detail::client_signature_context, t.current()), signature,
                  signature_format::p1363))
        return errc::invalid_signature;
      if (!chain && !m_allow(*key)) return errc::unknown_identity;  // not an allowed client
      t.update(pt.subspan(through_key, p.consumed().size() - through_key));
      client = std::move(*key);
    } else {
      t.update(pt.first(1));
    }
    const auto finished = p.bytes(hash::digest_size);
    if (!p.at_end()) return errc::invalid_encoding;
    if (!verify_finished<hash>(m_client_hs.reveal(), t.current(), finished)) return errc::authentication_failed;

    established<Suite> done(std::move(m_app.server), std::move(m_app.client), m_local_id, m_client_id,
                            std::move(m_app.exporter), {},
                            std::vector<std::uint8_t>(message.begin(), message.end()), false);
    done.m_binding = m_binding;
    done.m_client = std::move(client);
    if (chain) done.m_peer_chain = detail::copy_chain(*chain);
    return done;
  }

  std::function<bool(const public_key<sig>&)> m_allow;
  chain_verifier<sig> m_verify_chain;
  transcript<hash> m_transcript;
  secret_bytes m_client_hs;
  detail::application_secrets<Suite> m_app;
  std::uint8_t m_client_auth;
  bool m_spent = false;
  bool m_validated = false;
  unsigned m_resends = 0;
  unsigned m_ticks = 0;
  std::size_t m_received = 0;
  std::size_t m_sent = 0;
  std::vector<std::uint8_t> m_hello;
  std::vector<std::uint8_t> m_reply;
  std::vector<std::vector<std::uint8_t>> m_flight;
  fragment_binding m_binding;
  reassembly m_finished;
  connection_id m_local_id{};   ///< the server's, in its ServerHello
  connection_id m_client_id{};  ///< the client's, from its ClientHello
};

}  // namespace sepal::handshake

#endif
