// The session page: the replay fed page by page from the events API.
// Configuration comes from a JSON <script> element: nothing here is inline.

import "rrweb-player/dist/style.css";

import { byId } from "./dom.js";
import { eventPages } from "./loader.js";
import { say, start } from "./replay.js";

function boot() {
  const element = byId("sentiero-player-config");
  if (!element) return;
  let config;
  try {
    config = JSON.parse(element.textContent);
  } catch {
    say("The replay's configuration is unreadable.", true);
    return;
  }
  start(config, eventPages(config)).catch((error) => say(`The replay failed: ${error.message}`, true));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
