// rrweb record() options built from the configuration, with our masking.
//
// rrweb calls maskInputFn only for inputs its maskInputOptions select, and
// maskTextFn only for text under a mask class or selector, passing the
// element each time. We make rrweb ask about every input and decide here:
// secrets (passwords, one-time codes, card numbers) are always masked, then
// `data-sentiero-unmask` unmasks, then the configured masking applies.

const UNMASK = '[data-sentiero-unmask]';
const SECRET_AUTOCOMPLETE = /password|one-time-code|cc-number|cc-csc/i;

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

/** The masking policy for input values; ``masked`` maps tag names and input types. */
export function makeMaskInput(maskAll, masked) {
  return function maskInput(text, el) {
    const value = text || '';
    if (isSecretInput(el)) return stars(value);
    if (closest(el, UNMASK)) return value;
    if (maskAll) return stars(value);
    const tag = ((el && el.tagName) || '').toLowerCase();
    const type = ((el && (el.getAttribute('type') || el.type)) || '').toLowerCase();
    return masked[tag] || masked[type] ? stars(value) : value;
  };
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
  const maskAll = raw.maskAllInputs !== false;
  const masked = Object.assign(
    {},
    raw.maskInputOptions && typeof raw.maskInputOptions === 'object' ? raw.maskInputOptions : {},
    { password: true },
  );
  // `input` matches every <input> whatever its type (hidden ones too), so
  // rrweb consults maskInputFn for all of them. A masked <select> loses its
  // selected option in snapshots, so selects are only included when masked.
  options.maskInputOptions = {
    input: true,
    textarea: true,
    password: true,
    select: maskAll || !!masked.select,
  };
  // false makes rrweb use the maskInputOptions above instead of its own list.
  options.maskAllInputs = false;
  options.maskInputFn = makeMaskInput(maskAll, masked);
  options.maskTextFn = makeMaskText(raw.maskTextSelector, raw.maskTextClass || 'rr-mask');
  options.emit = emit;
  options.plugins = plugins;
  // rrweb's observers report errors here; swallowing keeps them out of the page.
  options.errorHandler = () => true;
  delete options.packFn;
  return options;
}
