// window.Sentiero: the page's handle on the recorder. Every method is safe to
// call at any time, whether or not this visitor is being recorded.

import { NativePromise, guard } from './util.js';

export const VERSION = '1';

export function installApi(recorder) {
  const sessionId = guard(() => recorder.sessionId(), null);
  const windowId = guard(() => recorder.windowId(), null);
  const api = {
    version: VERSION,
    track: guard((name, properties) => recorder.track(name, properties)),
    identify: guard((userId, traits) => recorder.identify(userId, traits)),
    optOut: guard(() => recorder.optOut()),
    optIn: guard(() => recorder.optIn()),
    isOptedOut: guard(() => recorder.isOptedOut(), false),
    flush: guard(() => recorder.flush(), NativePromise.resolve()),
    // read-only getters (a setter-less accessor ignores assignments)
    get sessionId() {
      return sessionId();
    },
    get windowId() {
      return windowId();
    },
  };
  window.Sentiero = api;
}
