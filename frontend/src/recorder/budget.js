// The mutation budget. A page that adds and removes thousands of nodes a
// second would make its recording huge and keep rrweb serialising nodes
// until the tab stalls, so mutations are counted as rrweb reports them (the
// adds, removes, texts and attributes of each mutation event) in a leaky
// bucket that empties at DRAIN_PER_MS. A page changing fewer than 1,000
// nodes a second on average never fills it; one change of more than the
// limit, or a storm, does within seconds. Past the warning level the
// recorder notes it once per burst; past the limit it stops the page.

export const WITHIN = 0;
export const WARN = 1;
export const OVER = 2;

const DRAIN_PER_MS = 1;

function size(list) {
  return Array.isArray(list) ? list.length : 0;
}

export function createBudget(limit, warning) {
  let level = 0;
  let at = 0;
  let warned = false;
  return {
    /** Account for a mutation event; WITHIN, WARN (first time past the warning) or OVER. */
    spend(event) {
      const data = event.data;
      const now = event.timestamp;
      level = Math.max(0, level - Math.max(0, now - at) * DRAIN_PER_MS);
      at = now;
      if (level === 0) warned = false; // the previous burst is over
      level += size(data.adds) + size(data.removes) + size(data.texts) + size(data.attributes);
      if (level > limit) return OVER;
      if (level > warning && !warned) {
        warned = true;
        return WARN;
      }
      return WITHIN;
    },
    level: () => Math.round(level),
  };
}
