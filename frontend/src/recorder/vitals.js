// Core Web Vitals through the web-vitals package (bundled as
// recorder-vitals.js). Most of them are final only when the page is hidden,
// so a report arriving then leaves at once. `guard` comes from the recorder.

import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';
import { TAG_VITAL } from './tags.js';

export function installVitals(emit, sendNowIfHidden, guard) {
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
