// The activity and console lists beside the replay: click an entry to seek,
// the entry being played is highlighted and kept in view.

import { byId, h } from "./dom.js";
import { seekTime } from "./analysis.js";
import { clock } from "./format.js";

const KIND_NAMES = {
  navigation: "Page",
  click: "Click",
  rage: "Rage",
  dead: "Dead",
  form: "Form",
  error: "Error",
  custom: "Event",
  other: "User",
};
const FILTERS = [
  ["all", "All"],
  ["navigation", "Pages"],
  ["click", "Clicks"],
  ["form", "Forms"],
  ["error", "Errors"],
  ["custom", "Events"],
];
const FILTER_KINDS = { click: ["click", "rage", "dead"] };

function lastAtOrBefore(list, t) {
  let lo = 0;
  let hi = list.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].t <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

class EntryList {
  constructor(listId, emptyId, countId, describe, seek) {
    this.list = byId(listId);
    this.empty = byId(emptyId);
    this.count = byId(countId);
    this.describe = describe;
    this.seek = seek;
    this.entries = [];
    this.rows = [];
    this.currentRow = null;
  }

  render(entries, kindOf) {
    this.entries = entries;
    this.rows = entries.map((entry) => {
      const kind = kindOf(entry);
      const detail = this.describe(entry);
      return h(
        "li",
        { class: `k-${entry.kind} level-${String(entry.level || "").replace(/[^a-z]/gi, "")}`, "data-kind": entry.kind, "data-t": String(entry.t) },
        h(
          "button",
          { type: "button", onclick: () => this.seek(seekTime(entry)), title: `Go to ${clock(entry.t)}` },
          h("span", { class: "at", text: clock(entry.t) }),
          h(
            "span",
            { class: "what" },
            h("span", { class: "kind", text: kind }),
            h("span", { class: "label", text: entry.label }),
            detail ? h("span", { class: "detail", text: detail }) : null,
          ),
        ),
      );
    });
    this.list.replaceChildren(...this.rows);
    this.empty.hidden = entries.length > 0;
    this.count.textContent = entries.length ? String(entries.length) : "";
    this.currentRow = null;
  }

  highlight(t, follow) {
    const index = lastAtOrBefore(this.entries, t);
    const row = index >= 0 ? this.rows[index] : null;
    if (row === this.currentRow) return;
    if (this.currentRow) {
      this.currentRow.classList.remove("current");
      this.currentRow.removeAttribute("aria-current");
    }
    this.currentRow = row;
    if (row) {
      row.classList.add("current");
      row.setAttribute("aria-current", "true");
      if (follow && !row.hidden && !this.list.matches(":hover")) row.scrollIntoView({ block: "nearest" });
    }
  }
}

export class Sidebar {
  constructor(analysis, seek) {
    this.analysis = analysis;
    this.filter = "all";
    this.activity = new EntryList("activity-list", "activity-empty", "activity-count",
      (item) => analysis.describe(item), seek);
    this.console = new EntryList("console-list", "console-empty", "console-count",
      (entry) => entry.detail, seek);
    this.wireTabs();
    this.wireFilters();
  }

  wireTabs() {
    const tabs = [...document.querySelectorAll(".side-tab")];
    for (const tab of tabs) {
      tab.addEventListener("click", () => {
        for (const other of tabs) {
          const selected = other === tab;
          other.setAttribute("aria-selected", String(selected));
          byId(other.getAttribute("aria-controls")).hidden = !selected;
        }
      });
    }
  }

  wireFilters() {
    const bar = byId("activity-kinds");
    this.filterButtons = FILTERS.map(([kind, title]) =>
      h("button", {
        type: "button",
        class: "button",
        "data-filter": kind,
        "aria-pressed": String(kind === this.filter),
        text: title,
        onclick: () => this.setFilter(kind),
      }),
    );
    bar.replaceChildren(...this.filterButtons);
  }

  setFilter(kind) {
    this.filter = kind;
    for (const button of this.filterButtons) {
      button.setAttribute("aria-pressed", String(button.dataset.filter === kind));
    }
    this.applyFilter();
  }

  applyFilter() {
    const wanted = FILTER_KINDS[this.filter] || [this.filter];
    for (const row of this.activity.rows) {
      row.hidden = this.filter !== "all" && !wanted.includes(row.dataset.kind);
    }
  }

  render() {
    this.activity.render(this.analysis.items, (item) => KIND_NAMES[item.kind] || item.kind);
    this.console.render(this.analysis.console, (entry) => entry.level);
    this.applyFilter();
  }

  highlight(t, follow = true) {
    this.activity.highlight(t, follow);
    this.console.highlight(t, follow);
  }

  // For the , and . shortcuts: the neighbouring visible activity entry.
  neighbour(t, direction) {
    const at = seekTime;
    const items = this.analysis.items.filter((_, i) => !this.activity.rows[i]?.hidden);
    if (direction > 0) return items.find((item) => at(item) > t + 1);
    return [...items].reverse().find((item) => at(item) < t - 1);
  }
}
