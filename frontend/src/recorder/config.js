// The configuration the server bakes into recorder.js as window.__SENTIERO_CONFIG__.
// Every value is checked: a missing or malformed key falls back to its default.

const DEFAULTS = {
  flushIntervalMs: 10000,
  flushEventThreshold: 50,
  maxQueueEvents: 5000,
  crossTabSessions: true,
  sessionIdleTimeoutMs: 6 * 3600 * 1000,
  sessionMaxAgeMs: 7 * 24 * 3600 * 1000,
  sampleRate: 1,
  captureMetadata: false,
  captureErrors: false,
  trackNavigation: false,
  trackCustomEvents: false,
  trackForms: false,
  captureWebVitals: false,
  captureConsole: false,
  consoleMaxLength: 1000,
  userOptOut: false,
  optOutCookieName: 'sentiero_optout',
  respectGpc: true,
  respectDnt: true,
  mutationLimit: 10000,
  mutationWarning: 750,
};

const POSITIVE = [
  'flushIntervalMs',
  'flushEventThreshold',
  'maxQueueEvents',
  'sessionIdleTimeoutMs',
  'sessionMaxAgeMs',
  'consoleMaxLength',
  'mutationLimit',
  'mutationWarning',
];

function isPlainObject(value) {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

/** Where batches go: the configured endpoint, else `events` beside recorder.js. */
function endpointFor(raw, scriptSrc) {
  const base = scriptSrc || location.href;
  try {
    if (typeof raw === 'string' && raw) return new URL(raw, base).href;
    if (scriptSrc) return new URL('events', scriptSrc).href;
  } catch (_error) {
    // fall through to the default mount
  }
  return new URL('/sentiero/events', location.href).href;
}

export function readConfig(raw, scriptSrc) {
  const source = isPlainObject(raw) ? raw : {};
  const cfg = {};
  for (const key of Object.keys(DEFAULTS)) {
    const fallback = DEFAULTS[key];
    const value = source[key];
    cfg[key] = typeof value === typeof fallback ? value : fallback;
  }
  for (const key of POSITIVE) {
    if (!(cfg[key] >= 1) || !isFinite(cfg[key])) cfg[key] = DEFAULTS[key];
  }
  if (!(cfg.sampleRate >= 0 && cfg.sampleRate <= 1)) cfg.sampleRate = DEFAULTS.sampleRate;
  if (!cfg.optOutCookieName || !/^[A-Za-z0-9_.-]+$/.test(cfg.optOutCookieName)) {
    cfg.optOutCookieName = DEFAULTS.optOutCookieName;
  }
  cfg.rrweb = isPlainObject(source.rrweb) ? source.rrweb : {};
  cfg.redact = source.redact;
  cfg.endpoint = endpointFor(source.endpoint, scriptSrc);
  return cfg;
}
