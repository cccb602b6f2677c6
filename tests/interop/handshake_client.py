#!/usr/bin/env python3
"""An independent client for the sepal handshake, written from
docs/protocol.md and README's packet wire format with Python's `cryptography`
(and the standard library) only. It starts sepal's C++ udp_echo_server with a
root key it generates itself, completes a handshake over UDP on 127.0.0.1,
and sends encrypted packets that must come back echoed; once more with
datagrams of at most 512 bytes, so its ClientHello goes as Fragments
(protocol.md §3.4). Then, against sepal's net::udp_server (the interop
tool's handshake-echo-server), it moves to a new port mid-session, as after a
NAT rebinding, answers the server's path challenge and gets its echoes at
the new address (protocol.md §7.3). If this passes, the written spec is
complete.

usage: handshake_client.py UDP_ECHO_SERVER_BINARY INTEROP_TOOL
Exits 77 (meson's skip) when `cryptography` is missing.
"""
import hashlib
import hmac
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:
    print("Python cryptography module not found (Debian: python3-cryptography): skipping")
    sys.exit(77)

SUITE_ID = 0x1121  # P-256 ECDH, ECDSA-P256-SHA256, AES-256-GCM, SHA-256 (protocol.md §2)
VERSION = 5  # protocol.md §10
CID_LEN = 8  # connection ids (protocol.md §3.1, §7.1)
SESSION_MIN = 1 + CID_LEN + 4 + 16  # a session packet: header and tag (protocol.md §7)
HASH_LEN = 32


# ---- RFC 8446 §7.1 key schedule (protocol.md §5) ----------------------------

def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def expand_label(secret: bytes, label: str, context: bytes, length: int) -> bytes:
    full = b"tls13 " + label.encode()
    info = struct.pack(">H", length) + bytes([len(full)]) + full + bytes([len(context)]) + context
    return hkdf_expand(secret, info, length)


def derive_secret(secret: bytes, label: str, transcript_hash: bytes) -> bytes:
    return expand_label(secret, label, transcript_hash, HASH_LEN)


EMPTY_HASH = hashlib.sha256(b"").digest()


def handshake_keys(secret: bytes):
    return AESGCM(expand_label(secret, "key", b"", 32)), expand_label(secret, "iv", b"", 12)


def finished(base_key: bytes, transcript_hash: bytes) -> bytes:
    return hmac.new(expand_label(base_key, "finished", b"", HASH_LEN), transcript_hash, hashlib.sha256).digest()


# ---- wire helpers ------------------------------------------------------------

def opaque16(b: bytes) -> bytes:
    return struct.pack(">H", len(b)) + b


class Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u64(self) -> int:
        return struct.unpack(">Q", self.take(8))[0]

    def opaque16(self) -> bytes:
        return self.take(self.u16())


def header(msg_type: int) -> bytes:
    return bytes([msg_type, VERSION]) + struct.pack(">H", SUITE_ID)


def p1363_to_der(sig: bytes) -> bytes:
    half = len(sig) // 2
    return encode_dss_signature(int.from_bytes(sig[:half], "big"), int.from_bytes(sig[half:], "big"))


def signature_input(context: str, transcript_hash: bytes) -> bytes:
    return b"\x20" * 64 + context.encode() + b"\x00" + transcript_hash


# ---- Fragments (protocol.md §3.4) --------------------------------------------

FRAGMENT = 5
FRAGMENT_HEADER = 19  # header 4, message_type 1, binding 8, message_length 2, fragment_offset 2, data length 2
MAX_MESSAGE, MAX_FRAGMENTS = 16384, 32


def fragments(message: bytes, msg_type: int, binding: bytes, limit: int, suite_header: bytes) -> list:
    """The datagrams that carry `message` at `limit` bytes each: itself when
    it fits, else Fragments filled to the limit, in order."""
    if len(message) <= limit:
        return [message]
    chunk = limit - FRAGMENT_HEADER
    out = [suite_header + bytes([msg_type]) + binding + struct.pack(">HH", len(message), at)
           + opaque16(message[at:at + chunk]) for at in range(0, len(message), chunk)]
    assert len(out) <= MAX_FRAGMENTS
    return out


