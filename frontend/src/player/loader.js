// Pages of events from the JSON API, so the replay can start on the first
// page while the rest of a long session streams in. One request is always
// in flight while the previous page is being added to the player.

async function fetchPage({ eventsUrl, windowId, pageSize }, cursor) {
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
  return response.json();
}

export async function* eventPages(options) {
  let pending = fetchPage(options, null);
  while (pending) {
    const page = await pending;
    pending = page.next ? fetchPage(options, page.next) : null;
    // A failed prefetch is reported when its page is awaited, not before.
    pending?.catch(() => {});
    yield { events: Array.isArray(page.events) ? page.events : [], more: Boolean(page.next) };
  }
}
