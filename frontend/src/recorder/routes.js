// Page views of single-page apps. A route change made with the History API
// or the URL fragment loads no new document, so rrweb takes no snapshot and
// writes no Meta event: without this a whole SPA visit counts as one page.
//
// pushState/replaceState are wrapped (calls still go to whatever was there
// before, and their errors still reach the caller); popstate and hashchange
// are heard, and so is the Navigation API's currententrychange (routers
// built on navigation.navigate() and intercept() never call pushState). A
// report waits SETTLE_MS, so the app has rendered the route and set its
// title (frameworks do it in effects, after the URL changed), and changes
// within that time (a push then a replace, redirects) make one report. Only
// a real change of URL is reported: replaceState with the same URL is not.
// At most MAX_PER_PAGE are reported per document (pages that rewrite the
// URL on every scroll exist).

import { TAG_PAGE } from './tags.js';
import { cap, guard } from './util.js';

function withoutHash(url) {
  const at = url.indexOf('#');
  return at < 0 ? url : url.slice(0, at);
}

const MAX_PER_PAGE = 1000;
const SETTLE_MS = 100;

export function installRoutes(emit) {
  let last = location.href;
  let reported = 0;
  let pending = null; // the first kind of change since the last report

  const report = guard(() => {
    const kind = pending;
    pending = null;
    const url = location.href;
    if (url === last) return;
    const hashOnly = withoutHash(url) === withoutHash(last);
    last = url;
    if (++reported > MAX_PER_PAGE) return;
    emit(TAG_PAGE, {
      url: cap(url, 2000),
      title: cap(document.title, 500),
      // Back/forward and fragment links both fire popstate: tell them apart by the URL.
      kind: kind || (hashOnly ? 'hash' : 'pop'),
    });
  });

  const changed = guard((kind) => {
    // the settle time starts at the first call that really moved the URL
    if (pending === null && location.href !== last) {
      pending = kind;
      setTimeout(report, SETTLE_MS);
    }
  });

  for (const [name, kind] of [
    ['pushState', 'push'],
    ['replaceState', 'replace'],
  ]) {
    const original = history[name];
    if (typeof original !== 'function') continue;
    history[name] = function sentieroHistory() {
      const result = original.apply(this, arguments);
      changed(kind);
      return result;
    };
  }
  const heard = () => changed('');
  // push and replace keep their name; a traverse, and a fragment change
  // (a "push" to the Navigation API), are told apart by the URL
  const navigated = guard((event) => {
    const kind = event.navigationType;
    const fragment = withoutHash(location.href) === withoutHash(last);
    changed(!fragment && (kind === 'push' || kind === 'replace') ? kind : '');
  });
  const navigation = window.navigation;
  // the listeners, to add again after document.open() dropped them
  return () => {
    window.addEventListener('popstate', heard);
    window.addEventListener('hashchange', heard);
    if (navigation && navigation.addEventListener) {
      navigation.addEventListener('currententrychange', navigated);
    }
  };
}