class Reassembly:
    """One message from its Fragments (protocol.md §3.4): `add` returns the
    whole message once complete, None while incomplete, and raises
    ValueError for a fragment it drops (nothing changes then)."""

    def __init__(self, suite_header: bytes, msg_type: int, binding: bytes):
        self.suite_header, self.msg_type, self.binding = suite_header, msg_type, binding
        self.last_fragments = 0  # how many fragments the last completed message took
        self.reset()

    def reset(self):
        self.buf, self.have, self.count = None, None, 0

    def add(self, datagram: bytes):
        r = Reader(datagram)
        if r.take(4) != self.suite_header:
            raise ValueError("not a Fragment of this version and suite")
        msg_type, binding, length, offset = r.u8(), r.take(8), r.u16(), r.u16()
        data = r.opaque16()
        if r.pos != len(datagram) or not data or offset + len(data) > length or length > MAX_MESSAGE:
            raise ValueError("malformed Fragment")
        if msg_type != self.msg_type or binding != self.binding:
            raise ValueError("another message or handshake")
        if self.buf is None:
            self.buf, self.have = bytearray(length), bytearray(length)
        if length != len(self.buf):
            raise ValueError("message_length differs")
        span = range(offset, offset + len(data))
        if any(self.have[i] and self.buf[i] != data[i - offset] for i in span):
            raise ValueError("overlap differs")
        if all(self.have[i] for i in span):
            return None  # a duplicate
        if self.count == MAX_FRAGMENTS:
            raise ValueError("too many fragments")
        self.count += 1
        self.buf[offset:offset + len(data)] = data
        for i in span:
            self.have[i] = 1
        if all(self.have):
            whole = bytes(self.buf)
            self.last_fragments = self.count
            self.reset()
            return whole
        return None


def is_first_fragment_of(datagram: bytes, msg_type: int) -> bool:
    """A Fragment at offset 0 of a message of `msg_type` (the message "again", §3.4)."""
    return len(datagram) > FRAGMENT_HEADER and datagram[0] == FRAGMENT and datagram[4] == msg_type \
        and datagram[15:17] == b"\x00\x00"


def next_message(sock, server, reassembly: Reassembly, seconds: float):
    """The next whole handshake message from `server` within `seconds`: a
    datagram that is not a Fragment, or a message the Fragments completed;
    None on timeout. Dropped fragments and foreign datagrams are skipped."""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                d, source = sock.recvfrom(65536)
            except socket.timeout:
                return None
            if source != server or not d:
                continue
            if d[0] != FRAGMENT:
                return d
            try:
                whole = reassembly.add(d)
            except ValueError:
                continue
            if whole is not None:
                return whole
        return None
    finally:
        sock.settimeout(0.5)


def send_all(sock, server, datagrams):
    for d in datagrams:
        sock.sendto(d, server)


# ---- the handshake (protocol.md §3, §6) -------------------------------------

def client_hello(random: bytes, cid: bytes, share: bytes, cookie: bytes) -> bytes:
    hello = header(1) + random + cid + opaque16(share) + opaque16(cookie)
    return hello + opaque16(bytes(max(0, 1200 - len(hello) - 2)))  # at least 1200 bytes (protocol.md §3.1)


def retry_cookie(message: bytes, random: bytes) -> bytes:
    """A HelloRetry's cookie, after checking its tag (protocol.md §7)."""
    r = Reader(message)
    assert r.take(4) == header(4), "HelloRetry header (version, suite)"
    cookie = r.opaque16()
    tag = r.take(16)
    assert r.pos == len(message) and 0 < len(cookie) <= 64
    expected = hmac.new(random, b"sepal v2 hello retry" + message[:-16], hashlib.sha256).digest()[:16]
    assert hmac.compare_digest(tag, expected), "HelloRetry tag"
    return cookie


