// The player for events from a file, with no request to any server: a share
// file (this bundle is inlined into it, its events embedded as JSON) and the
// import page (a JSON export or a share file chosen by the user, read with
// FileReader and never uploaded).

import { byId, h } from "./dom.js";
import { say, start } from "./replay.js";
import { onePage, readReplayFile, ReplayFileError, SHARE_DATA_ID } from "./replayfile.js";

function readConfig() {
  const element = byId("sentiero-player-config");
  try {
    return element ? JSON.parse(element.textContent) : {};
  } catch {
    return {};
  }
}

function play(config, replay) {
  start({ ...config, eventCount: replay.events.length }, onePage(replay.events))
    .catch((error) => say(`The replay failed: ${error.message}`, true));
}

function bootShare(config, element) {
  let replay;
  try {
    replay = readReplayFile(element.textContent);
  } catch (error) {
    say(`This share file is damaged: ${error.message}`, true);
    return;
  }
  play(config, replay);
}

function when(ms) {
  const date = new Date(ms);
  return typeof ms === "number" && !Number.isNaN(date.getTime()) ? date.toISOString().replace("T", " ").slice(0, 19) + " UTC" : "–";
}

function describe(replay) {
  const s = replay.session;
  const text = (value) => (typeof value === "string" || typeof value === "number" ? String(value) : "–");
  const rows = [
    ["Session id", text(s.session_id)],
    ["Started", when(s.started_at)],
    ["Last activity", when(s.ended_at)],
    ["Entry URL", text(s.entry_url)],
    ["Browser", text(s.browser)],
    ["OS", text(s.os)],
    ["Events in the file", replay.events.length.toLocaleString()],
  ];
  if (replay.windowId) rows.push(["Window id", replay.windowId]);
  byId("metadata").replaceChildren(...rows.flatMap(([name, value]) => [h("dt", { text: name }), h("dd", { text: value })]));
  const pages = Array.isArray(s.pages) ? s.pages.filter((p) => typeof p === "string") : [];
  byId("pages-visited").replaceChildren(...pages.map((page) => h("li", { class: "url", text: page })));
  byId("imported-name").textContent = text(s.session_id);
}

function bootImport(config, input) {
  const message = byId("import-message");
  const complain = (text) => {
    message.textContent = text;
    message.hidden = false;
    document.body.dataset.importError = "true";
  };
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (!file) return;
    message.hidden = true;
    const reader = new FileReader();
    reader.onerror = () => complain(`The file could not be read: ${reader.error ? reader.error.message : "unknown error"}.`);
    reader.onload = () => {
      let replay;
      try {
        replay = readReplayFile(reader.result);
      } catch (error) {
        if (!(error instanceof ReplayFileError)) throw error;
        complain(`${file.name}: ${error.message}`);
        return;
      }
      delete document.body.dataset.importError;
      // one replay per page: choosing another file starts afresh
      input.disabled = true;
      byId("import-again").hidden = false;
      byId("import-replay").hidden = false;
      const windows = Array.isArray(replay.session.windows) ? replay.session.windows.length : 1;
      byId("import-windows").hidden = !(replay.format === "export" && windows > 1);
      describe(replay);
      play(config, replay);
    };
    reader.readAsText(file);
  });
  document.body.dataset.importReady = "true";
}

function boot() {
  const config = readConfig();
  const shared = byId(SHARE_DATA_ID);
  if (shared) bootShare(config, shared);
  const input = byId("import-file");
  if (input) bootImport(config, input);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
