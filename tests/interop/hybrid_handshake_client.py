#!/usr/bin/env python3
"""An independent client for a post-quantum hybrid sepal handshake, written
from docs/protocol.md (§2.1: SecP256r1MLKEM768, suite 0x7121): the key
schedule, messages and P-256 parts are Python `cryptography` (shared with
handshake_client.py), ML-KEM-768 is @noble/post-quantum from npm (pinned,
installed by tools/node-peer into its own cache; Debian 12's
python3-cryptography has no ML-KEM), driven through
tests/interop/mlkem_noble.mjs. It completes a handshake with the C++
server of `sepal-interop-tool handshake-echo-server 7121` over UDP on
127.0.0.1 and sends encrypted packets that must come back echoed; then it
checks the server refuses a ClientHello whose ML-KEM key is not reduced
(FIPS 203 §7.2) and one whose share is a byte short. Both sides send
datagrams of at most 1200 bytes: the 1291-byte ClientHello goes as
Fragments and the ServerHello comes as Fragments (protocol.md §3.4), which
this client cuts and reassembles itself.

usage: hybrid_handshake_client.py SEPAL_INTEROP_TOOL NODE_PEER
Exits 77 (meson's skip) when `cryptography` is missing or npm is unreachable.
"""
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import handshake_client as v2  # noqa: E402  (exits 77 itself without cryptography)
from common import check  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

SUITE_ID = 0x7121  # SecP256r1MLKEM768, ECDSA-P256-SHA256, AES-256-GCM, SHA-256 (protocol.md §2)
EC_SHARE, EK, CT = 65, 1184, 1088  # protocol.md §2.1
NOBLE = ("@noble/post-quantum", "0.7.1")
LIMIT = 1200  # max_datagram_size, both sides (protocol.md §3.4)
HERE = os.path.dirname(os.path.abspath(__file__))


def header(msg_type: int) -> bytes:
    return bytes([msg_type, v2.VERSION]) + SUITE_ID.to_bytes(2, "big")


class NobleMlKem:
    """ML-KEM-768 through node and @noble/post-quantum."""

    def __init__(self, node_peer: str):
        env = dict(os.environ, NODE_PEER_PACKAGE=NOBLE[0], NODE_PEER_VERSION=NOBLE[1])
        r = subprocess.run(["bash", node_peer, "install"], capture_output=True, text=True, env=env, timeout=600)
        if r.returncode == 77:
            print(r.stderr.strip())
            sys.exit(77)
        if r.returncode != 0:
            raise SystemExit(f"tools/node-peer install failed: {r.stderr}")
        self.modules = r.stdout.strip().splitlines()[-1]

    def _run(self, *args: str) -> bytes:
        r = subprocess.run(["node", os.path.join(HERE, "mlkem_noble.mjs"), *args, self.modules],
                           capture_output=True, text=True, check=True, timeout=60)
        return bytes.fromhex(r.stdout.strip())

    def keygen(self, seed: bytes) -> bytes:
        return self._run("keygen", seed.hex())

    def decaps(self, seed: bytes, ct: bytes) -> bytes:
        return self._run("decaps", seed.hex(), ct.hex())

    def encaps(self, seed: bytes, m: bytes):
        r = subprocess.run(["node", os.path.join(HERE, "mlkem_noble.mjs"), "encaps", seed.hex(), m.hex(), self.modules],
                           capture_output=True, text=True, check=True, timeout=60)
        ct, k = r.stdout.split()
        return bytes.fromhex(ct), bytes.fromhex(k)


