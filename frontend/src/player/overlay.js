// Drawn over the replay: where the user just clicked (rage and dead clicks
// stand out) and how far down the current page they have scrolled.

import { byId, h } from "./dom.js";

const RECENT_MS = 3000;

export class ClickOverlay {
  constructor(replayer, analysis) {
    this.analysis = analysis;
    this.enabled = true;
    this.layer = h("div", { class: "sentiero-clicks", "aria-hidden": "true" });
    // Inside rrweb's wrapper the layer is scaled with the page, so click
    // coordinates (the recorded viewport's) need no conversion.
    replayer.wrapper.appendChild(this.layer);
    this.iframe = replayer.iframe;
    const toggle = byId("show-clicks");
    toggle.addEventListener("change", () => this.setEnabled(toggle.checked));
  }

  setEnabled(on) {
    this.enabled = on;
    this.key = null;
    byId("show-clicks").checked = on;
    if (!on) this.layer.replaceChildren();
  }

  update(t) {
    if (!this.enabled) return;
    const page = this.analysis.documentsAt(t);
    const shown = [];
    for (const click of this.analysis.clicks) {
      if (click.t > t) break;
      const age = t - click.t;
      if (age > RECENT_MS || click.pageIndex !== page) continue;
      // fading in tenths: the layer is redrawn ten times per dot, not every frame
      shown.push([click, (1 - age / RECENT_MS).toFixed(1)]);
    }
    const key = shown.map(([click, opacity]) => `${click.ts}:${click.x}:${click.y}:${opacity}`).join("|");
    if (key === this.key) return;
    this.key = key;
    this.layer.style.width = `${this.iframe.offsetWidth}px`;
    this.layer.style.height = `${this.iframe.offsetHeight}px`;
    this.layer.replaceChildren(
      ...shown.map(([click, opacity]) => {
        const kind = click.rage !== 0 ? "rage" : click.dead ? "dead" : "";
        return h("div", {
          class: `sentiero-click ${kind}`,
          style: `left:${click.x}px;top:${click.y}px;opacity:${opacity}`,
        });
      }),
    );
  }
}

export class ScrollDepth {
  constructor(replayer, analysis) {
    this.iframe = replayer.iframe;
    this.analysis = analysis;
    this.maxByPage = new Map();
    this.fill = byId("scroll-depth-fill");
    this.max = byId("scroll-depth-max");
    this.label = byId("scroll-depth-label");
  }

  // Reading the replayed page's size forces its layout: a few times a
  // second is enough while playing; seeks (jumps) are shown at once.
  update(t, force = false) {
    const now = performance.now();
    if (!force && now - (this.lastRead ?? 0) < 150) return;
    this.lastRead = now;
    const doc = this.iframe.contentDocument;
    const el = doc && (doc.scrollingElement || doc.documentElement);
    if (!el || !el.scrollHeight) return;
    const depth = Math.min(1, (el.scrollTop + el.clientHeight) / el.scrollHeight);
    const page = this.analysis.pages.filter((p) => p.t <= t).length;
    const max = Math.max(depth, this.maxByPage.get(page) || 0);
    this.maxByPage.set(page, max);
    this.fill.style.height = `${Math.round(depth * 100)}%`;
    this.max.style.height = `${Math.round(max * 100)}%`;
    this.label.textContent = `${Math.round(depth * 100)}%`;
    this.label.parentElement.title = `Scroll depth: ${Math.round(depth * 100)}% now, ${Math.round(max * 100)}% deepest on this page`;
  }
}
