// Entry point of recorder.js. The server serves this bundle after a line
// setting window.__SENTIERO_CONFIG__, so the tag needs no inline setup.

import { installApi } from './api.js';
import { readConfig } from './config.js';
import { createRecorder } from './recorder.js';

/** The recorder of a same-origin page above this frame, if one has booted
 * or is about to: such a page records this frame inside its own recording. */
function recorderAbove(src) {
  try {
    for (let w = window; w !== w.parent; ) {
      const above = w.parent;
      w = above;
      if (above.Sentiero && above.Sentiero.version) return above.Sentiero;
      // The page's tag may be deferred, and this frame's script run first:
      // the same script in the page's document will record this frame. Its
      // API is the page's, once there.
      if (src && pendingIn(above.document, src)) {
        Object.defineProperty(window, 'Sentiero', {
          configurable: true,
          get: () => above.Sentiero,
          set() {}, // page code assigning it must not throw in strict mode
        });
        return true;
      }
    }
  } catch (_error) {
    // a cross-origin ancestor: this frame records on its own
  }
  return null;
}

function pendingIn(doc, src) {
  const scripts = doc.getElementsByTagName('script');
  for (let i = 0; i < scripts.length; i++) {
    if (scripts[i].src === src) return true;
  }
  return false;
}

(function boot() {
  try {
    // a second copy of the script on the page leaves the first in charge
    if (window.Sentiero && window.Sentiero.version) return;
    // In a same-origin frame of a recorded page, rrweb in the page records
    // this frame already: a second recording would duplicate it.
    const script = document.currentScript;
    const recording = recorderAbove(script && script.src);
    if (recording) {
      if (recording !== true) window.Sentiero = recording;
      return;
    }
    const config = readConfig(window.__SENTIERO_CONFIG__, script && script.src);
    const recorder = createRecorder(config);
    installApi(recorder);
    recorder.boot();
  } catch (_error) {
    // never break the host page
  }
})();
