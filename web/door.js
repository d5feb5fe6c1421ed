// The door page (issue 14): a phone or tablet at the door. Online, every scan asks the server (a
// random nonce per scan, the same nonce on a retry, so a retry never admits twice). When the server
// cannot be reached and the organiser allows it, the page admits on its own: it verifies the code's
// Ed25519 signature with the event's public key (WebCrypto), refuses cancelled and already-admitted
// tickets (its own offline admissions too), keeps the scans in localStorage and uploads them when
// the server answers again, showing the conflicts the server reports.

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'boxoffice-door-token';
const PROBE_MS = 5_000;
const REFRESH_MS = 30_000;
const REQUEST_MS = 4_000;

let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
const state = {
  eventId: undefined,
  list: undefined,
  keys: [],
  /** true: WebCrypto verifies signatures; false: this browser cannot (said on the page). */
  canVerify: true,
  checkedIn: new Set(),
  cancelled: new Set(),
  admissions: new Map(),
  queue: [],
  unanswered: new Map(),
  connection: 'connecting',
  admittedHere: 0,
  doorName: undefined,
  conflicts: new Map(),
  notices: [],
  history: [],
};
let chain = Promise.resolve();
let timer;

/** The door id inside the token names its local storage; the secret part is never stored there. */
const doorKey = () => (/^bod_([0-9a-f]{32})_/.exec(token)?.[1] ?? 'door');
const storeKey = (what) => `boxoffice-door:${doorKey()}:${what}`;

function saveQueue() {
  localStorage.setItem(storeKey('queue'), JSON.stringify(state.queue));
}

function loadLocal() {
  try {
    state.queue = JSON.parse(localStorage.getItem(storeKey('queue')) ?? '[]');
  } catch {
    state.queue = [];
  }
  for (const q of state.queue) state.admissions.set(q.ticketId, { at: q.scannedAt, offline: true });
}

class DoorError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

const unreachable = (err) => err instanceof DoorError && (err.status === 0 || err.status === 502 || err.status === 503 || err.status === 504);

async function call(method, path, body, auth = true) {
  const headers = { accept: 'application/json' };
  if (auth) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  let text;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', signal: AbortSignal.timeout(REQUEST_MS) });
    text = await res.text();
  } catch {
    throw new DoorError(0, 'unreachable', 'The server does not answer.');
  }
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (res.ok && data !== undefined) return data;
  throw new DoorError(res.status, data?.error ?? 'http_error', data?.message ?? `The server answered ${res.status}.`, data);
}

// ---- codes ----

