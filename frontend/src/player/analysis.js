// What happened in a window, read from its rrweb events as they stream in:
// the activity list, the timeline markers, clicks (with rage and dead click
// annotations computed with the server's thresholds), inactive periods,
// Web Vitals and console messages.

import { EventType, IncrementalSource, MouseInteractions } from "@rrweb/types";
import { NodeIndex } from "./nodes.js";
import { compactJson, truncate } from "./format.js";

const { FullSnapshot: FULL_SNAPSHOT, IncrementalSnapshot: INCREMENTAL, Meta: META } = EventType;
const { Custom: CUSTOM, Plugin: PLUGIN } = EventType;
const { Mutation: MUTATION, MouseInteraction: MOUSE_INTERACTION, Input: INPUT } = IncrementalSource;
const { Click: CLICK, DblClick: DBL_CLICK, Focus: FOCUS } = MouseInteractions;
const CONSOLE_PLUGIN = "rrweb/console@1";
// rrweb-player's own definition of an idle stretch (its default threshold).
const INACTIVE_MS = 10_000;
const CHANGE_COALESCE_MS = 5_000;
// In-app route changes (sentiero:page), by how the app changed the URL.
const ROUTE_LABELS = {
  push: "Navigated",
  replace: "URL replaced",
  pop: "Back/forward",
  hash: "Hash change",
};

// Where the player goes for an entry: just after its event (rrweb draws the
// events strictly before the time it is paused at), and for a page view
// just after the snapshot that draws the new page.
export function seekTime(item) {
  return (item.seekTo ?? item.t) + 1;
}

function isUserInteraction(e) {
  return e.type === INCREMENTAL && e.data && e.data.source > MUTATION && e.data.source <= INPUT;
}

function text(value, limit = 300) {
  return typeof value === "string" || typeof value === "number" ? truncate(value, limit) : "";
}

export class Analysis {
  constructor(thresholds) {
    this.thresholds = thresholds;
    // rrweb numbers nodes afresh on every page load: one index per snapshot.
    this.nodeIndexes = [new NodeIndex()];
    this.base = null; // timestamp of the window's first event
    this.lastTs = null;
    this.items = []; // activity entries, in time order
    this.clicks = [];
    this.changeTimes = []; // when the page visibly reacted (for dead clicks)
    this.inactive = [];
    this.lastActive = null;
    this.vitals = new Map();
    this.console = [];
    this.pages = []; // [{t, href, spa}]: documents and in-app routes
    this.documents = 0;
    this.hasSnapshot = false;
    this.firstSnapshotAt = null; // when the first full snapshot was taken
    this.lastChange = null;
  }

  // Fold a page of events (in timestamp order) into the analysis.
  add(events) {
    for (const e of events) {
      if (!e || typeof e.timestamp !== "number") continue;
      if (this.base === null) {
        this.base = e.timestamp;
        this.lastActive = e.timestamp;
      }
      this.lastTs = e.timestamp;
      this.read(e, e.timestamp - this.base);
    }
    this.classifyClicks();
  }

  get nodes() {
    return this.nodeIndexes[this.nodeIndexes.length - 1];
  }

  item(t, kind, label, detail = "", extra = {}) {
    const entry = { t, kind, label, detail, nodes: this.nodes, ...extra };
    this.items.push(entry);
    return entry;
  }

  read(e, t) {
    const data = e.data && typeof e.data === "object" ? e.data : {};
    if (isUserInteraction(e)) {
      if (e.timestamp - this.lastActive > INACTIVE_MS) this.inactive.push([this.lastActive - this.base, t]);
      this.lastActive = e.timestamp;
    }
    switch (e.type) {
      case FULL_SNAPSHOT:
        this.hasSnapshot = true;
        if (this.firstSnapshotAt === null) this.firstSnapshotAt = t;
        this.nodeIndexes.push(new NodeIndex());
        {
          // Seeking to a page view shows the page, drawn by the snapshot
          // that follows its Meta event.
          let i = this.items.length - 1;
          while (i >= 0 && !(this.items[i].kind === "navigation" && !this.items[i].spa && this.items[i].label.startsWith("Page view"))) i--;
          const page = this.items[i];
          if (page && t - page.t <= 1000 && page.seekTo === undefined) page.seekTo = t;
        }
        this.nodes.add(data.node);
        this.changeTimes.push(e.timestamp);
        break;
      case META:
        this.changeTimes.push(e.timestamp);
        // a periodic or recovery snapshot draws the same page again
        if (data.checkout === true) break;
        this.documents += 1;
        this.pages.push({ t, href: text(data.href, 2000) });
        this.item(t, "navigation", "Page view", text(data.href, 2000), { marker: "navigation" });
        break;
      case INCREMENTAL:
        this.readIncremental(e, t, data);
        break;
      case CUSTOM:
        this.readCustom(t, data.tag, data.payload && typeof data.payload === "object" ? data.payload : {});
        break;
      case PLUGIN:
        if (data.plugin === CONSOLE_PLUGIN) this.readConsole(t, data.payload || {});
        break;
      default:
        break;
    }
  }

