// Tells the server that this visitor opted out, so that the deployment's
// audit log has a record of it. Only the session id travels (as text/plain:
// a simple request, no preflight, no cookies); the server stores nothing
// but the audit record.

// Taken at load, like the transport: a page that later wraps or removes
// window.fetch does not take the notice away.
const pageFetch = typeof window.fetch === 'function' ? window.fetch : null;

/** Where the notice goes: `opt-out` beside the events endpoint. */
export function optOutEndpoint(cfg) {
  try {
    return new URL('opt-out', cfg.endpoint).href;
  } catch (_error) {
    return null;
  }
}

export function announceOptOut(cfg, sessionId) {
  const url = optOutEndpoint(cfg);
  if (!url || !sessionId) return;
  const body = JSON.stringify({ session_id: sessionId });
  try {
    if (pageFetch) {
      pageFetch
        .call(window, url, {
          method: 'POST',
          body,
          headers: { 'Content-Type': 'text/plain' },
          credentials: 'omit',
          keepalive: true,
        })
        .catch(() => {});
    } else if (navigator.sendBeacon) {
      navigator.sendBeacon(url, body);
    }
  } catch (_error) {
    // the opt-out itself already took effect in the page
  }
}
