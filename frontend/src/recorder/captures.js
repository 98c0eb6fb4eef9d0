// Opt-in captures from the page: errors, outbound links, declarative
// tracking, form submits, and the page metadata. Each listener is passive,
// guarded, and emits through `emit(tag, payload)`, which does nothing while
// the recorder is not recording. Form values are never read.

import { installClicks } from './clicks.js';
import { matches } from './privacy.js';
import {
  TAG_CUSTOM,
  TAG_ERROR,
  TAG_FORM_SUBMIT,
  TAG_NAVIGATION,
} from './tags.js';
import { cap, guard, listen } from './util.js';

const MAX_ERRORS_PER_PAGE = 100;
const TRACK_ATTR = 'data-sentiero-track-click';
const PROP_PREFIX = 'data-sentiero-track-prop-';
const MAX_PROPS = 20;

function closestFrom(event, selector) {
  const target = event.target;
  return target && target.closest ? target.closest(selector) : null;
}

function absolute(url) {
  try {
    return new URL(url, document.baseURI).href;
  } catch (_error) {
    return '';
  }
}

export function pageMeta() {
  let timezone = '';
  try {
    timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch (_error) {
    // older engines
  }
  return {
    url: cap(location.href, 2000),
    referrer: cap(document.referrer, 2000),
    title: cap(document.title, 500),
    viewport: { width: window.innerWidth, height: window.innerHeight },
    language: cap(navigator.language, 50),
    timezone: cap(timezone, 100),
  };
}

function installErrors(emit) {
  let count = 0;
  // Not capture-phase: window only hears script errors then, not resource loads.
  window.addEventListener(
    'error',
    guard((event) => {
      if (!event.message || ++count > MAX_ERRORS_PER_PAGE) return;
      const error = event.error;
      emit(TAG_ERROR, {
        kind: 'error',
        message: cap(event.message, 1000),
        source: cap(event.filename, 2000),
        line: event.lineno || 0,
        column: event.colno || 0,
        stack: cap(error && error.stack, 4000),
      });
    }),
  );
  window.addEventListener(
    'unhandledrejection',
    guard((event) => {
      if (++count > MAX_ERRORS_PER_PAGE) return;
      const reason = event.reason;
      const isError = reason instanceof Error;
      let message;
      if (isError) message = reason.name + ': ' + reason.message;
      else if (typeof reason === 'string') message = reason;
      else message = Object.prototype.toString.call(reason);
      emit(TAG_ERROR, {
        kind: 'unhandledrejection',
        message: cap(message, 1000),
        source: '',
        line: 0,
        column: 0,
        stack: cap(isError && reason.stack, 4000),
      });
    }),
  );
}

function installNavigation(emit, hiddenText) {
  listen(document, 'click', (event) => {
    const link = closestFrom(event, 'a[href]');
    if (!link) return;
    const href = absolute(link.getAttribute('href'));
    if (!/^https?:/i.test(href) || new URL(href).origin === location.origin) return;
    const text = hiddenText(link) ? '' : (link.textContent || '').replace(/\s+/g, ' ').trim();
    emit(TAG_NAVIGATION, { href: cap(href, 2000), text: cap(text, 200) });
  });
}

function installDeclarative(emit) {
  listen(document, 'click', (event) => {
    const el = closestFrom(event, '[' + TRACK_ATTR + ']');
    const name = el && el.getAttribute(TRACK_ATTR);
    if (!name) return;
    const properties = {};
    let count = 0;
    for (const attr of Array.from(el.attributes)) {
      if (count >= MAX_PROPS) break;
      if (attr.name.indexOf(PROP_PREFIX) === 0 && attr.name.length > PROP_PREFIX.length) {
        properties[attr.name.slice(PROP_PREFIX.length)] = cap(attr.value, 500);
        count += 1;
      }
    }
    emit(TAG_CUSTOM, { name: cap(name, 200), properties });
  });
}

function installForms(emit) {
  listen(document, 'submit', (event) => {
    const form = event.target;
    if (!form || form.tagName !== 'FORM') return;
    // getAttribute: form.id / form.action can be shadowed by fields named "id" / "action"
    const submitter = event.submitter;
    const override = submitter && submitter.getAttribute && submitter.getAttribute('formaction');
    const action = override || form.getAttribute('action');
    emit(TAG_FORM_SUBMIT, {
      form_id: cap(form.getAttribute('id'), 200),
      form_name: cap(form.getAttribute('name'), 200),
      action: cap(action ? absolute(action) : location.href, 2000),
      url: cap(location.href, 2000),
    });
  });
}

export function installCaptures(cfg, emit) {
  const rr = cfg.rrweb;
  const hiddenText = (el) =>
    matches(el, rr.maskTextSelector) ||
    matches(el, rr.blockSelector) ||
    matches(el, '.' + (typeof rr.maskTextClass === 'string' ? rr.maskTextClass : 'rr-mask'));
  installClicks(cfg, emit);
  if (cfg.captureErrors) installErrors(emit);
  if (cfg.trackNavigation) installNavigation(emit, hiddenText);
  if (cfg.trackCustomEvents) installDeclarative(emit);
  if (cfg.trackForms) installForms(emit);
}
