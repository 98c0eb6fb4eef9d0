// Capping what rrweb's console plugin (recorder-console.js) records: each
// message is cut to consoleMaxLength characters in total.

import { cap } from './util.js';

// the plugin's name, as @rrweb/rrweb-plugin-console-record exports it
// (imported from there, the whole plugin would come into the recorder)
const PLUGIN_NAME = 'rrweb/console@1';

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
