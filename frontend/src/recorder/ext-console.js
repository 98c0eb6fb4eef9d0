// Entry point of recorder-console.js (served before recorder.js when
// capture_console is on).

import { consolePlugin } from './console.js';
import { provide } from './extensions.js';

provide('console', consolePlugin);
