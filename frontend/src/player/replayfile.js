// What a replay file holds, checked before anything is drawn: a session's
// JSON export ({"session", "events"}), the data a share file embeds
// ({"format": "sentiero-share", ...}) or a share file itself (its HTML, whose
// embedded data is read without running anything in it).

export const SHARE_FORMAT = "sentiero-share";
export const SHARE_DATA_ID = "sentiero-share-data";

export class ReplayFileError extends Error {}

function isEvent(event) {
  return event !== null && typeof event === "object" && Number.isInteger(event.type) &&
    typeof event.timestamp === "number" && Number.isFinite(event.timestamp);
}

function fromHtml(text) {
  // DOMParser builds an inert document: its scripts never run.
  const doc = new DOMParser().parseFromString(text, "text/html");
  const data = doc.getElementById(SHARE_DATA_ID);
  if (!data) {
    throw new ReplayFileError("This HTML file is not a Sentiero share file: it embeds no session.");
  }
  return data.textContent;
}

// {session, windowId, events, format} from the text of a file; a
// ReplayFileError saying what is wrong otherwise.
export function readReplayFile(text) {
  if (typeof text !== "string" || !text.trim()) throw new ReplayFileError("The file is empty.");
  let json = text;
  if (/^\s*</.test(text)) json = fromHtml(text);
  let data;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new ReplayFileError(`The file is not valid JSON: ${error.message}`);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new ReplayFileError("The file is not a session export: expected a JSON object with \"session\" and \"events\".");
  }
  if (data.format !== undefined && data.format !== SHARE_FORMAT) {
    throw new ReplayFileError(`The file's format ${JSON.stringify(String(data.format)).slice(0, 60)} is not one this page reads.`);
  }
  if (!Array.isArray(data.events)) {
    throw new ReplayFileError("The file is not a session export: it has no \"events\" list.");
  }
  const bad = data.events.findIndex((event) => !isEvent(event));
  if (bad !== -1) {
    throw new ReplayFileError(`Event ${bad + 1} of ${data.events.length} is not an rrweb event (it needs a numeric "type" and "timestamp").`);
  }
  const session = data.session && typeof data.session === "object" && !Array.isArray(data.session) ? data.session : {};
  // rrweb replays events in time order; an export is in order, an edited file may not be
  const events = data.events.map((event, i) => [event, i])
    .sort((a, b) => a[0].timestamp - b[0].timestamp || a[1] - b[1])
    .map(([event]) => event);
  return {
    format: data.format === SHARE_FORMAT ? "share" : "export",
    session,
    windowId: typeof data.windowId === "string" ? data.windowId : null,
    events,
  };
}

// The pages the replay takes: everything at once.
export async function* onePage(events) {
  yield { events, more: false };
}
