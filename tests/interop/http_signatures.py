#!/usr/bin/env python3
"""An independent RFC 9421 / RFC 9530 peer for sepal's request-signing profile
(docs/request-auth.md), written from the RFCs with Python's standard library
and the cryptography module: it signs requests that sepal must verify, and
verifies requests that sepal signed, for hmac-sha256 (the HMAC API key
profile), ed25519 and ecdsa-p256-sha256.

usage: http_signatures.py TOOL   (TOOL: sepal-interop-tool)
Exit 77 (meson's skip) when the cryptography module is missing.
"""
import base64
import hashlib
import hmac
import os
import re
import subprocess
import sys
import tempfile

from common import SKIP, check  # noqa: E402
NOW = 1_800_000_000

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
except ImportError:
    print("python3-cryptography not installed: skipping")
    sys.exit(SKIP)




def request_text(method, uri, fields, body):
    return f"{method}\n{uri}\n" + "".join(f"{n}: {v}\n" for n, v in fields) + "\n" + body


def parse_request(text):
    head, body = text.split("\n\n", 1)
    lines = head.split("\n")
    fields = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[2:]]
    return lines[0], lines[1], fields, body


def field(fields, name):
    return ", ".join(v for n, v in fields if n.lower() == name)


def content_digest(body):
    # RFC 9530 §2: a Dictionary of Byte Sequences.
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + ":"


def signature_base(method, uri, fields, params):
    # RFC 9421 §2.5 for the profile's components: "@method" "@target-uri"
    # "content-digest", then "@signature-params" (the Inner List as sent).
    lines = [f'"@method": {method}', f'"@target-uri": {uri}', f'"content-digest": {field(fields, "content-digest")}']
    return ("\n".join(lines) + f'\n"@signature-params": {params}').encode()


def sign(alg, key, method, uri, fields, body, keyid, nonce):
    fields = fields + [("Content-Digest", content_digest(body))]
    params = (f'("@method" "@target-uri" "content-digest");created={NOW};expires={NOW + 300}'
              f';keyid="{keyid}";alg="{alg}";nonce="{nonce}";tag="sepal-request/1"')
    base = signature_base(method, uri, fields, params)
    if alg == "hmac-sha256":
        sig = hmac.new(key, base, hashlib.sha256).digest()
    elif alg == "ed25519":
        sig = key.sign(base)
    else:  # RFC 9421 §3.3.4: r || s, 32 bytes each
        r, s = decode_dss_signature(key.sign(base, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return fields + [("Signature-Input", f"sig={params}"),
                     ("Signature", "sig=:" + base64.b64encode(sig).decode() + ":")]


def verify(alg, key, text):
    method, uri, fields, body = parse_request(text)
    m = re.fullmatch(r"sig=(\(.*)", field(fields, "signature-input"))
    s = re.fullmatch(r"sig=:([A-Za-z0-9+/=]+):", field(fields, "signature"))
    if not m or not s or field(fields, "content-digest") != content_digest(body):
        return False
    params, sig = m.group(1), base64.b64decode(s.group(1))
    if not params.startswith('("@method" "@target-uri" "content-digest");created='):
        return False
    base = signature_base(method, uri, fields, params)
    try:
        if alg == "hmac-sha256":
            return hmac.compare_digest(hmac.new(key, base, hashlib.sha256).digest(), sig)
        if alg == "ed25519":
            key.verify(sig, base)
        else:
            key.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")), base,
                       ec.ECDSA(hashes.SHA256()))
        return True
    except Exception:
        return False


def tool(exe, cmd, alg, keyid, keyfile, text):
    r = subprocess.run([exe, cmd, alg, keyid, keyfile, str(NOW)], input=text.encode(), capture_output=True)
    return r.returncode, r.stdout.decode()


def main():
    exe = sys.argv[1]
    method, uri, body = "POST", "https://api.example.com/v1/orders?dry_run=1", '{"item": 42}'
    fields = [("Host", "api.example.com"), ("Content-Type", "application/json")]
    with tempfile.TemporaryDirectory() as d:
        secret = os.urandom(32)
        ed = ed25519.Ed25519PrivateKey.generate()
        p256 = ec.generate_private_key(ec.SECP256R1())
        pem = lambda k: k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        pub = lambda k: k.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
        files = {}
        for name, data in [("secret.b64", base64.b64encode(secret)), ("ed.pem", pem(ed)), ("ed.pub", pub(ed)),
                           ("p256.pem", pem(p256)), ("p256.pub", pub(p256))]:
            files[name] = os.path.join(d, name)
            with open(files[name], "wb") as f:
                f.write(data)
        cases = [("hmac-sha256", secret, secret, files["secret.b64"], files["secret.b64"]),
                 ("ed25519", ed, ed.public_key(), files["ed.pem"], files["ed.pub"]),
                 ("ecdsa-p256-sha256", p256, p256.public_key(), files["p256.pem"], files["p256.pub"])]
        for alg, sk, vk, sign_file, verify_file in cases:
            # Python signs, sepal verifies.
            signed = sign(alg, sk, method, uri, fields, body, "client-1", os.urandom(16).hex())
            code, out = tool(exe, "http-verify", alg, "client-1", verify_file,
                             request_text(method, uri, signed, body))
            check(code == 0 and out.strip() == "ok", f"{alg}: a Python-signed request verifies in sepal")
            code, out = tool(exe, "http-verify", alg, "client-1", verify_file,
                             request_text(method, uri, signed, body + " "))
            check(code == 1 and "digest" in out, f"{alg}: sepal refuses it with the body changed ({out.strip()})")
            code, out = tool(exe, "http-verify", alg, "client-1", verify_file,
                             request_text("PUT", uri, signed, body))
            check(code == 1, f"{alg}: sepal refuses it with the method changed ({out.strip()})")
            # sepal signs, Python verifies.
            code, out = tool(exe, "http-sign", alg, "client-1", sign_file, request_text(method, uri, fields, body))
            check(code == 0, f"{alg}: sepal signs")
            check(verify(alg, vk, out), f"{alg}: a sepal-signed request verifies in Python")
            check(not verify(alg, vk, out.replace("/v1/orders", "/v1/refunds")),
                  f"{alg}: Python refuses it with the path changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