  readIncremental(e, t, data) {
    if (data.source === MUTATION) {
      this.changeTimes.push(e.timestamp);
      for (const add of Array.isArray(data.adds) ? data.adds : []) {
        if (add && add.node) this.nodes.add(add.node, add.parentId ?? null);
      }
    } else if (data.source === INPUT) {
      this.changeTimes.push(e.timestamp);
      const last = this.lastChange;
      if (last && last.id === data.id && t - last.lastT < CHANGE_COALESCE_MS) {
        last.lastT = t;
        last.count += 1;
        last.detail = `${last.count} edits`;
      } else {
        // What was typed is never shown: only which field changed.
        this.lastChange = this.item(t, "form", "Field changed", "", {
          target: data.id,
          id: data.id,
          lastT: t,
          count: 1,
        });
      }
    } else if (data.source === MOUSE_INTERACTION) {
      if (data.type === CLICK || data.type === DBL_CLICK) {
        const click = {
          ts: e.timestamp,
          t,
          x: typeof data.x === "number" ? data.x : 0,
          y: typeof data.y === "number" ? data.y : 0,
          id: data.id,
          rage: 0,
          dead: false,
          pageIndex: this.documents,
        };
        if (data.type === CLICK) this.clicks.push(click);
        click.item = this.item(t, "click", data.type === CLICK ? "Click" : "Double-click", "", {
          target: data.id,
          marker: data.type === CLICK ? "click" : null,
        });
      } else if (data.type === FOCUS) {
        this.item(t, "form", "Focus", "", { target: data.id });
      }
    }
  }

  readCustom(t, tag, p) {
    switch (tag) {
      case "sentiero:error": {
        const where = [text(p.source, 300), p.line, p.column].filter((v) => v !== "" && v != null).join(":");
        const detail = [where, text(p.stack, 1500)].filter(Boolean).join("\n");
        const label = p.kind === "unhandledrejection" ? "Unhandled rejection" : "Error";
        this.item(t, "error", `${label}: ${text(p.message, 500) || "(no message)"}`, detail, { marker: "error" });
        break;
      }
      case "sentiero:custom":
        this.item(t, "custom", text(p.name, 200) || "(unnamed event)",
          p.properties && Object.keys(p.properties).length ? compactJson(p.properties) : "",
          { marker: "custom" });
        break;
      case "sentiero:form_submit": {
        const form = text(p.form_id, 200) ? `#${text(p.form_id, 200)}` : text(p.form_name, 200);
        this.item(t, "form", "Form submitted", [form, text(p.action, 500)].filter(Boolean).join(" → "),
          { marker: "submit" });
        break;
      }
      case "sentiero:navigation":
        this.item(t, "navigation", "Outbound link", [text(p.text, 120), text(p.href, 2000)].filter(Boolean).join(" → "));
        break;
      case "sentiero:identify":
        this.item(t, "other", "Identified user", text(p.user_id, 200));
        break;
      case "sentiero:page": {
        // A route change inside a single-page app: a page view without a new document.
        const href = text(p.url, 2000);
        const verb = ROUTE_LABELS[p.kind] || "Navigated";
        this.changeTimes.push(this.base + t); // a click that changed the URL is not dead
        this.pages.push({ t, href, spa: true });
        this.item(t, "navigation", text(p.title, 200) ? `${verb}: ${text(p.title, 200)}` : verb, href,
          { marker: "navigation", spa: true });
        break;
      }
      case "sentiero:mutation_warning":
        this.item(t, "other", "Many page changes", `${text(p.mutations, 20)} DOM changes in a burst`);
        break;
      case "sentiero:recording_paused": {
        const reasons = {
          mutation_limit: `The page changed too fast (${text(p.mutations, 20)} DOM changes in a burst)`,
          snapshot_too_large: "The page is too large to record",
        };
        const why = Object.hasOwn(reasons, p.reason) ? reasons[p.reason] : text(p.reason, 200);
        this.item(t, "error", "Recording paused", `${why}; the rest of this page was not recorded`,
          { marker: "error" });
        break;
      }
      case "sentiero:meta": {
        const page = [...this.items].reverse().find((i) => i.kind === "navigation" && !i.spa && i.label === "Page view");
        if (page && text(p.title, 200)) page.label = `Page view: ${text(p.title, 200)}`;
        this.meta = p;
        break;
      }
      case "sentiero:vital":
        if (typeof p.name === "string") {
          this.vitals.set(p.name.slice(0, 10), { t, value: p.value, rating: text(p.rating, 40) });
        }
        break;
      // the clicked element and the field used, for analytics: the replay
      // shows rrweb's own click and focus already
      case "sentiero:click":
      case "sentiero:field":
        break;
      default:
        if (typeof tag === "string") this.item(t, "custom", tag.slice(0, 200), compactJson(p), { marker: "custom" });
    }
  }