function fromBase64url(text) {
  const b64 = text.replaceAll('-', '+').replaceAll('_', '/');
  const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
const uuid = (bytes) => {
  const h = hex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** The ids and signature of a `BO1.` code, unverified; undefined when it is not a code. */
function parseCode(code) {
  if (!code.startsWith('BO1.')) return undefined;
  const body = code.slice(4);
  if (!/^[A-Za-z0-9_-]{128}$/.test(body)) return undefined;
  const bytes = fromBase64url(body);
  if (bytes.length !== 96) return undefined;
  return { ticketId: uuid(bytes.subarray(0, 16)), eventId: uuid(bytes.subarray(16, 32)), signed: bytes.slice(0, 32), signature: bytes.slice(32) };
}

async function importKeys(list) {
  const raws = list.publicKeys?.length ? list.publicKeys : [list.publicKey];
  try {
    if (!globalThis.crypto?.subtle) throw new Error('no WebCrypto (not a secure context)');
    state.keys = await Promise.all(raws.map((raw) => crypto.subtle.importKey('raw', fromBase64url(raw), { name: 'Ed25519' }, false, ['verify'])));
    state.canVerify = true;
  } catch {
    state.keys = [];
    state.canVerify = false;
  }
}

async function genuine(read) {
  for (const key of state.keys) {
    if (await crypto.subtle.verify({ name: 'Ed25519' }, key, read.signature, read.signed)) return true;
  }
  return false;
}

function newNonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_');
}

// ---- the session ----

async function applyList(list) {
  state.list = list;
  if (list.door?.name) state.doorName = list.door.name;
  await importKeys(list);
  state.cancelled = new Set(list.cancelled);
  state.checkedIn = new Set([...list.checkedIn, ...state.admissions.keys()]);
  for (const group of list.conflicts ?? []) state.conflicts.set(group.ticketId, group);
  localStorage.setItem(storeKey('event'), list.eventId);
  // A reload while the network is down still finds the key and the lists.
  localStorage.setItem(storeKey('list'), JSON.stringify(list));
}

async function discoverEvent() {
  const saved = localStorage.getItem(storeKey('event'));
  if (saved) return saved;
  const events = await call('GET', '/events', undefined, false);
  for (const event of events) {
    try {
      await applyList(await call('GET', `/events/${event.id}/door-list`));
      return event.id;
    } catch (err) {
      if (err.code === 'wrong_event' || err.status === 404) continue;
      throw err;
    }
  }
  throw new DoorError(404, 'no_event', 'No event on this server accepts this door token.');
}

function setConnection(next) {
  state.connection = next;
  render();
}

const goOffline = () => setConnection(state.list?.offlineAllowed ? 'offline' : 'not-allowed');

async function refreshNow() {
  if (!state.eventId) return;
  try {
    await applyList(await call('GET', `/events/${state.eventId}/door-list`));
    setConnection('online');
    if (state.queue.length > 0) await syncNow();
  } catch (err) {
    if (unreachable(err)) goOffline();
    else if (err.code === 'door_revoked') setConnection('revoked');
  }
}

function serial(task) {
  const run = chain.then(task);
  chain = run.catch(() => undefined);
  return run;
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(() => serial(refreshNow).finally(schedule), state.connection === 'online' ? REFRESH_MS : PROBE_MS);
}

async function syncNow() {
  while (state.queue.length > 0) {
    const chunk = state.queue.slice(0, 1000);
    let results;
    try {
      ({ results } = await call('POST', `/events/${state.eventId}/checkins/sync`, { scans: chunk.map(({ code, nonce, scannedAt }) => ({ code, nonce, scannedAt })) }));
    } catch (err) {
      if (unreachable(err)) goOffline();
      else state.notices.push(`Could not upload the offline scans: ${err.message}`);
      render();
      return;
    }
    const answered = new Set();
    for (const r of results) {
      answered.add(r.nonce);
      const scan = chunk.find((s) => s.nonce === r.nonce);
      const id = (r.ticketId ?? scan?.ticketId ?? '?').slice(0, 8);
      if (r.outcome === 'conflict') {
        const first = r.firstCheckIn;
        state.notices.push(`CONFLICT ticket ${id}: also admitted${first ? ` at ${first.door.name} ${clock(first.at)}` : ''}; reported to the organiser.`);
      } else if (r.outcome === 'refused') {
        state.notices.push(`Offline scan of ${id} refused by the server: ${r.message ?? r.error}.`);
      }
    }
    state.queue = state.queue.filter((s) => !answered.has(s.nonce));
    saveQueue();
    render();
    if (answered.size === 0) return;
  }
}

async function admitOffline(code, nonce = newNonce()) {
  const read = parseCode(code);
  if (!read) return { kind: 'refused', headline: 'FORGED', detail: 'Not a boxoffice ticket code (malformed or truncated).' };
  if (read.eventId !== state.eventId) return { kind: 'refused', headline: 'OTHER EVENT', detail: 'This code is for another event.' };
  if (state.canVerify && !(await genuine(read))) return { kind: 'refused', headline: 'FORGED', detail: 'The signature does not match: a forged or altered code.' };
  if (state.cancelled.has(read.ticketId)) return { kind: 'refused', headline: 'CANCELLED', detail: `Ticket ${read.ticketId.slice(0, 8)} was cancelled.` };
  if (state.checkedIn.has(read.ticketId)) {
    const first = state.admissions.get(read.ticketId);
    const where = first?.door ?? (first?.offline ? 'this door (offline)' : '');
    return { kind: 'refused', headline: `ALREADY IN${first?.at || where ? ` — ${[clock(first?.at), where].filter(Boolean).join(' ')}` : ''}`, detail: `Ticket ${read.ticketId.slice(0, 8)}` };
  }
  const scannedAt = new Date().toISOString();
  state.queue.push({ code, nonce, scannedAt, ticketId: read.ticketId });
  saveQueue();
  state.checkedIn.add(read.ticketId);
  state.admissions.set(read.ticketId, { at: scannedAt, offline: true });
  state.admittedHere++;
  const unchecked = state.canVerify ? '' : ' · signature NOT checked (this browser cannot verify)';
  return { kind: 'admitted', headline: 'ADMITTED', detail: `Ticket ${read.ticketId.slice(0, 8)} · offline, will sync${unchecked}` };
}

function refusal(err, code) {
  const read = parseCode(code);
  const id = read?.ticketId.slice(0, 8) ?? '';
  switch (err.code) {
    case 'already_checked_in': {
      const first = err.body?.firstCheckIn;
      if (read) {
        state.checkedIn.add(read.ticketId);
        if (first) state.admissions.set(read.ticketId, { at: first.at, door: first.door.name, offline: false });
      }
      return { kind: 'refused', headline: first ? `ALREADY IN — ${clock(first.at)} ${first.door.name}` : 'ALREADY IN', detail: err.message };
    }
    case 'invalid_code':
      return { kind: 'refused', headline: 'FORGED', detail: err.message };
    case 'ticket_cancelled':
      return { kind: 'refused', headline: 'CANCELLED', detail: `Ticket ${id} · ${err.message}` };
    case 'wrong_event':
      return { kind: 'refused', headline: 'OTHER EVENT', detail: err.message };
    case 'ticket_not_found':
      return { kind: 'refused', headline: 'UNKNOWN TICKET', detail: err.message };
    case 'door_revoked':
      setConnection('revoked');
      return { kind: 'refused', headline: 'DOOR REVOKED', detail: err.message };
    default:
      return { kind: 'refused', headline: 'NOT ADMITTED', detail: err.message };
  }
}

async function scanNow(code) {
  if (state.connection === 'offline') return admitOffline(code);
  const nonce = state.unanswered.get(code) ?? newNonce();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const answer = await call('POST', `/events/${state.eventId}/checkins`, { code, nonce });
      state.unanswered.delete(code);
      if (state.connection !== 'online') {
        setConnection('online');
        void serial(refreshNow);
      }
      state.admittedHere++;
      state.doorName = answer.door.name;
      state.checkedIn.add(answer.ticket.id);
      state.admissions.set(answer.ticket.id, { at: answer.at, door: answer.door.name, offline: false });
      return { kind: 'admitted', headline: 'ADMITTED', detail: `Ticket ${answer.ticket.id.slice(0, 8)}` };
    } catch (err) {
      if (!unreachable(err)) {
        state.unanswered.delete(code);
        if (state.connection !== 'online' && state.connection !== 'revoked') setConnection('online');
        return refusal(err, code);
      }
    }
  }
  goOffline();
  schedule();
  if (state.list?.offlineAllowed) return admitOffline(code, nonce);
  state.unanswered.set(code, nonce);
  return { kind: 'refused', headline: 'NOT ADMITTED — OFFLINE', detail: 'The server does not answer and the organiser does not allow offline check-in.' };
}

