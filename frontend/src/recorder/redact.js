// The server's pattern rules, run on every string of every event before it
// is queued, so a matching value never leaves the page (the server applies
// them, and any others, again). cfg.redact = { r: replacement, p: [[source,
// check], ...] }; a match failing its check (Luhn, IBAN) is kept. A pattern
// this browser cannot compile throws: no recording rather than a leak.

const checks = {
  luhn(m, s = 0, k = 0) {
    for (const c of m.replace(/\D/g, '').split('').reverse()) s += (c * (1 + (k++ & 1))) % 9 || +c && 9;
    return !(s % 10);
  },
  iban(m, r = 0) {
    for (const c of (m = m.replace(/ /g, '')).slice(4) + m.slice(0, 4)) r = (r * (c > '9' ? 100 : 10) + parseInt(c, 36)) % 97;
    return r == 1;
  },
};

/** A function redacting one event in place, or null when there are no rules. */
export function makeRedact(spec) {
  const rules = ((spec || {}).p || []).map(([source, check]) => [new RegExp(source, 'g'), checks[check]]);
  const walk = (node) => {
    for (const k in node) {
      let v = node[k];
      if (typeof v === 'string') {
        for (const [re, ok] of rules) v = v.replace(re, (m) => (ok && !ok(m) ? m : spec.r));
        node[k] = v;
      } else if (v && typeof v === 'object') walk(v);
    }
  };
  return rules.length ? walk : null;
}