def client_handshake(sock, server, root_public, expect_retry=False, limit=1200):
    eph = ec.generate_private_key(ec.SECP256R1())
    share = eph.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    random = os.urandom(32)
    cid = os.urandom(CID_LEN)  # our connection id: the server's packets to us carry it
    hello = client_hello(random, cid, share, b"")  # no cookie
    retried = False
    reassembly = Reassembly(header(FRAGMENT), 2, random[:8])  # a ServerHello bound to our random
    datagrams = fragments(hello, 1, random[:8], limit, header(FRAGMENT))
    for _ in range(10):  # resend on a timer until a ServerHello arrives
        send_all(sock, server, datagrams)
        reply = next_message(sock, server, reassembly, 0.5)
        if reply is None:
            continue
        if reply[0] == 4 and not retried:  # HelloRetry: the same hello again, with the cookie
            hello = client_hello(random, cid, share, retry_cookie(reply, random))
            datagrams = fragments(hello, 1, random[:8], limit, header(FRAGMENT))
            retried = True
            continue
        break
    else:
        raise SystemExit("no ServerHello")
    client_handshake.hello_datagrams = len(datagrams)
    assert retried == expect_retry, "HelloRetry expected" if expect_retry else "unexpected HelloRetry"
    transcript = hashlib.sha256(hello)  # the transcript starts from the ClientHello that was answered

    r = Reader(reply)
    assert r.take(4) == header(2), "ServerHello header (version, suite)"
    r.take(32)  # server random
    server_cid = r.take(CID_LEN)  # what our packets to the server carry
    server_share = r.opaque16()
    cleartext = reply[:r.pos]
    sealed = r.opaque16()
    assert r.pos == len(reply)

    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), server_share)
    ecdhe = eph.exchange(ec.ECDH(), peer)
    transcript.update(cleartext)
    early = hkdf_extract(bytes(HASH_LEN), bytes(HASH_LEN))
    hs = hkdf_extract(derive_secret(early, "derived", EMPTY_HASH), ecdhe)
    hello_hash = transcript.digest()
    c_hs = derive_secret(hs, "c hs traffic", hello_hash)
    s_hs = derive_secret(hs, "s hs traffic", hello_hash)

    aead, iv = handshake_keys(s_hs)
    auth = aead.decrypt(iv, sealed, cleartext)
    p = Reader(auth)
    kind = p.u8()
    assert kind == 0, "this test's server signs with the root key"
    client_auth = p.u8()
    assert client_auth == 0
    transcript.update(auth[:p.pos])
    h1 = transcript.digest()
    before_sig = p.pos
    signature = p.opaque16()
    root_public.verify(p1363_to_der(signature), signature_input("sepal v1 server signature", h1),
                       ec.ECDSA(hashes.SHA256()))  # raises InvalidSignature
    transcript.update(auth[before_sig:p.pos])
    server_finished = p.take(HASH_LEN)
    assert p.pos == len(auth)
    assert hmac.compare_digest(server_finished, finished(s_hs, transcript.digest())), "server Finished"
    transcript.update(server_finished)

    master = hkdf_extract(derive_secret(hs, "derived", EMPTY_HASH), bytes(HASH_LEN))
    full = transcript.digest()
    c_ap = derive_secret(master, "c ap traffic", full)
    s_ap = derive_secret(master, "s ap traffic", full)

    client_auth_msg = b"\x00"
    transcript.update(client_auth_msg)
    client_auth_msg += finished(c_hs, transcript.digest())
    aead, iv = handshake_keys(c_hs)
    cf_header = header(3)
    client_finished = cf_header + opaque16(aead.encrypt(iv, client_auth_msg, cf_header))
    sock.sendto(client_finished, server)
    return c_ap, s_ap, client_finished, cid, server_cid


def await_confirmation(sock, server, receive, client_finished):
    """protocol.md §7.2: the session is provisional until a server packet opens
    (the handshake-done packet: an empty session packet); resend ClientFinished
    on each 200 ms tick, at most 10 times."""
    resends, next_resend = 0, time.monotonic() + 0.2
    try:
        while True:
            now = time.monotonic()
            if now >= next_resend:  # the timer runs on the clock: other datagrams cannot hold it back
                if resends == 10:
                    raise SystemExit("handshake not confirmed: no handshake-done packet (timed_out)")
                sock.sendto(client_finished, server)
                resends, next_resend = resends + 1, now + 0.2
            sock.settimeout(max(next_resend - now, 0.001))
            try:
                reply, source = sock.recvfrom(65536)
            except socket.timeout:
                continue
            if source != server:
                continue
            if reply[0] & 0x40 and len(reply) >= SESSION_MIN:
                opened = receive.open(reply)
                if opened is None:
                    continue
                assert opened[0] == b"", "the handshake-done packet carries no payload"
                return
            if reply[0] == 2 or is_first_fragment_of(reply, 2):  # the ServerHello again (§3.4, §7)
                sock.sendto(client_finished, server)
    finally:
        sock.settimeout(0.5)


# ---- sessions (README "Wire format of a sealed packet") ----------------------

