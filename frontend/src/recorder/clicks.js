// What was clicked and which field was used, named in the browser: the
// server would otherwise have to read every snapshot and mutation to learn
// the element behind an rrweb node id, and only the browser knows an
// element's box at click time. Only what a snapshot keeps of an element is
// read (tag, id, name, first class): never a value or a text, nothing of a
// blocked element (rrweb records no interaction with those either).

import { record } from '@rrweb/record';
import { matches } from './privacy.js';
import { TAG_CLICK, TAG_FIELD } from './tags.js';
import { listen } from './util.js';

// The same rules as the analytics collector's (facts.py): a click counts for
// the nearest link, button, field, label, summary or element with an id or role.
const TARGET = /^(a|button|input|select|textarea|label|summary)$/;
const FIELD = /^(input|select|textarea)$/;

const tagOf = (el) => el.tagName.toLowerCase();
const attr = (el, name) => el.getAttribute(name) || '';

export function selectorOf(el) {
  const tag = tagOf(el);
  const id = attr(el, 'id');
  if (id) return tag + '#' + id.slice(0, 60);
  const name = attr(el, 'name');
  if (name && FIELD.test(tag)) return tag + '[name="' + name.slice(0, 60) + '"]';
  const cls = attr(el, 'class').trim().split(/\s+/)[0];
  return cls ? tag + '.' + cls.slice(0, 60) : tag;
}

/** The nearest target at or above ``el``, out of shadow roots too; else ``el``. */
function targetOf(el) {
  for (let n = el; n; n = n.parentNode || (n.nodeType === 11 ? n.host : null)) {
    if (n.nodeType === 1 && (TARGET.test(tagOf(n)) || attr(n, 'id') || attr(n, 'role'))) return n;
  }
  return el;
}

export function installClicks(cfg, emit) {
  const rr = cfg.rrweb;
  const blockClass = typeof rr.blockClass === 'string' ? rr.blockClass : 'rr-block';
  const interactions = (rr.sampling || {}).mouseInteraction;
  // what rrweb leaves out (sampling), or records nothing of, we name nothing of
  const recorded = (kind) => interactions !== false && !(interactions && interactions[kind] === false);
  // the node rrweb reports: the innermost, inside open shadow roots too
  const origin = (event) => {
    const el = event.composedPath()[0];
    return el && el.nodeType === 1 && !matches(el, rr.blockSelector) && !matches(el, '.' + blockClass)
      ? el
      : null;
  };
  if (recorded('Click')) {
    listen(window, 'click', (event) => {
      const el = origin(event);
      if (!el) return;
      const target = targetOf(el);
      const box = target.getBoundingClientRect();
      const x = event.clientX - box.left;
      const y = event.clientY - box.top;
      const payload = { id: record.mirror.getId(el), sel: selectorOf(target) };
      // keyboard and scripted clicks have no position (detail 0)
      if (event.detail && x >= 0 && y >= 0 && x <= box.width && y <= box.height && box.width && box.height) {
        payload.x = Math.round(x);
        payload.y = Math.round(y);
        payload.w = Math.round(box.width);
        payload.h = Math.round(box.height);
      }
      emit(TAG_CLICK, payload);
    });
  }
  const field = (event) => {
    const el = origin(event);
    if (el && FIELD.test(tagOf(el))) emit(TAG_FIELD, { id: record.mirror.getId(el), sel: selectorOf(el) });
  };
  if (recorded('Focus')) listen(window, 'focus', field);
  // a change without focus: autofill, or a checkbox clicked in Safari
  listen(window, 'change', field);
}
