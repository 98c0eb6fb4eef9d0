// Batching and delivery.
//
// Events are serialised once, when queued, and kept as JSON strings: the
// queue is bounded by count (maxQueueEvents) and by characters, and what
// does not fit is counted and reported in the next batch's `dropped`.
// Batches go out one at a time (so `seq` stays in order), gzip-compressed
// with CompressionStream when the browser has it, and are retried with
// exponential backoff on network errors and 5xx answers only; a 503 or 429
// that says when to come back (Retry-After) is retried then, with the queue
// kept, however often the server says so. When the page
// is hidden the queue leaves synchronously through sendBeacon, uncompressed
// (compression is asynchronous and an unloading page does not wait).

import { NativePromise, toJson } from './util.js';

// A full snapshot of a very large page (300,000 nodes) still fits, within
// the server's default 25 MB cap on a decoded body.
const MAX_EVENT_CHARS = 16000000;
const MAX_QUEUE_CHARS = 20000000;
const MAX_BATCH_EVENTS = 500;
const MAX_BATCH_CHARS = 1000000;
// sendBeacon and keepalive fetches share a 64 KiB in-flight budget.
const BEACON_CHARS = 60000;
const MAX_TRIES = 5;
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;
// a server asking for more than this is asked again after this
const MAX_RETRY_AFTER_MS = 600000;

const OK = 0;
const RETRY = 1;
const FAIL = 2;

// what push() did with an event
export const QUEUED = 1;
export const DROPPED = 0;
export const TOO_LARGE = -1;

function sleep(ms) {
  return new NativePromise((resolve) => setTimeout(resolve, ms));
}

// Taken when the recorder starts: a page that later replaces or removes
// window.fetch does not take delivery away.
const pageFetch = typeof window.fetch === 'function' ? window.fetch : null;

/**
 * Milliseconds a Retry-After value asks for (seconds or an HTTP date), at
 * least a second and at most MAX_RETRY_AFTER_MS; -1 when there is none to read.
 */
function retryAfterMs(value, now) {
  if (!value) return -1;
  const text = String(value).trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (ms !== ms) return -1; // NaN: not a date either
  return Math.min(Math.max(ms, FIRST_DELAY_MS), MAX_RETRY_AFTER_MS);
}

/** POST ``body``; resolves to [status, Retry-After], rejects on a network error. */
async function send(url, body, headers, keepalive) {
  if (pageFetch) {
    const response = await pageFetch.call(window, url, {
      method: 'POST',
      body,
      headers,
      keepalive,
    });
    return [response.status, response.headers.get('Retry-After')];
  }
  // no fetch at all (removed by the page): the older API does the same job
  return new NativePromise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    for (const name of Object.keys(headers)) xhr.setRequestHeader(name, headers[name]);
    xhr.onload = () => resolve([xhr.status, xhr.getResponseHeader('Retry-After')]);
    xhr.onerror = xhr.ontimeout = xhr.onabort = reject;
    xhr.send(body);
  });
}