class Direction:
    """One direction of a session; `cid` is the connection id its packets
    carry: the server's when sending, ours when receiving (protocol.md §7.1)."""

    def __init__(self, secret: bytes, cid: bytes):
        self.secret = secret
        self.cid = cid
        self.hp = expand_label(secret, "sepal hp", b"", 32)  # not updated
        self.phase = 0
        self.pn = 0
        self.install(secret)

    def install(self, secret: bytes):
        self.aead, self.iv = self.keys(secret)

    @staticmethod
    def keys(secret: bytes):
        return AESGCM(expand_label(secret, "sepal key", b"", 32)), expand_label(secret, "sepal iv", b"", 12)

    def update(self):
        """Key update (protocol.md §7.1): the next generation's secret is "sepal ku"."""
        self.secret = expand_label(self.secret, "sepal ku", b"", 32)
        self.install(self.secret)
        self.phase ^= 1

    def nonce(self, pn: int) -> bytes:
        return bytes(a ^ b for a, b in zip(self.iv, bytes(4) + pn.to_bytes(8, "big")))

    def mask(self, sample: bytes) -> bytes:
        enc = Cipher(algorithms.AES(self.hp), modes.ECB()).encryptor()
        return (enc.update(sample) + enc.finalize())[:5]

    def seal(self, payload: bytes, ack_phase: int, control: bool = False) -> bytes:
        # flags 0 1 0 A C K 1 1: A = our receive phase, C = a control packet (§7.3),
        # K = our send phase (protocol.md §7.1); then the receiver's connection id
        pn = (self.pn & 0xFFFFFFFF).to_bytes(4, "big")
        hdr = bytes([0x43 | ack_phase << 4 | int(control) << 3 | self.phase << 2]) + self.cid + pn
        body = self.aead.encrypt(self.nonce(self.pn), payload, hdr)
        self.pn += 1
        m = self.mask(body[:16])  # the sample: right after the header
        protected = bytes([hdr[0] ^ (m[0] & 0x1F)]) + self.cid + bytes(a ^ b for a, b in zip(pn, m[1:5]))
        return protected + body

    def open(self, packet: bytes):
        """Returns (payload, the sender's A bit, whether it is a control
        packet), or None when it does not authenticate; follows the sender's
        key update only once a packet of the new phase authenticates
        (protocol.md §7.1 rule 1). Packets from before an update are not kept
        for (this test never reorders)."""
        at = 1 + CID_LEN  # the packet number
        if len(packet) < SESSION_MIN or packet[1:at] != self.cid:
            return None
        m = self.mask(packet[at + 4:at + 20])
        first = packet[0] ^ (m[0] & 0x1F)
        pn_bytes = bytes(a ^ b for a, b in zip(packet[at:at + 4], m[1:5]))
        if not (first & 0x40 and first & 0x03 == 3):
            return None
        pn = int.from_bytes(pn_bytes, "big")  # small numbers here: no 32-bit wrap to undo
        rotate = (first >> 2 & 1) != self.phase
        secret = expand_label(self.secret, "sepal ku", b"", 32) if rotate else self.secret
        aead, iv = self.keys(secret) if rotate else (self.aead, self.iv)
        try:
            payload = aead.decrypt(bytes(a ^ b for a, b in zip(iv, bytes(4) + pn.to_bytes(8, "big"))),
                                   packet[at + 4:], bytes([first]) + self.cid + pn_bytes)
        except Exception:
            return None
        if rotate:
            self.update()
        return payload, first >> 4 & 1, bool(first & 0x08)


def echo(sock, server, send, receive, msg: bytes):
    """Sends msg until its echo comes back (at most 10 times, 0.5 s each);
    returns (payload, A bit, control). Empty payloads (handshake-done,
    acknowledgments) and anything that does not open or is not the echo are
    skipped; a path challenge is answered (protocol.md §7.3), and the count
    of answers kept in echo.challenges."""
    for _ in range(10):
        sock.sendto(send.seal(msg, receive.phase), server)
        deadline = time.monotonic() + 0.5
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                reply, source = sock.recvfrom(65536)
            except socket.timeout:
                break
            if source != server or not (reply[0] & 0x40 and len(reply) >= SESSION_MIN):  # a session packet (§7)
                continue
            opened = receive.open(reply)
            if opened and opened[2]:
                frame = opened[0]
                if len(frame) == 9 and frame[0] == 1:  # path_challenge: the same 8 bytes back, as path_response
                    sock.sendto(send.seal(b"\x02" + frame[1:], receive.phase, control=True), server)
                    echo.challenges += 1
                    sock.sendto(send.seal(msg, receive.phase), server)  # and the message again, now from a valid path
                continue
            if opened and opened[0] == msg:
                return opened
    raise SystemExit("no echo")


echo.challenges = 0


