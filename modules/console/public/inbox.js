// Keeps the inbox current: the server says "changed" (server-sent events, woken by Postgres
// NOTIFY) and the rows are read again, rendered by the server like the first time.
const rows = document.getElementById('inbox-rows');
const status = document.getElementById('inbox-status');

async function refresh() {
  const res = await fetch('/console/inbox/rows', { credentials: 'same-origin', headers: { accept: 'text/html' } });
  if (res.redirected || res.status === 401) {
    status.textContent = 'Your session has ended; reload to sign in again.';
    return;
  }
  if (!res.ok) return;
  const template = document.createElement('template');
  template.innerHTML = await res.text();
  rows.replaceChildren(template.content);
  status.textContent = `Updated at ${new Date().toLocaleTimeString()}.`;
}

if (rows && status && 'EventSource' in window) {
  const events = new EventSource('/console/events');
  events.addEventListener('changed', () => void refresh());
  // The session ended (signed out, idle, expired): the server closed the stream; stay closed.
  events.addEventListener('ended', () => {
    events.close();
    status.textContent = 'Your session has ended; reload to sign in again.';
    delete document.body.dataset.live;
  });
  // Newer tabs of this session took the live updates (a session keeps a few streams, the
  // newest): stay closed, or each reconnect would take one back from another tab in turn.
  events.addEventListener('replaced', () => {
    events.close();
    status.textContent = 'Live updates moved to your newer console tabs; reload to update this one again.';
    delete document.body.dataset.live;
  });
  events.addEventListener('open', () => {
    status.textContent = 'Live: updates by itself when something changes.';
    document.body.dataset.live = 'true';
  });
}