async function gzip(text) {
  if (typeof CompressionStream !== 'function') return null;
  try {
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (_error) {
    return null;
  }
}

function withQuery(url, query) {
  return url + (url.indexOf('?') < 0 ? '?' : '&') + query;
}

/**
 * ``ids`` gives the current window id and the next batch number;
 * ``onRecovered`` runs after a batch that reported drops was delivered.
 */
export function createTransport(cfg, ids, onRecovered) {
  let queue = [];
  let queuedChars = 0;
  let dropped = 0;
  let draining = null;
  // the batch being delivered; `maybeDelivered` is set while a request for
  // it is out and after a network error (the server may have stored it)
  let waiting = null;
  let stopped = true;

  function push(event, sessionId) {
    if (stopped) return DROPPED;
    let json;
    try {
      json = toJson(event);
    } catch (_error) {
      dropped += 1;
      return DROPPED;
    }
    if (json.length > MAX_EVENT_CHARS) {
      dropped += 1;
      return TOO_LARGE;
    }
    if (queue.length >= cfg.maxQueueEvents || queuedChars + json.length > MAX_QUEUE_CHARS) {
      dropped += 1;
      return DROPPED;
    }
    queue.push({ json, sid: sessionId });
    queuedChars += json.length;
    if (queue.length >= cfg.flushEventThreshold) flush();
    return QUEUED;
  }

  /** How many leading events form one batch: same session, within the limits. */
  function batchLength(maxChars) {
    const sid = queue[0].sid;
    let n = 0;
    let size = 0;
    while (n < queue.length && n < MAX_BATCH_EVENTS && queue[n].sid === sid) {
      const next = size + queue[n].json.length;
      if (n > 0 && next > maxChars) break;
      size = next;
      n += 1;
    }
    return { n, size };
  }

  function takeBatch(maxChars) {
    const { n, size } = batchLength(maxChars);
    const items = queue.splice(0, n);
    queuedChars -= size;
    const reported = dropped;
    dropped = 0;
    const json =
      '{"v":1,"session_id":' +
      toJson(items[0].sid) +
      ',"window_id":' +
      toJson(ids.windowId()) +
      ',"seq":' +
      ids.nextSeq() +
      ',"sent_at":' +
      Date.now() +
      ',"dropped":' +
      reported +
      ',"events":[' +
      items.map((item) => item.json).join(',') +
      ']}';
    return {
      json,
      gz: null,
      items,
      size,
      dropped: reported,
      tries: 0,
      maybeDelivered: false,
      retryAfter: -1,
    };
  }

  function putBack(batch) {
    queue = batch.items.concat(queue);
    queuedChars += batch.size;
    dropped += batch.dropped;
  }

  async function post(batch) {
    const headers = { 'Content-Type': 'application/json' };
    if (batch.gz) headers['Content-Encoding'] = 'gzip';
    const body = batch.gz || batch.json;
    const size = batch.gz ? batch.gz.byteLength : batch.json.length;
    batch.maybeDelivered = true;
    batch.retryAfter = -1;
    try {
      // a keepalive request survives the page unloading, within the budget
      const [status, retryAfter] = await send(cfg.endpoint, body, headers, size <= BEACON_CHARS);
      if (status >= 200 && status < 300) return OK;
      if (status === 503 || status === 429) {
        // busy, or this client over its rate: come back when it says
        batch.retryAfter = retryAfterMs(retryAfter, Date.now());
      } else if (status < 500) {
        return FAIL;
      }
      batch.maybeDelivered = false; // the server answered: it did not store it
      return RETRY;
    } catch (_error) {
      // Unknown fate: Chrome also rejects keepalive fetches of an unloading
      // page while the request itself still reaches the server.
      return RETRY;
    }
  }

  async function drain() {
    while (!stopped) {
      if (!waiting) {
        if (!queue.length) return;
        waiting = takeBatch(MAX_BATCH_CHARS);
        const batch = waiting;
        batch.gz = await gzip(batch.json);
        if (waiting !== batch) continue; // a beacon delivered it meanwhile
      }
      const batch = waiting;
      const outcome = await post(batch);
      if (waiting !== batch) continue;
      if (outcome === RETRY && !stopped && batch.retryAfter >= 0) {
        // the server said when: not a failed try, and the queue is kept
        await sleep(batch.retryAfter);
        continue;
      }
      if (outcome === RETRY && !stopped && ++batch.tries < MAX_TRIES) {
        await sleep(Math.min(FIRST_DELAY_MS * 2 ** (batch.tries - 1), MAX_DELAY_MS));
        continue;
      }
      waiting = null;
      if (outcome !== OK) {
        dropped += batch.items.length + batch.dropped;
      } else if (batch.dropped && onRecovered) {
        onRecovered();
      }
    }
  }

  /** Send everything queued; resolves when the queue is empty or delivery gave up. */
  function flush() {
    if (!draining) {
      draining = drain()
        .catch(() => {})
        .then(() => {
          draining = null;
        });
    }
    return draining;
  }

  function beacon(body, compressed) {
    if (!navigator.sendBeacon) return false;
    const url = compressed ? withQuery(cfg.endpoint, 'encoding=gzip') : cfg.endpoint;
    try {
      // text/plain keeps the beacon a simple request (no CORS preflight)
      const payload = compressed ? new Blob([body], { type: 'text/plain' }) : body;
      return navigator.sendBeacon(url, payload);
    } catch (_error) {
      return false;
    }
  }

  /** Hand the queue to sendBeacon now (page hidden or unloading). */
  function beaconAll() {
    if (stopped) return;
    // a batch that may already be stored is left to the retries, never duplicated
    if (waiting && !waiting.maybeDelivered) {
      const batch = waiting;
      const body = batch.gz || batch.json;
      const size = batch.gz ? batch.gz.byteLength : batch.json.length;
      if (size <= BEACON_CHARS && beacon(body, !!batch.gz)) waiting = null;
    }
    while (queue.length && queue[0].json.length <= BEACON_CHARS) {
      const batch = takeBatch(BEACON_CHARS);
      if (!beacon(batch.json, false)) {
        putBack(batch);
        break;
      }
    }
    // whatever did not fit goes the normal way, if the page lives on
    if (queue.length || waiting) flush();
  }

  function start() {
    stopped = false;
    // Find the browser's JSON.stringify now, before rrweb watches the DOM
    // (a replaced one is looked up in a throwaway frame).
    toJson(null);
  }

  /** Stop and discard everything not yet sent (opt-out, sampling). */
  function stop() {
    stopped = true;
    queue = [];
    queuedChars = 0;
    dropped = 0;
    waiting = null;
  }

  return { push, flush, beaconAll, start, stop };
}
