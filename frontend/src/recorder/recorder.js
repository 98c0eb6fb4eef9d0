// The recorder: rrweb plus our captures feeding one event pipeline, with the
// session bookkeeping, privacy gates and the public operations behind
// window.Sentiero.

import { record } from '@rrweb/record';
import { EventType, IncrementalSource } from '@rrweb/types';
import { OVER, WARN, createBudget } from './budget.js';
import { installCaptures, pageMeta } from './captures.js';
import { hasOptOutCookie, privacySignal } from './consent.js';
import { capConsoleEvent } from './console-cap.js';
import { extension } from './extensions.js';
import { announceOptOut } from './optout.js';
import { buildRecordOptions } from './privacy.js';
import { makeRedact } from './redact.js';
import { installRoutes } from './routes.js';
import { CHANGED, IDLE, createSessions } from './session.js';
import {
  TAG_CUSTOM,
  TAG_IDENTIFY,
  TAG_META,
  TAG_MUTATION_WARNING,
  TAG_RECORDING_PAUSED,
} from './tags.js';
import { TOO_LARGE, createTransport } from './transport.js';
import { NativePromise, cap, cleanProps, deleteCookie, guard, writeCookie } from './util.js';

const { FullSnapshot: FULL_SNAPSHOT, IncrementalSnapshot: INCREMENTAL, Meta: META } = EventType;
const { Custom: CUSTOM, Plugin: PLUGIN } = EventType;
const MUTATION = IncrementalSource.Mutation;
// IncrementalSource values that mean a person is using the page.
const ACTIVITY_SOURCES = [
  IncrementalSource.MouseMove,
  IncrementalSource.MouseInteraction,
  IncrementalSource.Scroll,
  IncrementalSource.Input,
  IncrementalSource.TouchMove,
  IncrementalSource.Drag,
];
const MAX_RECOVERY_CHECKOUTS = 3;
const OPT_OUT_MAX_AGE = 365 * 24 * 3600;