  readConsole(t, p) {
    const args = Array.isArray(p.payload) ? p.payload : [];
    const message = args
      .map((a) => {
        if (typeof a !== "string") return compactJson(a, 500);
        try {
          const parsed = JSON.parse(a);
          return typeof parsed === "string" ? parsed : a;
        } catch {
          return a;
        }
      })
      .join(" ");
    const level = text(p.level, 20) || "log";
    const trace = Array.isArray(p.trace) ? p.trace.slice(0, 3).map((s) => text(s, 200)).join("\n") : "";
    this.console.push({ t, kind: "console", level, label: truncate(message, 2000), detail: trace });
  }

  // Rage: RAGE_CLICKS clicks within the window and radius of the burst's
  // first click. Dead: nothing changed on the page within the wait after a
  // click (a click too close to the end of what is loaded is not judged).
  classifyClicks() {
    const { rageClicks, rageWindowMs, rageRadiusPx, deadClickWaitMs } = this.thresholds;
    const clicks = this.clicks;
    for (const c of clicks) c.rage = 0;
    let i = 0;
    while (i < clicks.length) {
      const first = clicks[i];
      let j = i + 1;
      while (
        j < clicks.length &&
        clicks[j].ts - first.ts <= rageWindowMs &&
        Math.abs(clicks[j].x - first.x) <= rageRadiusPx &&
        Math.abs(clicks[j].y - first.y) <= rageRadiusPx
      ) j++;
      if (j - i >= rageClicks) {
        first.rage = j - i;
        for (let k = i + 1; k < j; k++) clicks[k].rage = -1; // part of a burst
        i = j;
      } else i++;
    }
    const changes = this.changeTimes; // ascending: events arrive in order
    let c = 0;
    for (const click of clicks) {
      while (c < changes.length && changes[c] < click.ts) c++;
      const judged = this.lastTs - click.ts >= deadClickWaitMs;
      click.dead = judged && !(c < changes.length && changes[c] <= click.ts + deadClickWaitMs);
      const entry = click.item;
      if (click.rage > 0) {
        entry.kind = "rage";
        entry.label = `Rage click ×${click.rage}`;
        entry.marker = "rage";
      } else if (click.dead) {
        entry.kind = "dead";
        entry.label = "Dead click";
        entry.marker = "dead";
      } else {
        entry.kind = "click";
        entry.label = "Click";
        entry.marker = click.rage === -1 ? null : "click";
      }
    }
  }

  // Labels need the node index, which grows as events arrive: resolve late.
  describe(item) {
    if (item.target === undefined || item.target === null) return item.detail;
    const label = item.nodes.label(item.target);
    return item.detail ? `${label} · ${item.detail}` : label;
  }

  // How many documents (not in-app routes) started by ``t``: rrweb numbers
  // nodes afresh for each, so clicks belong to one.
  documentsAt(t) {
    return this.pages.filter((p) => p.t <= t && !p.spa).length;
  }

  pageAt(t) {
    let found = null;
    for (const p of this.pages) {
      if (p.t <= t) found = p;
      else break;
    }
    return found;
  }

  get duration() {
    return this.base === null ? 0 : this.lastTs - this.base;
  }
}
