// A live Noise peer no one here wrote: noise-c (rweather's reference C
// implementation) compiled to WebAssembly, from npm (pinned in
// tools/node-peer, installed outside the checkout). sepal runs as a child
// process (tests/interop/noise_peer.cpp) and noise-c in this process; each
// run is a full handshake (payloads both ways, handshake hash and remote
// static keys compared) and then transport messages both ways.
//
// Two builds of noise-c are used, because neither covers everything:
//   noise-c.wasm 0.4.0 (nazar-pc): all of noise-c's algorithms (25519, 448,
//     ChaChaPoly, AESGCM, SHA256, SHA512, BLAKE2s, BLAKE2b), but the noise-c
//     revision it builds predates the pskN modifiers;
//   @richardhopton/noise-c.wasm 0.5.0: a newer noise-c with the pskN
//     modifiers, built with 25519, ChaChaPoly and SHA256 only.
// Matrix: the 12 interactive patterns x 25519/448 x ChaChaPoly/AESGCM x
// SHA256/BLAKE2b against the first, and psk patterns x 25519_ChaChaPoly_SHA256
// against the second, each with sepal as initiator and as responder.
//
// usage: node noise_c.mjs TOOL FULL_NODE_MODULES PSK_NODE_MODULES   (run by tools/node-peer)
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';

const [tool, fullModules, pskModules] = process.argv.slice(2);
const TRANSPORT = 6;

function load(modules, name) {
  const require = createRequire(path.join(modules, 'index.js'));
  const createNoise = require(name);
  // 0.4.0 warns that streaming compilation of a file path fails, then falls back: silence that one warning.
  const warn = console.warn;
  console.warn = (...a) => { if (!String(a[0]).includes('wasm streaming compile failed') && !String(a[0]).includes('falling back to ArrayBuffer')) warn(...a); };
  return new Promise((resolve) => createNoise((noise) => { console.warn = warn; resolve(noise); }));
}

const hex = (b) => Buffer.from(b).toString('hex');
function payload(kind, i, side) {
  let s = `${kind} ${i} from ${side}`;
  if (kind === 'transport') s += 'x'.repeat(i * 37);
  return new Uint8Array(Buffer.from(s));
}
const same = (a, b) => Buffer.from(a).equals(Buffer.from(b));

/// The pattern's base letters: does `side` (0 initiator, 1 responder) have a static key?
function hasStatic(name, side) {
  const base = name.split('_')[1].replace(/psk.*/, '');
  return side === 0 ? 'XKI'.includes(base[0]) : base.length > 1 && 'KX'.includes(base[1]);
}

