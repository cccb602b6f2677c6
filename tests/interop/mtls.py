#!/usr/bin/env python3
"""Mutual TLS 1.3 interop with the openssl CLI on 127.0.0.1: sepal's server
accepts `openssl s_client -cert/-key` and rejects it without a certificate or
with one from an untrusted CA; sepal's client connects to
`openssl s_server -Verify 1 -verify_return_error`.

usage: mtls.py TOOL
Exit 77 (meson's skip) when openssl is missing.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

from common import SKIP, check  # noqa: E402




def wait_for(path):
    for _ in range(200):
        if os.path.exists(path) and open(path).read().strip():
            return open(path).read().strip()
        time.sleep(0.05)
    raise SystemExit("server did not start")


def s_client(port, d, *extra):
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3", "-CAfile", "root.pem",
           "-verify_return_error", "-verify_hostname", "localhost", "-quiet", *extra]
    return subprocess.run(cmd, input=b"hello from openssl\n", capture_output=True, cwd=d, timeout=30)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    if subprocess.run(["openssl", "version"], capture_output=True).returncode != 0:
        print("openssl not installed: skipping")
        return SKIP
    tool = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([tool, "pki-make", d, "localhost"], check=True)
        # A client certificate from a CA the server does not trust.
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", "rogue.key", "-out", "rogue.pem", "-subj", "/CN=rogue", "-days", "30"],
                       check=True, capture_output=True, cwd=d)

        # sepal server, openssl clients.
        portfile = os.path.join(d, "port")
        server = subprocess.Popen([tool, "mtls-server", portfile, "root.pem", "server-chain.pem", "server.key", "3"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=d)
        port = wait_for(portfile)
        r = s_client(port, d, "-cert", "client.pem", "-key", "client.key", "-cert_chain", "inter.pem")
        check(b"hello from openssl" in r.stdout, "sepal's mTLS server echoes for openssl s_client with a client certificate")
        r = s_client(port, d)
        check(b"hello from openssl" not in r.stdout, "sepal's server rejects s_client without a certificate")
        r = s_client(port, d, "-cert", "rogue.pem", "-key", "rogue.key")
        check(b"hello from openssl" not in r.stdout, "sepal's server rejects a certificate from an untrusted CA")
        out, err = (x.decode() for x in server.communicate(timeout=30))
        out = out.splitlines()
        check(out[0] == "accepted client", f"server log: {out[0]}")
        check("group x25519 pq=0" in err, f"sepal's server takes x25519 from classical OpenSSL 3.0 ({err.strip()})")
        check(out[1].startswith("rejected"), f"server log: {out[1]}")
        check(out[2] == "rejected: no path to a trust anchor", f"server log: {out[2]}")

        # openssl server, sepal client.
        port = free_port()
        s_server = subprocess.Popen(
            ["openssl", "s_server", "-accept", str(port), "-tls1_3", "-cert", "server.pem", "-key", "server.key",
             "-cert_chain", "inter.pem", "-CAfile", "root.pem", "-Verify", "1", "-verify_return_error", "-rev",
             "-naccept", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=d)
        try:
            reply = b""
            for _ in range(100):  # until s_server listens
                r = subprocess.run([tool, "mtls-client", str(port), "root.pem", "client-chain.pem", "client.key",
                                    "localhost", "hello\n"], capture_output=True, cwd=d, timeout=30)
                if r.returncode == 0:
                    reply = r.stdout
                    break
                time.sleep(0.05)
            check(reply.strip() == b"olleh", f"sepal's mTLS client talks to openssl s_server -Verify 1 ({reply!r})")
            check(b"group x25519 pq=0 hrr=1" in r.stderr,
                  "sepal's client offers only X25519MLKEM768; classical OpenSSL 3.0 asks for x25519 with a "
                  f"HelloRetryRequest and the handshake completes ({r.stderr.decode().strip()})")
            r = subprocess.run([tool, "mtls-client", str(port), "root.pem", "client-chain.pem", "client.key",
                                "wronghost", "hello\n"], capture_output=True, cwd=d, timeout=30)
            check(r.returncode == 1 and b"host" in r.stdout,
                  f"sepal's client refuses the server for another host ({r.stdout.decode().strip()})")
        finally:
            s_server.kill()
            s_server.wait()

        # sepal to sepal: X25519MLKEM768 in one round trip.
        portfile = os.path.join(d, "port2")
        server = subprocess.Popen([tool, "mtls-server", portfile, "root.pem", "server-chain.pem", "server.key", "1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=d)
        port = wait_for(portfile)
        r = subprocess.run([tool, "mtls-client", port, "root.pem", "client-chain.pem", "client.key", "localhost",
                            "hello\n"], capture_output=True, cwd=d, timeout=30)
        out, err = (x.decode() for x in server.communicate(timeout=30))
        check(r.returncode == 0 and r.stdout == b"hello\n", f"sepal's client and server talk ({r.stdout!r})")
        check(b"group x25519/ML-KEM-768 pq=1 hrr=0" in r.stderr,
              f"sepal to sepal negotiates X25519MLKEM768 without a retry ({r.stderr.decode().strip()})")
        check("group x25519/ML-KEM-768 pq=1" in err, f"sepal's server agrees ({err.strip()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
