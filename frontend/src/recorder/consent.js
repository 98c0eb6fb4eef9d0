// Whether this visitor may be recorded at all: browser privacy signals and
// the visitor's own opt-out cookie.

import { readCookie } from './util.js';

/** 'gpc' or 'dnt' when a respected browser signal forbids recording, else null. */
export function privacySignal(cfg) {
  const nav = window.navigator || {};
  if (cfg.respectGpc && (nav.globalPrivacyControl === true || nav.globalPrivacyControl === '1')) {
    return 'gpc';
  }
  const dnt = nav.doNotTrack || window.doNotTrack || nav.msDoNotTrack;
  if (cfg.respectDnt && (dnt === '1' || dnt === 'yes')) return 'dnt';
  return null;
}

/** The opt-out cookie is honoured whenever present, whoever set it. */
export function hasOptOutCookie(cfg) {
  const value = readCookie(cfg.optOutCookieName);
  return value !== null && value !== '' && value !== '0';
}
