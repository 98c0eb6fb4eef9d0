// Core Web Vitals through the web-vitals package. Most of them are final
// only when the page is hidden, so a report arriving then leaves at once.

import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';
import { TAG_VITAL } from './tags.js';
import { guard } from './util.js';

export function installVitals(emit, sendNowIfHidden) {
  const report = guard((metric) => {
    const digits = metric.name === 'CLS' ? 10000 : 10;
    emit(TAG_VITAL, {
      name: metric.name,
      value: Math.round(metric.value * digits) / digits,
      rating: metric.rating,
    });
    sendNowIfHidden();
  });
  for (const subscribe of [onLCP, onCLS, onINP, onFCP, onTTFB]) {
    guard(subscribe)(report);
  }
}
