// rrweb record() options built from the configuration, with our masking.
//
// rrweb only calls maskInputFn for inputs its maskInputOptions select and
// maskTextFn for text under a mask class/selector, passing the element, so
// these functions decide between masking and `data-sentiero-unmask`.
// Passwords (and fields the browser autofills with secrets) are masked
// whatever the configuration says.

const UNMASK = '[data-sentiero-unmask]';
const SECRET_AUTOCOMPLETE = /password|one-time-code|cc-number|cc-csc/i;
// `input` as a key matches every <input> whatever its type (hidden ones too).
const ALL_INPUTS = { input: true, textarea: true, select: true, password: true };

function stars(text) {
  return '*'.repeat(text.length);
}

function closest(el, selector) {
  try {
    return el && el.closest ? el.closest(selector) : null;
  } catch (_error) {
    return null; // an invalid selector from the configuration
  }
}

export function isSecretInput(el) {
  if (!el || !el.getAttribute) return true;
  const type = (el.getAttribute('type') || el.type || '').toLowerCase();
  return (
    type === 'password' ||
    el.hasAttribute('data-rr-is-password') ||
    SECRET_AUTOCOMPLETE.test(el.getAttribute('autocomplete') || '')
  );
}

export function maskInput(text, el) {
  const value = text || '';
  if (isSecretInput(el)) return stars(value);
  return closest(el, UNMASK) ? value : stars(value);
}

/** Unmask text only when `data-sentiero-unmask` is at least as close as what asked for masking. */
export function makeMaskText(maskTextSelector, maskTextClass) {
  const selectors = [];
  if (maskTextSelector) selectors.push(maskTextSelector);
  if (typeof maskTextClass === 'string' && maskTextClass) selectors.push('.' + maskTextClass);
  return function maskText(text, el) {
    const value = text || '';
    const unmask = closest(el, UNMASK);
    if (unmask) {
      const nearer = selectors.every((sel) => {
        const masker = closest(el, sel);
        return !masker || masker.contains(unmask);
      });
      if (nearer) return value;
    }
    return value.replace(/\S/g, '*');
  };
}

/** Selector matching that never throws on a bad configured selector. */
export function matches(el, selector) {
  return !!selector && !!closest(el, selector);
}

export function buildRecordOptions(cfg, emit, plugins) {
  const raw = cfg.rrweb;
  const options = Object.assign({}, raw);
  const fromConfig =
    raw.maskInputOptions && typeof raw.maskInputOptions === 'object' ? raw.maskInputOptions : {};
  options.maskInputOptions = Object.assign(
    {},
    raw.maskAllInputs === false ? fromConfig : ALL_INPUTS,
    { password: true },
  );
  // false makes rrweb use our maskInputOptions instead of its own list.
  options.maskAllInputs = false;
  options.maskInputFn = maskInput;
  options.maskTextFn = makeMaskText(raw.maskTextSelector, raw.maskTextClass || 'rr-mask');
  options.emit = emit;
  options.plugins = plugins;
  // rrweb's observers report errors here; swallowing keeps them out of the page.
  options.errorHandler = () => true;
  delete options.packFn;
  return options;
}