def appendix_vectors(kem: NobleMlKem):
    """docs/protocol.md's appendix (hybrid key share vectors), recomputed
    with @noble/post-quantum and Python cryptography."""
    from cryptography.hazmat.primitives.asymmetric import x25519

    def sha(b: bytes) -> str:
        return hashlib.sha256(b).hexdigest()

    seed, m = bytes(range(64)), bytes(range(0x40, 0x60))
    ek = kem.keygen(seed)
    ct, k = kem.encaps(seed, m)
    ok = sha(ek) == "0b7934c83125c788995e2ba6bd761e33046b3e40571be53e023309a29f398cc9"
    ok &= sha(ct) == "dbf4e9aa48b078ad46ec1c9c47bda8c2d2fec9d0e7a21bd48d2238a2abedb856"
    ok &= k.hex() == "9cddd089ffe70e3996e76f7c8d06746df34d07e8657bc0fcf2bb0e1c3084aea1"
    ok &= kem.decaps(seed, ct) == k
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    xc = x25519.X25519PrivateKey.from_private_bytes(bytes([0x11]) * 32)
    xs = x25519.X25519PrivateKey.from_private_bytes(bytes([0x22]) * 32)
    xsec = xc.exchange(xs.public_key())
    ok &= sha(ek + xc.public_key().public_bytes(*raw)) == \
        "0b2ac0363dc991a425661aa219e3a4176866eb9896bdf467040425b4d9b3b90a"
    ok &= sha(ct + xs.public_key().public_bytes(*raw)) == \
        "b1dc782e52312372e71bcc2e2ff7386c6ee815e05f6226d16a800b66ceec62cb"
    ok &= (k + xsec).hex() == "9cddd089ffe70e3996e76f7c8d06746df34d07e8657bc0fcf2bb0e1c3084aea1" \
        "9e004098efc091d4ec2663b4e9f5cfd4d7064571690b4bea97ab146ab9f35056"
    unc = serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    pc = ec.derive_private_key(int("11" * 32, 16), ec.SECP256R1())
    ps = ec.derive_private_key(int("22" * 32, 16), ec.SECP256R1())
    psec = pc.exchange(ec.ECDH(), ps.public_key())
    ok &= sha(pc.public_key().public_bytes(*unc) + ek) == \
        "cae95aeaa7123b8c903b2e6574790b48e50e0f406fa4175549adab9725254fe3"
    ok &= sha(ps.public_key().public_bytes(*unc) + ct) == \
        "2c61636724f88b2754acbc8bb839fe39db7d357ac15456dc986dfb0021d3e355"
    ok &= (psec + k).hex() == "ccfc261f58193c98ca4ad4a53bbac6f0ee29bc4d48438090446908622ca79af6" \
        "9cddd089ffe70e3996e76f7c8d06746df34d07e8657bc0fcf2bb0e1c3084aea1"
    return ok


def client_hello(random: bytes, share: bytes, cid: bytes = bytes(v2.CID_LEN)) -> bytes:
    hello = header(1) + random + cid + v2.opaque16(share) + v2.opaque16(b"")
    return hello + v2.opaque16(bytes(max(0, 1200 - len(hello) - 2)))  # a hybrid hello needs no padding


def handshake(sock, server, root_public, kem: NobleMlKem):
    eph = ec.generate_private_key(ec.SECP256R1())
    point = eph.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    seed = os.urandom(64)  # ML-KEM d || z
    ek = kem.keygen(seed)
    assert len(point) == EC_SHARE and len(ek) == EK
    share = point + ek  # SecP256r1MLKEM768: the EC part first (protocol.md §2.1)
    random = os.urandom(32)
    cid = os.urandom(v2.CID_LEN)  # our connection id (protocol.md §3.1)
    hello = client_hello(random, share, cid)
    datagrams = v2.fragments(hello, 1, random[:8], LIMIT, header(v2.FRAGMENT))
    assert len(datagrams) == 2 and all(len(d) <= LIMIT for d in datagrams)
    reassembly = v2.Reassembly(header(v2.FRAGMENT), 2, random[:8])
    for _ in range(10):
        v2.send_all(sock, server, datagrams)
        reply = v2.next_message(sock, server, reassembly, 0.5)
        if reply is not None:
            break
    else:
        raise SystemExit("no ServerHello")
    assert reassembly.last_fragments >= 2, "the ServerHello should have come as Fragments"
    hello_wire = sum(len(d) for d in datagrams)
    server_wire = len(reply) + v2.FRAGMENT_HEADER * -(-len(reply) // (LIMIT - v2.FRAGMENT_HEADER))
    assert server_wire <= 3 * hello_wire, "anti-amplification: ServerHello datagrams at most 3x the ClientHello's"
    transcript = hashlib.sha256(hello)

    r = v2.Reader(reply)
    assert r.take(4) == header(2), "ServerHello header (version, suite)"
    r.take(32)
    server_cid = r.take(v2.CID_LEN)
    server_share = r.opaque16()
    cleartext = reply[:r.pos]
    sealed = r.opaque16()
    assert r.pos == len(reply)
    assert len(server_share) == EC_SHARE + CT, "server share = P-256 point || ML-KEM ciphertext"
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), server_share[:EC_SHARE])
    ecdh = eph.exchange(ec.ECDH(), peer)  # the x-coordinate, 32 bytes
    mlkem = kem.decaps(seed, server_share[EC_SHARE:])
    ecdhe = ecdh + mlkem  # EC secret first for SecP256r1MLKEM768 (protocol.md §2.1)
    assert len(ecdhe) == 64

    transcript.update(cleartext)
    early = v2.hkdf_extract(bytes(v2.HASH_LEN), bytes(v2.HASH_LEN))
    hs = v2.hkdf_extract(v2.derive_secret(early, "derived", v2.EMPTY_HASH), ecdhe)
    hello_hash = transcript.digest()
    c_hs = v2.derive_secret(hs, "c hs traffic", hello_hash)
    s_hs = v2.derive_secret(hs, "s hs traffic", hello_hash)
    aead, iv = v2.handshake_keys(s_hs)
    auth = aead.decrypt(iv, sealed, cleartext)  # fails unless both secrets agree
    p = v2.Reader(auth)
    assert p.u8() == 0 and p.u8() == 0, "root key, no client authentication"
    transcript.update(auth[:p.pos])
    h1 = transcript.digest()
    before_sig = p.pos
    signature = p.opaque16()
    root_public.verify(v2.p1363_to_der(signature), v2.signature_input("sepal v1 server signature", h1),
                       ec.ECDSA(hashes.SHA256()))
    transcript.update(auth[before_sig:p.pos])
    server_finished = p.take(v2.HASH_LEN)
    assert p.pos == len(auth)
    assert hmac.compare_digest(server_finished, v2.finished(s_hs, transcript.digest())), "server Finished"
    transcript.update(server_finished)
    master = v2.hkdf_extract(v2.derive_secret(hs, "derived", v2.EMPTY_HASH), bytes(v2.HASH_LEN))
    full = transcript.digest()
    c_ap = v2.derive_secret(master, "c ap traffic", full)
    s_ap = v2.derive_secret(master, "s ap traffic", full)
    msg = b"\x00"
    transcript.update(msg)
    msg += v2.finished(c_hs, transcript.digest())
    aead, iv = v2.handshake_keys(c_hs)
    client_finished = header(3) + v2.opaque16(aead.encrypt(iv, msg, header(3)))
    sock.sendto(client_finished, server)
    return c_ap, s_ap, hello, len(reply), client_finished, cid, server_cid


