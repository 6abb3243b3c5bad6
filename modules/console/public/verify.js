// The Verify button: checks an action's evidence in the browser with nothing but the
// published keys (/.well-known/jwks.json): RFC 8785 canonical form, SHA-256 hashes, the link
// from each artifact to the one before it in the chain, and Ed25519 signatures (WebCrypto).

const GENESIS = '0'.repeat(64);
const enc = new TextEncoder();

/** RFC 8785 (JCS) for what JSON.parse returns: sorted keys (UTF-16 order), ES number form. */
export function canonical(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
}

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest('SHA-256', enc.encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function base64Bytes(text) {
  const bin = atob(text);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function loadKeys() {
  const res = await fetch('/.well-known/jwks.json', { credentials: 'omit' });
  if (!res.ok) throw new Error(`the key set could not be fetched (HTTP ${res.status})`);
  const keys = new Map();
  for (const jwk of (await res.json()).keys ?? []) {
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.kid) continue;
    keys.set(jwk.kid, await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, { name: 'Ed25519' }, false, ['verify']));
  }
  return keys;
}

/** Every check of one artifact: [{ check, ok, detail }]. */
async function checkArtifact(a, keys, bySeq) {
  const results = [];
  const add = (check, ok, detail) => results.push({ check, ok, detail });
  let body = null;
  try {
    body = JSON.parse(a.canonical);
  } catch {
    add('canonical JSON', false, 'the stored bytes are not JSON');
  }
  if (body) add('canonical JSON', canonical(body) === a.canonical, 'RFC 8785 form of the signed body');
  const hash = await sha256Hex(a.canonical);
  add('hash', hash === a.hash, hash === a.hash ? `SHA-256 ${hash.slice(0, 16)}…` : `SHA-256 of the bytes is ${hash.slice(0, 16)}…, the record says ${a.hash.slice(0, 16)}…`);
  if (body) {
    const same = body.seq === a.seq && body.prevHash === a.prevHash && body.at === a.at && body.keyId === a.keyId && body.event?.kind === a.kind;
    add('fields', same, 'seq, time, kind, key id and previous hash match the signed body');
  }
  if (a.seq === 1) {
    add('link', a.prevHash === GENESIS, 'the first artifact links to the genesis hash');
  } else {
    const prev = bySeq.get(a.seq - 1);
    if (!prev) add('link', false, `artifact #${a.seq - 1} was not returned`);
    else {
      const prevHash = await sha256Hex(prev.canonical);
      const ok = prevHash === prev.hash && prev.hash === a.prevHash;
      add('link', ok, ok ? `links to #${prev.seq} (${prev.hash.slice(0, 12)}…)` : `does not link to #${prev.seq}: its bytes hash to ${prevHash.slice(0, 12)}…, expected ${a.prevHash.slice(0, 12)}…`);
    }
  }
  const key = keys.get(a.keyId);
  if (!key) add('signature', false, `no published key ${a.keyId}`);
  else {
    let ok = false;
    try {
      ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, base64Bytes(a.signature), enc.encode(a.canonical));
    } catch {
      ok = false;
    }
    add('signature', ok, ok ? `Ed25519, key ${a.keyId}` : `does not verify with key ${a.keyId}`);
  }
  return results;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

async function verify(section, out) {
  out.replaceChildren(el('p', {}, 'Checking…'));
  const id = section.dataset.action;
  const res = await fetch(`/console/actions/${id}/evidence.json`, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`the evidence could not be fetched (HTTP ${res.status})`);
  const { artifacts, predecessors } = await res.json();
  const keys = await loadKeys();
  const bySeq = new Map([...predecessors, ...artifacts].map((a) => [a.seq, a]));
  const table = el('table', { class: 'list verify' });
  table.append(el('caption', {}, 'What was checked, artifact by artifact'));
  const head = el('tr', {}, ...['Artifact', 'Kind', 'Canonical', 'Hash', 'Fields', 'Link', 'Signature'].map((h) => el('th', { scope: 'col' }, h)));
  table.append(el('thead', {}, head));
  const tbody = el('tbody');
  let failed = 0;
  for (const a of artifacts) {
    const results = await checkArtifact(a, keys, bySeq);
    const bad = results.filter((r) => !r.ok);
    failed += bad.length ? 1 : 0;
    const cell = (name) => {
      const r = results.find((x) => x.check === name);
      if (!r) return el('td', {}, '—');
      return el('td', { class: r.ok ? 'ok' : 'bad', title: r.detail }, r.ok ? '✓ ' : '✗ ', el('span', { class: 'detail' }, r.detail));
    };
    const row = el('tr', { id: `artifact-${a.seq}`, class: bad.length ? 'tampered' : '' }, el('th', { scope: 'row' }, `#${a.seq}`), el('td', {}, a.kind));
    for (const name of ['canonical JSON', 'hash', 'fields', 'link', 'signature']) row.append(cell(name));
    tbody.append(row);
  }
  table.append(tbody);
  const summary = failed
    ? el('p', { class: 'refusal', role: 'alert' }, `FAILED: ${failed} of ${artifacts.length} artifacts do not verify; the evidence was altered after it was sealed.`)
    : el('p', { class: 'verified' }, `Verified: ${artifacts.length} artifacts — canonical form, SHA-256 hash, chain link and Ed25519 signature each checked in this browser against ${keys.size} published key${keys.size === 1 ? '' : 's'}.`);
  out.replaceChildren(summary, table);
}

const section = document.getElementById('evidence');
const button = document.getElementById('verify');
const out = document.getElementById('verify-result');
if (section && button && out) {
  button.disabled = false;
  button.addEventListener('click', () => {
    button.disabled = true;
    verify(section, out)
      .catch((err) => out.replaceChildren(el('p', { class: 'refusal', role: 'alert' }, `Could not verify: ${err.message}`)))
      .finally(() => (button.disabled = false));
  });
}