function scan(raw) {
  const code = raw.trim();
  if (!code) return;
  showAnswer({ kind: 'checking', headline: 'CHECKING…', detail: '' });
  void serial(async () => {
    let verdict;
    try {
      verdict = await scanNow(code);
    } catch (err) {
      verdict = { kind: 'refused', headline: 'NOT ADMITTED', detail: String(err?.message ?? err) };
    }
    state.history.unshift({ at: new Date().toISOString(), ...verdict });
    state.history.length = Math.min(state.history.length, 20);
    showAnswer(verdict);
    render();
  });
}

// ---- the page ----

function clock(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function showAnswer(verdict) {
  $('answer').dataset.kind = verdict.kind;
  $('answer-headline').textContent = verdict.headline;
  $('answer-detail').textContent = verdict.detail;
}

const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  online: 'Online',
  offline: 'Offline: admitting on this device, will sync',
  'not-allowed': 'Offline: not allowed by the organiser (nobody can be admitted)',
  revoked: 'This door was revoked by the organiser',
};

function render() {
  $('connection').dataset.state = state.connection;
  $('connection').textContent = CONNECTION_TEXT[state.connection];
  $('event-title').textContent = `${state.list?.eventName ?? '…'}${state.doorName ? ` · ${state.doorName}` : ''}`;
  const parts = [`Admitted here: ${state.admittedHere}`, `checked in: ${state.checkedIn.size}`];
  if (state.queue.length > 0) parts.push(`${state.queue.length} to sync`);
  $('counts').textContent = parts.join(' · ');
  $('offline-note').textContent = !state.list
    ? ''
    : !state.list.offlineAllowed
      ? 'Offline check-in is off for this event: without the server nobody is admitted.'
      : state.canVerify
        ? 'Offline check-in is allowed: signatures are checked on this device.'
        : 'Offline check-in is allowed, but this browser cannot check signatures (WebCrypto Ed25519 unavailable; pages need HTTPS or localhost): offline it admits any well-formed code the door list does not refuse.';
  $('history').replaceChildren(
    ...state.history.map((h) => {
      const li = document.createElement('li');
      li.className = h.kind === 'admitted' ? 'ok' : 'no';
      li.textContent = `${clock(h.at)} ${h.headline} ${h.detail}`;
      return li;
    }),
  );
  const issues = [
    ...[...state.conflicts.values()].map((g) => `CONFLICT ticket ${g.ticketId.slice(0, 8)}: ${g.scans.map((s) => `${s.door.name} ${clock(s.at)}${s.offline ? ' (offline)' : ''}`).join(' vs ')}`),
    ...state.notices,
  ];
  $('issues-panel').hidden = issues.length === 0;
  $('issues').replaceChildren(
    ...issues.map((text) => {
      const li = document.createElement('li');
      li.className = 'no';
      li.textContent = text;
      return li;
    }),
  );
}

