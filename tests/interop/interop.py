#!/usr/bin/env python3
"""Interop with real peers: the openssl CLI and Python's cryptography module
(the library the original game server used).

usage: interop.py openssl|python TOOL
Exit 77 (meson's skip) when the peer is missing.
"""
import os
import subprocess
import sys
import tempfile

from common import SKIP, check, run  # noqa: E402






def openssl_suite(tool, d):
    if subprocess.run(["openssl", "version"], capture_output=True).returncode != 0:
        print("openssl CLI not found: skipping")
        return SKIP
    msg = os.path.join(d, "msg")
    with open(msg, "wb") as f:
        f.write(b"transcript hash and ephemeral key")
    for curve in ("p256", "ed25519"):
        s = os.path.join(d, "sepal-" + curve)
        os.mkdir(s)
        run(tool, "gen", curve, s)
        # OpenSSL reads sepal's private PEM, public PEM and public DER.
        run("openssl", "pkey", "-in", f"{s}/key.pem", "-check", "-noout")
        run("openssl", "pkey", "-pubin", "-in", f"{s}/pub.pem", "-noout")
        run("openssl", "pkey", "-pubin", "-inform", "DER", "-in", f"{s}/pub.der", "-noout")
        check(True, f"openssl reads sepal's {curve} keys (PEM, DER)")
        sig = f"{s}/sig"
        run(tool, "sign", curve, f"{s}/key.pem", msg, sig)
        if curve == "p256":
            r = run("openssl", "dgst", "-sha256", "-verify", f"{s}/pub.pem", "-signature", sig, msg, ok=False)
        else:
            r = run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", f"{s}/pub.pem", "-rawin", "-in", msg,
                    "-sigfile", sig, ok=False)
        check(r.returncode == 0, f"openssl verifies sepal's {curve} signature")

        # sepal reads OpenSSL's keys and verifies OpenSSL's signatures.
        o = os.path.join(d, "openssl-" + curve)
        os.mkdir(o)
        alg = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"] if curve == "p256" else ["-algorithm", "ED25519"]
        run("openssl", "genpkey", *alg, "-out", f"{o}/key.pem")
        run("openssl", "pkey", "-in", f"{o}/key.pem", "-pubout", "-out", f"{o}/pub.pem")
        pub_from_sepal = run(tool, "pub", curve, f"{o}/key.pem").stdout.decode().strip()
        pub_der = run("openssl", "pkey", "-in", f"{o}/key.pem", "-pubout", "-outform", "DER").stdout
        check(pub_der.hex().endswith(pub_from_sepal), f"sepal loads OpenSSL's {curve} private key")
        osig = f"{o}/sig"
        if curve == "p256":
            run("openssl", "dgst", "-sha256", "-sign", f"{o}/key.pem", "-out", osig, msg)
        else:
            run("openssl", "pkeyutl", "-sign", "-inkey", f"{o}/key.pem", "-rawin", "-in", msg, "-out", osig)
        check(run(tool, "verify", curve, f"{o}/pub.pem", msg, osig, ok=False).returncode == 0,
              f"sepal verifies OpenSSL's {curve} signature")
        with open(osig, "rb") as f:
            bad = bytearray(f.read())
        bad[len(bad) // 2] ^= 1
        with open(osig, "wb") as f:
            f.write(bad)
        check(run(tool, "verify", curve, f"{o}/pub.pem", msg, osig, ok=False).returncode == 1,
              f"sepal rejects a tampered OpenSSL {curve} signature")
    return 0


def python_suite(tool, d):
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    except ImportError:
        print("Python cryptography module not found (Debian: python3-cryptography): skipping")
        return SKIP
    import cryptography
    print(f"cryptography {cryptography.__version__}")
    msg = b"transcript hash and ephemeral key"
    mpath = os.path.join(d, "msg")
    with open(mpath, "wb") as f:
        f.write(msg)

    s = os.path.join(d, "sepal")
    os.mkdir(s)
    run(tool, "gen", "p256", s)
    with open(f"{s}/key.pem", "rb") as f:
        priv = serialization.load_pem_private_key(f.read(), password=None)
    with open(f"{s}/pub.pem", "rb") as f:
        pub = serialization.load_pem_public_key(f.read())
    with open(f"{s}/pub.der", "rb") as f:
        pub_der = serialization.load_der_public_key(f.read())
    check(isinstance(priv, ec.EllipticCurvePrivateKey) and priv.curve.name == "secp256r1",
          "cryptography loads sepal's P-256 PKCS#8 key")
    check(pub.public_numbers() == priv.public_key().public_numbers() == pub_der.public_numbers(),
          "cryptography loads sepal's public key (PEM and DER), matching the private key")
    run(tool, "sign", "p256", f"{s}/key.pem", mpath, f"{s}/sig")
    with open(f"{s}/sig", "rb") as f:
        sig = f.read()
    pub.verify(sig, msg, ec.ECDSA(hashes.SHA256()))  # raises InvalidSignature
    check(True, "cryptography verifies sepal's ECDSA-SHA256 signature")

    # The reverse: cryptography signs, sepal verifies.
    p = os.path.join(d, "python")
    os.mkdir(p)
    pk = ec.generate_private_key(ec.SECP256R1())
    with open(f"{p}/pub.pem", "wb") as f:
        f.write(pk.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo))
    with open(f"{p}/key.pem", "wb") as f:
        f.write(pk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()))
    with open(f"{p}/sig", "wb") as f:
        f.write(pk.sign(msg, ec.ECDSA(hashes.SHA256())))
    check(run(tool, "verify", "p256", f"{p}/pub.pem", mpath, f"{p}/sig", ok=False).returncode == 0,
          "sepal verifies cryptography's ECDSA-SHA256 signature")

    # Same ECDH + HKDF-SHA256 + AES-256-GCM from the same inputs.
    out = run(tool, "derive", f"{s}/key.pem", f"{p}/pub.pem").stdout.decode().split()
    shared = priv.exchange(ec.ECDH(), pk.public_key())
    check(shared.hex() == out[0], "same ECDH shared secret")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"sepal-interop-salt",
               info=b"sepal-interop-key").derive(shared)
    check(key.hex() == out[1], "same HKDF-SHA256 key")
    ct = AESGCM(key).encrypt(b"\0" * 12, b"sepal interop", None)
    check(ct.hex() == out[2], "same AES-256-GCM ciphertext and tag")
    # And cryptography derives the same from its side of the exchange.
    check(pk.exchange(ec.ECDH(), priv.public_key()) == shared, "cryptography's side agrees")

    # Ed25519 both ways.
    e = os.path.join(d, "ed")
    os.mkdir(e)
    run(tool, "gen", "ed25519", e)
    run(tool, "sign", "ed25519", f"{e}/key.pem", mpath, f"{e}/sig")
    with open(f"{e}/pub.pem", "rb") as f:
        epub = serialization.load_pem_public_key(f.read())
    with open(f"{e}/sig", "rb") as f:
        epub.verify(f.read(), msg)
    check(True, "cryptography verifies sepal's Ed25519 signature")
    ek = ed25519.Ed25519PrivateKey.generate()
    with open(f"{e}/pypub.pem", "wb") as f:
        f.write(ek.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo))
    with open(f"{e}/pysig", "wb") as f:
        f.write(ek.sign(msg))
    check(run(tool, "verify", "ed25519", f"{e}/pypub.pem", mpath, f"{e}/pysig", ok=False).returncode == 0,
          "sepal verifies cryptography's Ed25519 signature")
    return 0


def main():
    peer, tool = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as d:
        return openssl_suite(tool, d) if peer == "openssl" else python_suite(tool, d)


if __name__ == "__main__":
    sys.exit(main())
