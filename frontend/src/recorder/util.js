// Small helpers shared by the recorder modules. Nothing here may throw into
// the host page: every entry point from the page goes through guard().

export const ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

// The engine's own Promise, whatever the page did to window.Promise.
export const NativePromise = (async () => {})().constructor;

const NATIVE = /\[native code\]/;

function isNative(fn) {
  try {
    return typeof fn === 'function' && NATIVE.test(Function.prototype.toString.call(fn));
  } catch (_error) {
    return false;
  }
}

/**
 * The browser's JSON.stringify even when the page replaced it before we
 * loaded: a fresh realm (a throwaway same-origin frame) still has it.
 */
function nativeStringify() {
  const own = JSON.stringify;
  if (isNative(own)) return own;
  let frame = null;
  try {
    frame = document.createElement('iframe');
    frame.style.display = 'none';
    document.documentElement.appendChild(frame);
    const theirs = frame.contentWindow.JSON.stringify;
    if (isNative(theirs)) return theirs;
  } catch (_error) {
    // no frame allowed: use what the page has
  } finally {
    if (frame && frame.parentNode) frame.parentNode.removeChild(frame);
  }
  return own;
}

let stringify = null;
const PROTOTYPES = [Array.prototype, Object.prototype];

/**
 * JSON text of ``value``, as the browser would write it. Old libraries
 * (Prototype.js and friends) give Array.prototype a toJSON that turns every
 * array into a string, which would garble rrweb's events: such methods are
 * set aside while we serialise. Throws like JSON.stringify (cycles).
 */
export function toJson(value) {
  if (!stringify) stringify = nativeStringify();
  const setAside = [];
  for (const proto of PROTOTYPES) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, 'toJSON');
    if (descriptor && descriptor.configurable && delete proto.toJSON) {
      setAside.push([proto, descriptor]);
    }
  }
  try {
    return stringify(value);
  } finally {
    for (const [proto, descriptor] of setAside) Object.defineProperty(proto, 'toJSON', descriptor);
  }
}

/** Wrap a callback so an exception in our code never reaches the host page. */
export function guard(fn, fallback) {
  return function guarded() {
    try {
      return fn.apply(this, arguments);
    } catch (_error) {
      return fallback;
    }
  };
}

/** A guarded, passive capture-phase listener: it hears the event before the page's own. */
export function listen(target, type, handler) {
  target.addEventListener(type, guard(handler), { capture: true, passive: true });
}

/** 16 random bytes as base64url: 22 characters of [A-Za-z0-9_-]. */
export function newId() {
  // every browser that runs this bundle (ES2018) has getRandomValues
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** ``value`` as a string of at most ``max`` characters ("" for null/undefined). */
export function cap(value, max) {
  let text;
  try {
    text = value == null ? '' : String(value);
  } catch (_error) {
    text = '';
  }
  return text.length > max ? text.slice(0, max) : text;
}

function describe(value) {
  try {
    const json = toJson(value);
    return json === undefined ? String(value) : json;
  } catch (_error) {
    return cap(value, 1000);
  }
}

/**
 * A flat, bounded copy of app-supplied properties: at most ``maxKeys`` keys,
 * primitives kept, anything else turned into capped text. App objects can be
 * huge, circular or hostile; what we send must stay small and serialisable.
 */
export function cleanProps(source, maxKeys, maxLength) {
  const out = {};
  if (!source || typeof source !== 'object') return out;
  const keys = Object.keys(source).slice(0, maxKeys);
  for (const key of keys) {
    const value = source[key];
    const name = cap(key, 100);
    if (value === null || value === undefined) out[name] = null;
    else if (typeof value === 'boolean') out[name] = value;
    else if (typeof value === 'number') out[name] = isFinite(value) ? value : null;
    else if (typeof value === 'string') out[name] = cap(value, maxLength);
    else out[name] = cap(describe(value), maxLength);
  }
  return out;
}

// -- cookies ----------------------------------------------------------------

export function readCookie(name) {
  const parts = document.cookie ? document.cookie.split(';') : [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch (_error) {
        return part.slice(eq + 1).trim();
      }
    }
  }
  return null;
}

export function writeCookie(name, value, maxAgeSeconds) {
  let cookie = name + '=' + encodeURIComponent(value) + '; path=/; SameSite=Lax';
  if (maxAgeSeconds !== undefined) cookie += '; max-age=' + maxAgeSeconds;
  if (location.protocol === 'https:') cookie += '; Secure';
  document.cookie = cookie;
}

export function deleteCookie(name) {
  writeCookie(name, '', 0);
}

// -- storage ----------------------------------------------------------------

/**
 * JSON values in localStorage or sessionStorage, falling back to memory when
 * the storage is missing or refuses writes (private modes, quotas, sandboxed
 * frames): recording then works per page instead of failing. A null
 * ``kind`` keeps the values in memory only.
 */
export function makeStorage(kind) {
  let backend = null;
  try {
    backend = kind ? window[kind] : null;
    backend.setItem('sentiero_probe', '1');
    backend.removeItem('sentiero_probe');
  } catch (_error) {
    backend = null;
  }
  const memory = {};
  return {
    get(key) {
      try {
        const raw = backend ? backend.getItem(key) : memory[key];
        return raw ? JSON.parse(raw) : null;
      } catch (_error) {
        return null;
      }
    },
    set(key, value) {
      const raw = toJson(value);
      memory[key] = raw;
      if (!backend) return;
      try {
        backend.setItem(key, raw);
      } catch (_error) {
        backend = null;
      }
    },
    remove(key) {
      delete memory[key];
      try {
        if (backend) backend.removeItem(key);
      } catch (_error) {
        // nothing to undo
      }
    },
  };
}