def refused(sock, server, hello: bytes) -> bool:
    """True when the server sends nothing back for `hello` (sent as Fragments)."""
    v2.send_all(sock, server, v2.fragments(hello, 1, hello[4:12], LIMIT, header(v2.FRAGMENT)))
    try:
        sock.recvfrom(65536)
        return False
    except socket.timeout:
        return True


def main():
    tool, node_peer = sys.argv[1], sys.argv[2]
    kem = NobleMlKem(node_peer)
    check(appendix_vectors(kem), "protocol.md's hybrid key share vectors, recomputed with @noble/post-quantum "
                                 "and Python cryptography")
    with tempfile.TemporaryDirectory() as d:
        root, key_path = v2.new_root_key(d)
        proc, server = v2.start_net_server(tool, "7121", key_path, d)
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.settimeout(0.5)

            # Hostile ClientHellos first (the server keeps no state for them).
            good = client_hello(os.urandom(32), ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint) + kem.keygen(os.urandom(64)))
            unreduced = bytearray(good)
            at = 4 + 32 + v2.CID_LEN + 2 + EC_SHARE  # the ML-KEM key's first coefficient
            unreduced[at], unreduced[at + 1] = 0xFF, unreduced[at + 1] | 0x0F
            check(refused(sock, server, bytes(unreduced)),
                     "the server refuses an ML-KEM key with a coefficient >= q (FIPS 203 §7.2)")
            share_at = 4 + 32 + v2.CID_LEN + 2
            short = client_hello(os.urandom(32), good[share_at:share_at + EC_SHARE + EK - 1])
            check(refused(sock, server, short), "the server refuses a hybrid share one byte short")

            c_ap, s_ap, hello, reply_size, client_finished, cid, server_cid = handshake(sock, server,
                                                                                       root.public_key(), kem)
            check(True, f"SecP256r1MLKEM768 handshake with sepal's C++ server: ClientHello {len(hello)} bytes "
                           f"sent as Fragments, ServerHello {reply_size} bytes reassembled from Fragments "
                           f"(datagrams of at most {LIMIT} bytes), ML-KEM-768 from @noble/post-quantum {NOBLE[1]}")
            send, receive = v2.Direction(c_ap, server_cid), v2.Direction(s_ap, cid)
            v2.await_confirmation(sock, server, receive, client_finished)  # protocol.md §7.2
            for i in range(5):
                v2.echo(sock, server, send, receive, f"post-quantum echo {i}".encode())
            check(True, "5 encrypted packets echoed under the hybrid handshake's keys")
            send.update()  # a key update, mirrored by the server (protocol.md §7.1)
            v2.echo(sock, server, send, receive, b"post-quantum echo after a key update")
            check(receive.phase == 1, "a key update, mirrored by the server")
            v2.echo.challenges = 0
            moved = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a new port: a NAT rebinding
            moved.settimeout(0.5)
            sock.close()
            v2.echo(moved, server, send, receive, b"post-quantum echo from a new port")
            for i in range(3):
                v2.echo(moved, server, send, receive, f"post-quantum echo after the move {i}".encode())
            check(v2.echo.challenges >= 1, f"the move: the server challenged the new port, this client answered "
                                           f"({v2.echo.challenges}), and the echoes came there (protocol.md §7.3)")
            moved.sendto(send.seal(b"bye", receive.phase), server)
            proc.wait(timeout=30)
            log = proc.stderr.read()
            check(proc.returncode == 0 and "handshakes completed 1, failed 2; migrations 1," in log
                  and "established, suite 7121" in log,
                  f"the server refused both hostile hellos (2 failed handshakes), established one session and "
                  f"moved it once ({proc.returncode}: {log.strip()})")
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