async function start() {
  $('token-status').textContent = 'Checking the token…';
  loadLocal();
  try {
    state.eventId = await discoverEvent();
    await refreshNow();
    if (!state.list) {
      const cached = localStorage.getItem(storeKey('list'));
      if (!cached) throw new DoorError(0, 'unreachable', 'The server does not answer, and this device has no door list yet.');
      await applyList(JSON.parse(cached));
      goOffline();
    }
  } catch (err) {
    $('token-status').textContent = err.status === 401 ? 'The server does not accept this door token.' : err.message;
    $('token-panel').hidden = false;
    $('door-panel').hidden = true;
    return;
  }
  $('token-status').textContent = '';
  $('token-panel').hidden = true;
  $('door-panel').hidden = false;
  render();
  schedule();
  $('code').focus();
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token').value.trim();
  $('token').value = '';
  sessionStorage.setItem(TOKEN_KEY, token);
  void start();
});
$('forget').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  token = '';
  $('token-status').textContent = 'Forgotten.';
});
$('scan-form').addEventListener('submit', (e) => {
  e.preventDefault();
  scan($('code').value);
  $('code').value = '';
  $('code').focus();
});
window.addEventListener('online', () => void serial(refreshNow));

// ---- camera ----

let camera;

function loadJsQR() {
  if (globalThis.jsQR) return Promise.resolve(globalThis.jsQR);
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = '/assets/vendor/jsQR.js';
    s.onload = () => resolve(globalThis.jsQR);
    s.onerror = () => reject(new Error('could not load the QR decoder'));
    document.head.append(s);
  });
}

async function startCamera() {
  const status = $('camera-status');
  try {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser gives no camera here (pages need HTTPS or localhost)');
    const [decode, stream] = await Promise.all([loadJsQR(), navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false })]);
    const video = $('camera-video');
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    let last = { code: '', at: 0 };
    camera = { stream, stop: false };
    status.textContent = 'Camera on: hold the ticket’s QR code in view.';
    $('camera').textContent = 'Stop camera';
    const tick = () => {
      if (!camera || camera.stop) return;
      if (video.videoWidth > 0) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        ctx.drawImage(video, 0, 0);
        const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
        const found = decode(image.data, image.width, image.height, { inversionAttempts: 'dontInvert' });
        // The same code stays in view for a while: one scan per code every 3 s.
        if (found?.data && (found.data !== last.code || Date.now() - last.at > 3000)) {
          last = { code: found.data, at: Date.now() };
          scan(found.data);
        }
      }
      setTimeout(tick, 150);
    };
    tick();
  } catch (err) {
    status.textContent = `Camera unavailable: ${err.message}. Type the code instead.`;
  }
}

function stopCamera() {
  if (!camera) return;
  camera.stop = true;
  for (const track of camera.stream.getTracks()) track.stop();
  camera = undefined;
  $('camera-video').hidden = true;
  $('camera').textContent = 'Scan with camera';
  $('camera-status').textContent = 'Camera off.';
}

$('camera').addEventListener('click', () => (camera ? stopCamera() : void startCamera()));

if (token) void start();
