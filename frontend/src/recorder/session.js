// Session and window ids.
//
// A session lives in localStorage when sessions are shared across tabs
// (sessionStorage otherwise) as {id, started, last, sampled}; a window id
// lives in the tab's sessionStorage with the tab's batch counter. A session
// ends after sessionIdleTimeoutMs without user activity or past
// sessionMaxAgeMs; tabs re-read the shared record at most once a second so
// they follow a session another tab started.
//
// The server takes a second batch with the same (session, window, seq) for
// a repeat and drops it, so a tab's numbers must never be used twice. Two
// ways they could be: a tab opened by window.open() or duplicated gets a
// copy of the tab's sessionStorage, window record included; and a page
// restored from the back/forward cache holds an old counter in memory. So
// the record says whether a page of its tab is open (`open`, cleared at
// pagehide): a page that finds it set at its start is in a copy and takes a
// new window id; and each number is taken past the stored counter.

import { ID_PATTERN, deleteCookie, makeStorage, newId, writeCookie } from './util.js';

const SESSION_KEY = 'sentiero_session';
const WINDOW_KEY = 'sentiero_window';
const SYNC_MS = 1000;

export const SAME = 0;
export const CHANGED = 1;
export const IDLE = 2;

function validSession(s, now) {
  return (
    !!s &&
    typeof s.id === 'string' &&
    ID_PATTERN.test(s.id) &&
    typeof s.started === 'number' &&
    typeof s.last === 'number' &&
    typeof s.sampled === 'boolean' &&
    s.started <= now + 60000
  );
}

export function createSessions(cfg) {
  const shared = makeStorage(cfg.crossTabSessions ? 'localStorage' : 'sessionStorage');
  // Frames share their tab's sessionStorage: a frame keeps its own window
  // id in memory, or it would interleave its batches with the page's.
  const framed = window.top !== window;
  const tab = makeStorage(framed ? null : 'sessionStorage');
  let current = null;
  let win = null;
  let lastSync = 0;

  function expired(s, now) {
    return now - s.last > cfg.sessionIdleTimeoutMs || now - s.started > cfg.sessionMaxAgeMs;
  }

  function read(now) {
    const stored = shared.get(SESSION_KEY);
    return validSession(stored, now) ? stored : null;
  }

  function fresh(now) {
    return { id: newId(), started: now, last: now, sampled: Math.random() < cfg.sampleRate };
  }

  function save(now) {
    shared.set(SESSION_KEY, current);
    lastSync = now;
  }

  /** Resume the stored session or start one; called at each page start. */
  function begin(now) {
    const stored = read(now);
    current = stored && !expired(stored, now) ? stored : fresh(now);
    current.last = now;
    save(now);
    const w = tab.get(WINDOW_KEY);
    const valid =
      w && typeof w.id === 'string' && ID_PATTERN.test(w.id) && w.seq >= 0 && w.open !== true;
    win = valid
      ? { id: w.id, seq: Math.floor(w.seq), open: true }
      : { id: newId(), seq: 0, open: true };
    tab.set(WINDOW_KEY, win);
  }

  /** Catch up with numbers another page of this tab took meanwhile. */
  function catchUp() {
    const stored = tab.get(WINDOW_KEY);
    if (stored && stored.id === win.id && stored.seq > win.seq) win.seq = Math.floor(stored.seq);
  }

  /** The page is going away (pagehide), or coming back from the cache (pageshow). */
  function setOpen(open) {
    if (!win) return;
    catchUp();
    win.open = open;
    tab.set(WINDOW_KEY, win);
  }

  /**
   * Account for an event at ``now``: SAME, CHANGED (another tab moved on, or
   * this activity starts a new session after the old one expired) or IDLE
   * (the session expired and the event is not user activity: drop it).
   */
  function touch(now, activity) {
    let changed = false;
    if (now - lastSync >= SYNC_MS) {
      lastSync = now;
      const stored = read(now);
      if (stored && stored.id !== current.id && !expired(stored, now)) {
        current = stored;
        changed = true;
      } else if (stored && stored.id === current.id && stored.last > current.last) {
        current.last = stored.last;
      }
    }
    if (expired(current, now)) {
      if (!activity) return IDLE;
      current = fresh(now);
      save(now);
      return CHANGED;
    }
    if (activity && now - current.last >= SYNC_MS) {
      current.last = now;
      save(now);
    }
    return changed ? CHANGED : SAME;
  }

  /** The next batch number of this tab; it keeps increasing across pages. */
  function nextSeq() {
    catchUp();
    win.seq += 1;
    tab.set(WINDOW_KEY, win);
    return win.seq;
  }

  /** Cookies let the server link its own records (errors, logs) to the replay. */
  function publish() {
    if (framed) return; // the cookies belong to the tab's page
    if (current && current.sampled) {
      writeCookie('sentiero_sid', current.id);
      writeCookie('sentiero_wid', win.id);
    } else {
      unpublish();
    }
  }

  function unpublish() {
    deleteCookie('sentiero_sid');
    deleteCookie('sentiero_wid');
  }

  /** Forget everything (opt-out): storage records and cookies. */
  function forget() {
    shared.remove(SESSION_KEY);
    tab.remove(WINDOW_KEY);
    unpublish();
    current = null;
    win = null;
  }

  return {
    begin,
    touch,
    nextSeq,
    setOpen,
    publish,
    forget,
    sessionId: () => (current ? current.id : null),
    windowId: () => (win ? win.id : null),
    sampled: () => !!current && current.sampled,
  };
}
