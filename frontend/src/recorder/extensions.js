// Opt-in captures that weigh a lot (web-vitals, rrweb's console plugin) ship
// as bundles of their own, recorder-vitals.js and recorder-console.js. The
// server puts one in front of recorder.js only when its setting is on, so a
// page that does not use it never downloads it. Each registers itself here
// before the recorder boots.

const SLOT = '__SENTIERO_EXT__';

export function provide(name, value) {
  const slot = window[SLOT] || (window[SLOT] = {});
  slot[name] = value;
}

/** What the bundle for ``name`` registered, or null when it was not served. */
export function extension(name) {
  const slot = window[SLOT];
  return (slot && slot[name]) || null;
}