def new_root_key(d: str):
    """A fresh P-256 root key, and the PEM file in `d` the server loads it from."""
    root = ec.generate_private_key(ec.SECP256R1())
    key_path = os.path.join(d, "root.key.pem")
    with open(key_path, "wb") as f:
        f.write(root.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    return root, key_path


def start_net_server(tool: str, suite: str, key_path: str, d: str):
    """The interop tool's handshake-echo-server (net::udp_server) for `suite`:
    the process, and its address once it has written its port."""
    portfile = os.path.join(d, "port")
    proc = subprocess.Popen([tool, "handshake-echo-server", suite, key_path, portfile, "1000"],
                            stderr=subprocess.PIPE, text=True)
    for _ in range(200):
        if os.path.exists(portfile) and open(portfile).read().strip():
            break
        time.sleep(0.05)
    return proc, ("127.0.0.1", int(open(portfile).read()))


def run(server_binary: str, retry: bool, limit: int = 1200):
    with tempfile.TemporaryDirectory() as d:
        root, key_path = new_root_key(d)
        args = [server_binary, key_path, "0", "20", f"--max-datagram={limit}"] + (["--retry"] if retry else [])
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            port = int(line.rsplit(":", 1)[1])
            server = ("127.0.0.1", port)
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.settimeout(0.5)
            c_ap, s_ap, client_finished, cid, server_cid = client_handshake(sock, server, root.public_key(), retry,
                                                                            limit)
            print("ok   handshake with sepal's C++ server (server signature and Finished verified)"
                  + (", after a HelloRetry whose tag this implementation checked" if retry else "")
                  + (f", the ClientHello in {client_handshake.hello_datagrams} Fragments of at most {limit} bytes"
                     if client_handshake.hello_datagrams > 1 else ""))
            if limit < 1200:
                assert client_handshake.hello_datagrams > 1, "the ClientHello should have been fragmented"
            send, receive = Direction(c_ap, server_cid), Direction(s_ap, cid)
            await_confirmation(sock, server, receive, client_finished)
            print("ok   the server's handshake-done packet confirmed the handshake (protocol.md §7.2)")
            for i in range(10):
                if i == 5:
                    send.update()  # our key update; the server must mirror it and acknowledge (§7.1)
                msg = f"independent echo {i}".encode()
                payload, ack, _ = echo(sock, server, send, receive, msg)
                expected = 1 if i >= 5 else 0
                assert receive.phase == expected, "the server did not mirror the key update"
                assert ack == expected, "the server's A bit does not acknowledge our generation"
            print("ok   10 encrypted packets echoed, sealed and opened by this implementation; "
                  "a key update after 5 was mirrored and acknowledged by the server (protocol.md §7.1)")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def run_migration(tool: str):
    """Against net::udp_server: key updates, then a move to a new port (a NAT
    rebinding: the same session from another address). The server must
    challenge the new address, move the session once this client answers,
    and echo there (protocol.md §7.3)."""
    with tempfile.TemporaryDirectory() as d:
        root, key_path = new_root_key(d)
        proc, server = start_net_server(tool, "1121", key_path, d)
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.settimeout(0.5)
            c_ap, s_ap, client_finished, cid, server_cid = client_handshake(sock, server, root.public_key())
            send, receive = Direction(c_ap, server_cid), Direction(s_ap, cid)
            await_confirmation(sock, server, receive, client_finished)
            for i in range(6):
                if i == 3:
                    send.update()  # mirrored by the server (§7.1)
                echo(sock, server, send, receive, f"before the move {i}".encode())
            assert receive.phase == 1, "the server did not mirror the key update"
            echo.challenges = 0
            moved = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a new port: the NAT rebound
            moved.settimeout(0.5)
            moved.bind(("127.0.0.1", 0))
            assert moved.getsockname() != sock.getsockname()
            sock.close()
            echo(moved, server, send, receive, b"after the move")
            assert echo.challenges >= 1, "the server did not challenge the new address"
            for i in range(6):
                if i == 3:
                    send.update()  # and a key update after the move (generation 2)
                echo(moved, server, send, receive, f"after the move {i}".encode())
            assert receive.phase == 0, "the server did not mirror the second key update"
            moved.sendto(send.seal(b"bye", receive.phase), server)
            proc.wait(timeout=30)
            log = proc.stderr.read()
            assert proc.returncode == 0 and "migrations 1," in log, log
            print(f"ok   a move to a new port mid-session: the server challenged the new address "
                  f"({echo.challenges} challenge(s) answered), moved the session and echoed there, "
                  f"across two key updates (protocol.md §7.1, §7.3)")
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)


def main():
    run(sys.argv[1], retry=False)
    run(sys.argv[1], retry=True)
    run(sys.argv[1], retry=False, limit=512)  # the ClientHello as 3 Fragments (protocol.md §3.4)
    run(sys.argv[1], retry=True, limit=256)  # ... and again, with the cookie, as 6
    run_migration(sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
