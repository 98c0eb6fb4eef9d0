// Entry point of recorder.js. The server serves this bundle after a line
// setting window.__SENTIERO_CONFIG__, so the tag needs no inline setup.

import { installApi } from './api.js';
import { readConfig } from './config.js';
import { createRecorder } from './recorder.js';

function recorderAbove() {
  try {
    for (let w = window; w !== w.parent; ) {
      w = w.parent;
      if (w.Sentiero && w.Sentiero.version) return w.Sentiero;
    }
  } catch (_error) {
    // a cross-origin ancestor: this frame records on its own
  }
  return null;
}

(function boot() {
  try {
    // a second copy of the script on the page leaves the first in charge
    if (window.Sentiero && window.Sentiero.version) return;
    // In a same-origin frame of a recorded page, rrweb in the page records
    // this frame already: a second recording would duplicate it.
    const recording = recorderAbove();
    if (recording) {
      window.Sentiero = recording;
      return;
    }
    const script = document.currentScript;
    const config = readConfig(window.__SENTIERO_CONFIG__, script && script.src);
    const recorder = createRecorder(config);
    installApi(recorder);
    recorder.boot();
  } catch (_error) {
    // never break the host page
  }
})();