export function createRecorder(cfg) {
  const sessions = createSessions(cfg);
  const transport = createTransport(cfg, sessions, guard(recoverFromDrops));
  const consoleExt = cfg.captureConsole ? extension('console') : null;
  let active = false;
  let stopRrweb = null;
  let optedOut = false;
  let blockedBy = null;
  let installed = false;
  let listenRoutes = null;
  let timer = null;
  let metaPending = false;
  let awaitingSnapshot = false;
  let identity = null;
  let recoveries = 0;
  // this page's recording was stopped for good (mutation storm)
  let paused = false;
  // route changes are reported once the page's snapshot is out (its Meta
  // event already carries the URL the page started on)
  let snapshotSent = false;
  let pageUrl = null; // the URL of the last page view recorded
  const budget = createBudget(cfg.mutationLimit, cfg.mutationWarning);
  const redact = makeRedact(cfg.redact);

  /** Every event, from rrweb or from us, goes through here. */
  function accept(event, isCheckout, byUser) {
    if (!active || paused) return;
    // A periodic or recovery snapshot is not a page view (a new session's or
    // a page restored from the back/forward cache is: metaPending says so).
    if (event.type === META) {
      if (isCheckout && !metaPending) event.data.checkout = true;
      pageUrl = event.data.href;
    }
    const activity =
      byUser === true ||
      (event.type === INCREMENTAL && ACTIVITY_SOURCES.indexOf(event.data && event.data.source) >= 0);
    const state = sessions.touch(Date.now(), activity);
    if (state === IDLE) return;
    if (state === CHANGED) {
      startNewSession();
      if (!active) return;
    }
    if (awaitingSnapshot) {
      // incremental events cannot be replayed before the new session's snapshot
      if (event.type === INCREMENTAL) return;
      if (event.type === FULL_SNAPSHOT) awaitingSnapshot = false;
    }
    if (event.type === PLUGIN) capConsoleEvent(event, cfg.consoleMaxLength);
    if (redact) redact(event);
    let spent = null;
    // Our click and field events name the elements (clicks.js): the mark
    // tells the server it need not read the nodes of this snapshot or change.
    if (event.type === FULL_SNAPSHOT) event.data.sentiero = 1;
    if (event.type === INCREMENTAL && event.data.source === MUTATION) {
      // a same-origin frame's document arrives as such a change: it stays
      // unmarked, as clicks inside frames are not heard here
      if (event.data.adds.length && !event.data.isAttachIframe) event.data.sentiero = 1;
      spent = budget.spend(event);
      if (spent === OVER) {
        return pauseRecording({ reason: 'mutation_limit', mutations: budget.level() });
      }
    }
    if (transport.push(event, sessions.sessionId()) === TOO_LARGE && event.type === FULL_SNAPSHOT) {
      // nothing after it could be replayed, and a new snapshot would be as large
      return pauseRecording({ reason: 'snapshot_too_large' });
    }
    if (event.type === FULL_SNAPSHOT) {
      snapshotSent = true;
      setTimeout(guard(afterSnapshot), 0);
    }
    if (spent === WARN) emitCustom(TAG_MUTATION_WARNING, { mutations: budget.level() });
  }

  /** Stop this page's recording for good (the next page starts afresh). */
  function pauseRecording(why) {
    emitCustom(TAG_RECORDING_PAUSED, why);
    paused = true;
    const halt = stopRrweb;
    stopRrweb = null;
    if (halt) guard(halt)();
    transport.flush();
  }

  function emitRoute(tag, payload) {
    // nor when a snapshot taken meanwhile (on load, a new session) has the URL
    if (snapshotSent && !awaitingSnapshot && payload.url !== pageUrl) {
      pageUrl = payload.url;
      emitCustom(tag, payload);
    }
  }

  function emitCustom(tag, payload, byUser) {
    accept({ type: CUSTOM, data: { tag, payload }, timestamp: Date.now() }, false, byUser);
  }

  /** After a full snapshot: the page-start events, then send the snapshot promptly. */
  function afterSnapshot() {
    if (!active) return;
    if (metaPending) {
      metaPending = false;
      if (cfg.captureMetadata) emitCustom(TAG_META, pageMeta());
    }
    transport.flush();
  }

  function startNewSession() {
    sessions.publish();
    if (!sessions.sampled()) {
      transport.beaconAll(); // what the previous session still had queued
      stop();
      return;
    }
    awaitingSnapshot = true;
    metaPending = true;
    if (identity) emitCustom(TAG_IDENTIFY, identity);
    setTimeout(guard(takeCheckout), 0);
  }

  function takeCheckout() {
    if (active && stopRrweb) record.takeFullSnapshot(true);
  }

  function recoverFromDrops() {
    if (active && stopRrweb && recoveries < MAX_RECOVERY_CHECKOUTS) {
      recoveries += 1;
      takeCheckout();
    }
  }

  function tick() {
    if (hasOptOutCookie(cfg)) {
      // another tab opted out: stop here too
      optedOut = true;
      stop();
      return;
    }
    transport.flush();
  }

  function install() {
    if (installed) return;
    installed = true;
    const vitals = cfg.captureWebVitals && extension('vitals');
    if (vitals) vitals(emitCustom, sendNowIfHidden, guard);
    listenRoutes = installRoutes(emitRoute);
    watchReopen();
    listen();
  }

  /** Our listeners on the window and the document. */
  function listen() {
    installCaptures(cfg, emitCustom);
    listenRoutes();
    // A Content-Security-Policy that leaves our endpoint out of connect-src:
    // nothing can be delivered, so stop recording rather than retry forever.
    document.addEventListener(
      'securitypolicyviolation',
      guard((event) => {
        if (
          active &&
          event.disposition !== 'report' && // a report-only policy lets requests through
          event.effectiveDirective === 'connect-src' &&
          // the blocked URL, or only its origin when cross-origin
          event.blockedURI.indexOf(new URL(cfg.endpoint).origin) === 0
        ) {
          blockedBy = 'csp';
          stop();
        }
      }),
    );
    const leave = guard(() => {
      if (active) transport.beaconAll();
    });
    window.addEventListener('pagehide', leave);
    // after leave(): its beacons still number batches from this page
    window.addEventListener('pagehide', guard(() => sessions.setOpen(false)));
    document.addEventListener(
      'visibilitychange',
      guard(() => {
        if (document.visibilityState === 'hidden') leave();
        else if (active) sessions.publish(); // the cookies follow the tab in front
      }),
    );
    window.addEventListener(
      'pageshow',
      guard((event) => {
        if (event.persisted) sessions.setOpen(true);
        if (event.persisted && active) {
          // back from the back/forward cache: a new page view of the same document
          metaPending = true;
          takeCheckout();
        }
      }),
    );
  }

  // document.open() (or document.write() after load) replaces the page: the
  // browser drops every listener of the window and the document, and rrweb
  // cannot record nodes added straight under the document. Start again on
  // the new page: our listeners, then a fresh snapshot.
  function watchReopen() {
    let root = document.documentElement;
    const replaced = guard(() => {
      const now = document.documentElement;
      if (!now || now === root) return;
      root = now;
      setTimeout(guard(reopened), 0);
    });
    new MutationObserver(replaced).observe(document, { childList: true });
  }

  function reopened() {
    listen();
    if (!active || paused || !stopRrweb) return;
    const halt = stopRrweb;
    stopRrweb = null;
    guard(halt)();
    metaPending = true;
    startRrweb();
  }

  function sendNowIfHidden() {
    if (active && document.visibilityState === 'hidden') transport.beaconAll();
  }

  function start() {
    if (active || optedOut || blockedBy) return;
    sessions.begin(Date.now());
    sessions.publish();
    if (!sessions.sampled()) return;
    active = true;
    metaPending = true;
    awaitingSnapshot = false;
    transport.start();
    install();
    timer = setInterval(guard(tick), cfg.flushIntervalMs);
    startRrweb();
  }

  function startRrweb() {
    const plugins = consoleExt ? [consoleExt(cfg.consoleMaxLength, guard)] : [];
    stopRrweb = record(buildRecordOptions(cfg, guard(accept), plugins)) || null;
    if (!stopRrweb) stop();
  }

  function stop() {
    active = false;
    if (timer) clearInterval(timer);
    timer = null;
    const halt = stopRrweb;
    stopRrweb = null;
    if (halt) guard(halt)();
    transport.stop();
  }

  function boot() {
    blockedBy = privacySignal(cfg);
    if (blockedBy) return;
    if (hasOptOutCookie(cfg)) {
      optedOut = true;
      return;
    }
    start();
  }

  return {
    boot,
    track(name, properties) {
      if (typeof name !== 'string' || !name) return;
      const props = cleanProps(properties, 50, 1000);
      emitCustom(TAG_CUSTOM, { name: cap(name, 200), properties: props }, true);
    },
    identify(userId, traits) {
      if ((typeof userId !== 'string' && typeof userId !== 'number') || userId === '') return;
      identity = { user_id: cap(userId, 200), traits: cleanProps(traits, 50, 1000) };
      emitCustom(TAG_IDENTIFY, identity, true);
    },
    optOut() {
      const announce = !optedOut && cfg.userOptOut ? sessions.sessionId() : null;
      optedOut = true;
      identity = null;
      stop();
      sessions.forget();
      if (cfg.userOptOut) writeCookie(cfg.optOutCookieName, '1', OPT_OUT_MAX_AGE);
      if (announce) announceOptOut(cfg, announce);
    },
    optIn() {
      optedOut = false;
      deleteCookie(cfg.optOutCookieName);
      start();
    },
    isOptedOut() {
      return optedOut || hasOptOutCookie(cfg);
    },
    flush() {
      return active ? transport.flush() : NativePromise.resolve();
    },
    sessionId() {
      return active ? sessions.sessionId() : null;
    },
    windowId() {
      return active ? sessions.windowId() : null;
    },
  };
}
