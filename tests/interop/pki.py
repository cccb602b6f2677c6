#!/usr/bin/env python3
"""X.509 interop with the openssl CLI, both ways: certificates, CSRs and CRLs
made by sepal pass `openssl verify` / `openssl req -verify`; a chain made with
`openssl req`, `openssl x509` and `openssl ca` passes sepal's validation, and
sepal rejects it for the wrong host, purpose or anchor.

usage: pki.py TOOL
Exit 77 (meson's skip) when openssl is missing.
"""
import os
import subprocess
import sys
import tempfile

from common import SKIP, check, run  # noqa: E402






def sepal_to_openssl(tool, d):
    run(tool, "pki-make", d, "localhost")
    v = lambda *a: run("openssl", "verify", "-CAfile", "root.pem", "-untrusted", "inter.pem", *a, ok=False, cwd=d)
    check(v("-purpose", "sslserver", "-verify_hostname", "localhost", "server.pem").returncode == 0,
          "openssl verify accepts sepal's server chain (sslserver, hostname)")
    check(v("-purpose", "sslclient", "client.pem").returncode == 0, "openssl verify accepts sepal's client chain")
    check(v("-purpose", "sslclient", "server.pem").returncode != 0, "openssl refuses the server certificate as a client")
    for name in ("server", "client", "revoked"):
        check(run("openssl", "req", "-verify", "-noout", "-in", f"{name}.csr", ok=False, cwd=d).returncode == 0,
              f"openssl req -verify accepts sepal's CSR ({name})")
    check(run("openssl", "crl", "-in", "crl.pem", "-CAfile", "inter.pem", "-noout", ok=False, cwd=d).returncode == 0,
          "openssl crl verifies sepal's CRL signature")
    r = v("-crl_check", "-CRLfile", "crl.pem", "revoked.pem")
    check(r.returncode != 0 and b"revoked" in r.stdout + r.stderr, "openssl sees the revocation in sepal's CRL")
    check(v("-crl_check", "-CRLfile", "crl.pem", "server.pem").returncode == 0, "and accepts the unrevoked server")


CA_CONF = """
[ ca ]
default_ca = ossl
[ ossl ]
dir = {d}
database = {d}/index.txt
new_certs_dir = {d}/issued
serial = {d}/serial
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = leaf
unique_subject = no
[ any ]
commonName = supplied
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:service.example.org,IP:127.0.0.1
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
"""


def openssl_to_sepal(tool, d):
    o = lambda *a: run("openssl", *a, cwd=d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    o("req", "-x509", *ec, "-keyout", "root.key", "-out", "root.pem", "-subj", "/CN=openssl root", "-days", "3650",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    o("req", "-new", *ec, "-keyout", "inter.key", "-out", "inter.csr", "-subj", "/CN=openssl intermediate")
    with open(os.path.join(d, "inter.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n"
                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    o("x509", "-req", "-in", "inter.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial", "-out",
      "inter.pem", "-days", "1825", "-extfile", "inter.ext")
    os.makedirs(os.path.join(d, "issued"))
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    with open(os.path.join(d, "ca.conf"), "w") as f:
        f.write(CA_CONF.format(d=d))
    o("req", "-new", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=service.example.org")
    o("ca", "-batch", "-config", "ca.conf", "-cert", "inter.pem", "-keyfile", "inter.key", "-in", "leaf.csr", "-out",
      "leaf.pem", "-days", "365", "-notext")
    with open(os.path.join(d, "chain.pem"), "w") as f:
        f.write(open(os.path.join(d, "leaf.pem")).read() + open(os.path.join(d, "inter.pem")).read())
    s = lambda *a: run(tool, "pki-verify", *a, ok=False, cwd=d)
    r = s("root.pem", "chain.pem", "service.example.org", "server")
    check(r.returncode == 0, f"sepal accepts the openssl req/x509/ca chain ({r.stdout.decode().strip()})")
    check(s("root.pem", "chain.pem", "127.0.0.1", "server").returncode == 0, "sepal matches its IP SAN")
    r = s("root.pem", "chain.pem", "other.example.org", "server")
    check(r.returncode == 1 and b"host" in r.stdout, f"sepal refuses another host ({r.stdout.decode().strip()})")
    r = s("root.pem", "chain.pem", "", "client")
    check(r.returncode == 1 and b"purpose" in r.stdout, f"sepal refuses it as a client ({r.stdout.decode().strip()})")
    run(tool, "pki-make", d, "x")  # another root.pem: the openssl chain is now untrusted
    r = s("root.pem", "chain.pem", "service.example.org", "server")
    check(r.returncode == 1 and b"anchor" in r.stdout, f"sepal refuses a foreign anchor ({r.stdout.decode().strip()})")


def main():
    if subprocess.run(["openssl", "version"], capture_output=True).returncode != 0:
        print("openssl not installed: skipping")
        return SKIP
    tool = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        sepal_to_openssl(tool, a)
        openssl_to_sepal(tool, b)
    return 0


if __name__ == "__main__":
    sys.exit(main())