async function run(noise, name, sepalInitiator) {
  const C = noise.constants;
  const dh = name.includes('_448_') ? C.NOISE_DH_CURVE448 : C.NOISE_DH_CURVE25519;
  const [sepalPriv, sepalPub] = noise.CreateKeyPair(dh);
  const [ncPriv, ncPub] = noise.CreateKeyPair(dh);
  const psk = crypto.randomBytes(32), prologue = crypto.randomBytes(9);
  const child = spawn(tool, [name, sepalInitiator ? 'initiator' : 'responder', hex(sepalPriv), hex(ncPub), hex(psk),
    hex(prologue), String(TRANSPORT)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error('sepal peer ended early');
    if (r.value.startsWith('error')) throw new Error(`sepal: ${r.value}`);
    return r.value;
  };
  const receive = async () => {
    const l = await next();
    if (!l.startsWith('msg ')) throw new Error(`expected a message, got: ${l}`);
    return new Uint8Array(Buffer.from(l.slice(4), 'hex'));
  };
  const send = (m) => child.stdin.write(`msg ${hex(m)}\n`);
  const ncSide = sepalInitiator ? 1 : 0;
  try {
    const hs = noise.HandshakeState(name, sepalInitiator ? C.NOISE_ROLE_RESPONDER : C.NOISE_ROLE_INITIATOR);
    hs.Initialize(prologue, ncPriv, sepalPub, psk);
    for (let i = 0; ; i++) {
      const action = hs.GetAction();
      if (action === C.NOISE_ACTION_WRITE_MESSAGE) {
        send(hs.WriteMessage(payload('hs', i, 'noise-c')));
      } else if (action === C.NOISE_ACTION_READ_MESSAGE) {
        const got = hs.ReadMessage(await receive(), true);
        if (!same(got, payload('hs', i, 'sepal'))) throw new Error(`noise-c read handshake payload ${i} wrong`);
      } else if (action === C.NOISE_ACTION_SPLIT) {
        break;
      } else {
        throw new Error(`noise-c action ${action}`);
      }
    }
    const h = hex(hs.GetHandshakeHash());
    const hashLine = await next();
    if (hashLine !== `hash ${h}`) throw new Error(`handshake hashes differ: noise-c ${h}, ${hashLine}`);
    const ncRemote = hs.GetRemotePublicKey();
    if (hasStatic(name, 1 - ncSide) !== (ncRemote !== null)) throw new Error('noise-c remote static presence');
    if (ncRemote && !same(ncRemote, sepalPub)) throw new Error("noise-c learned a static key that is not sepal's");
    if (hasStatic(name, ncSide)) {  // sepal reports the key it learned (or was given)
      if ((await next()) !== `remote ${hex(ncPub)}`) throw new Error("sepal's remote static key is not noise-c's");
    }
    const [sendCs, recvCs] = hs.Split();
    const empty = new Uint8Array(0);
    for (let j = 0; j < TRANSPORT; j++) {
      const initiatorSends = j % 2 === 0;
      if (initiatorSends === !sepalInitiator) {
        send(sendCs.EncryptWithAd(empty, payload('transport', j, 'noise-c')));
      } else {
        const got = recvCs.DecryptWithAd(empty, await receive());
        if (!same(got, payload('transport', j, 'sepal'))) throw new Error(`transport payload ${j} wrong`);
      }
    }
    if ((await next()) !== 'done') throw new Error('sepal did not finish');
    sendCs.free();
    recvCs.free();
    return null;
  } catch (e) {
    return e.message || String(e);
  } finally {
    child.stdin.end();
    child.kill();
  }
}

const interactive = ['NN', 'NK', 'NX', 'XN', 'XK', 'XX', 'KN', 'KK', 'KX', 'IN', 'IK', 'IX'];
const pskPatterns = ['NNpsk0', 'NNpsk2', 'NKpsk2', 'NXpsk2', 'XXpsk3', 'XKpsk3', 'IKpsk2', 'IXpsk2', 'KKpsk0',
  'NNpsk0+psk2', 'XXpsk0+psk2'];
const suites = [];
for (const d of ['25519', '448']) for (const c of ['ChaChaPoly', 'AESGCM']) for (const h of ['SHA256', 'BLAKE2b'])
  suites.push(`${d}_${c}_${h}`);

let passed = 0, failed = 0;
async function matrix(label, noise, patterns, suiteList) {
  let ok = 0, bad = 0;
  for (const p of patterns) {
    for (const s of suiteList) {
      for (const sepalInitiator of [true, false]) {
        const name = `Noise_${p}_${s}`;
        const err = await run(noise, name, sepalInitiator);
        if (err) {
          bad++;
          console.log(`FAIL ${name} sepal ${sepalInitiator ? 'initiator' : 'responder'}: ${err}`);
        } else {
          ok++;
        }
      }
    }
  }
  console.log(`${label}: ${patterns.length} patterns x ${suiteList.length} suites x 2 directions: ${ok} passed, ${bad} failed`);
  console.log(`  patterns: ${patterns.join(' ')}`);
  console.log(`  suites: ${suiteList.join(' ')}`);
  passed += ok;
  failed += bad;
}

const full = await load(fullModules, 'noise-c.wasm');
await matrix('noise-c.wasm 0.4.0', full, interactive, suites);
const modern = await load(pskModules, '@richardhopton/noise-c.wasm');
await matrix('@richardhopton/noise-c.wasm 0.5.0', modern, [...interactive, ...pskPatterns], ['25519_ChaChaPoly_SHA256']);
console.log(`noise-c interop: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
