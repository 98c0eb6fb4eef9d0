// Pages of events from the JSON API, one after another, so the replay can
// start on the first page while the rest of a long session streams in.

export async function* eventPages({ eventsUrl, windowId, pageSize }) {
  let cursor = null;
  do {
    const url = new URL(eventsUrl, window.location.href);
    url.searchParams.set("limit", String(pageSize));
    if (windowId) url.searchParams.set("window", windowId);
    if (cursor) url.searchParams.set("cursor", cursor);
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) {
      let reason = `${response.status} ${response.statusText}`;
      try {
        reason = (await response.json()).error || reason;
      } catch {
        // keep the status line
      }
      throw new Error(`the events could not be loaded: ${reason}`);
    }
    const page = await response.json();
    cursor = page.next;
    yield { events: Array.isArray(page.events) ? page.events : [], more: Boolean(cursor) };
  } while (cursor);
}
