// ML-KEM-768 from an independent implementation, @noble/post-quantum (npm,
// pinned by tests/interop/hybrid_handshake_client.py through tools/node-peer),
// for the Python hybrid-handshake client, which Debian 12's
// python3-cryptography cannot serve (it has no ML-KEM).
//
//   node mlkem_noble.mjs keygen SEED_HEX NODE_MODULES        -> the encapsulation key (hex)
//   node mlkem_noble.mjs decaps SEED_HEX CT_HEX NODE_MODULES -> the shared secret (hex)
//   node mlkem_noble.mjs encaps SEED_HEX M_HEX NODE_MODULES  -> ciphertext and shared secret (hex
//                                                              lines) for the seed's key and message m
//
// SEED is FIPS 203's d || z (64 bytes), so the decapsulation key is
// rebuilt from it for each call and no secret file is needed.
import path from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const modules = args.pop();
const { ml_kem768 } = await import(pathToFileURL(path.join(modules, "@noble/post-quantum/ml-kem.js")).href);
const hex = (b) => Buffer.from(b).toString("hex");
const bytes = (h) => new Uint8Array(Buffer.from(h, "hex"));

const [cmd, seed, ct] = args;
const keys = ml_kem768.keygen(bytes(seed));
if (cmd === "keygen") {
  console.log(hex(keys.publicKey));
} else if (cmd === "decaps") {
  console.log(hex(ml_kem768.decapsulate(bytes(ct), keys.secretKey)));
} else if (cmd === "encaps") {
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(keys.publicKey, bytes(ct));
  console.log(hex(cipherText));
  console.log(hex(sharedSecret));
} else {
  console.error("usage: mlkem_noble.mjs keygen SEED NODE_MODULES | decaps SEED CT NODE_MODULES");
  process.exit(2);
}
