// rrweb's console plugin, capped and fenced in.
//
// The plugin's own window "error" listener throws when the thrown value has
// a `stack` that is not a string, so it gets a stand-in window whose
// listeners are guarded. Each recorded
// message is cut to consoleMaxLength characters in total.

import { PLUGIN_NAME, getRecordConsolePlugin } from '@rrweb/rrweb-plugin-console-record';
import { cap, guard } from './util.js';

function fencedWindow(win) {
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

export function consolePlugin(maxLength) {
  const plugin = getRecordConsolePlugin({
    stringifyOptions: { stringLengthLimit: maxLength, numOfKeysLimit: 50, depthOfLimit: 4 },
  });
  const observe = plugin.observer;
  plugin.observer = (callback, win, options) => observe(callback, fencedWindow(win), options);
  return plugin;
}

/** Cap a console plugin event in place; other events are left alone. */
export function capConsoleEvent(event, maxLength) {
  const data = event.data;
  if (!data || data.plugin !== PLUGIN_NAME) return;
  const log = data.payload;
  if (!log || !Array.isArray(log.payload)) return;
  let budget = maxLength;
  log.payload = log.payload.slice(0, 20).map((part) => {
    const text = cap(part, budget);
    budget -= text.length;
    return text;
  });
  if (Array.isArray(log.trace)) log.trace = log.trace.slice(0, 10).map((t) => cap(t, 300));
}
