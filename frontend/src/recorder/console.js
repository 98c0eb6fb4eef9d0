// rrweb's console plugin, fenced in (bundled as recorder-console.js; the
// capping of its messages is in console-cap.js, in the recorder).
//
// The plugin's own window "error" listener throws when the thrown value has
// a `stack` that is not a string, so it gets a stand-in window whose
// listeners are guarded. `guard` comes from the recorder, so this bundle
// carries no copy of the recorder's helpers.

import { getRecordConsolePlugin } from '@rrweb/rrweb-plugin-console-record';

function fencedWindow(win, guard) {
  const wrapped = new Map();
  return {
    console: win.console,
    addEventListener(type, handler, options) {
      const safe = guard(handler);
      wrapped.set(handler, safe);
      win.addEventListener(type, safe, options);
    },
    removeEventListener(type, handler, options) {
      win.removeEventListener(type, wrapped.get(handler) || handler, options);
      wrapped.delete(handler);
    },
  };
}

export function consolePlugin(maxLength, guard) {
  const plugin = getRecordConsolePlugin({
    stringifyOptions: { stringLengthLimit: maxLength, numOfKeysLimit: 50, depthOfLimit: 4 },
  });
  const observe = plugin.observer;
  plugin.observer = (callback, win, options) => observe(callback, fencedWindow(win, guard), options);
  return plugin;
}
