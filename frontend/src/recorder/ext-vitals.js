// Entry point of recorder-vitals.js (served before recorder.js when
// capture_web_vitals is on).

import { provide } from './extensions.js';
import { installVitals } from './vitals.js';

provide('vitals', installVitals);
