// The replay: rrweb-player fed page by page from an async iterator of pages
// of events (the events API on the session page, a file in a share file or
// on the import page), with our timeline, activity sidebar, overlays and
// keyboard shortcuts around it.

import { EventType } from "@rrweb/types";
import Player from "rrweb-player";

import { Analysis } from "./analysis.js";
import { byId, h } from "./dom.js";
import { vitalValue } from "./format.js";
import { setupHelp, setupKeyboard } from "./keyboard.js";
import { ClickOverlay, ScrollDepth } from "./overlay.js";
import { neutralize } from "./sanitize.js";
import { Sidebar } from "./sidebar.js";
import { SPEEDS, Timeline } from "./timeline.js";

const VITAL_ORDER = ["LCP", "FCP", "INP", "CLS", "TTFB"];
const RATINGS = new Set(["good", "needs-improvement", "poor"]);

export function say(message, problem = false) {
  const status = byId("replay-status");
  status.textContent = message;
  status.hidden = !message;
  status.classList.toggle("problem", problem);
}

function stageSize(stage, viewport) {
  const ratio = viewport && viewport.width > 0 && viewport.height > 0 ? viewport.height / viewport.width : 9 / 16;
  const width = Math.max(280, stage.clientWidth);
  const height = Math.round(Math.min(width * ratio, window.innerHeight * 0.68, 900));
  return { width, height: Math.max(200, height) };
}

function firstViewport(events) {
  const meta = events.find((e) => e.type === EventType.Meta && e.data);
  return meta && meta.data.width > 0 ? { width: meta.data.width, height: meta.data.height } : null;
}

function setupCopyLink(currentMs) {
  // a share file and the import page have no address to link to
  if (!byId("copy-link")) return () => {};
  const input = byId("share-link");
  const status = byId("copy-status");
  const copy = () => {
    const url = new URL(window.location.href);
    url.searchParams.set("t", String(Math.floor(currentMs() / 1000)));
    input.value = url.toString();
    input.hidden = false;
    input.select();
    const done = (text) => {
      status.textContent = text;
      status.hidden = false;
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(
        () => done("Link copied to the clipboard."),
        () => done("Copy the selected link above."),
      );
    } else {
      done("Copy the selected link above.");
    }
  };
  byId("copy-link").addEventListener("click", copy);
  return copy;
}

function renderVitals(analysis, seek) {
  const names = [...analysis.vitals.keys()].sort(
    (a, b) => (VITAL_ORDER.indexOf(a) + 99) % 99 - (VITAL_ORDER.indexOf(b) + 99) % 99,
  );
  byId("vitals").replaceChildren(
    ...names.map((name) => {
      const vital = analysis.vitals.get(name);
      const rating = RATINGS.has(vital.rating) ? vital.rating : "";
      return h("button", {
        type: "button",
        class: `badge ${rating}`,
        title: `${name}${rating ? ` (${rating.replace("-", " ")})` : ""}: go to the moment it was measured`,
        text: `${name} ${vitalValue(name, vital.value)}`,
        onclick: () => seek(vital.t + 1),
      });
    }),
  );
}

// `pages` yields {events, more}; `config` is the page's JSON configuration.
export async function start(config, pages) {
  const analysis = new Analysis(config.thresholds);
  let copyFrom = () => 0;
  const copyLink = setupCopyLink(() => copyFrom());
  const controls = {};
  setupKeyboard(controls, setupHelp(), copyLink);

  // rrweb needs two events to start; a tiny first page is topped up.
  const events = [];
  let more = true;
  while (more && events.length < 2) {
    const next = await pages.next();
    if (next.done) break;
    events.push(...next.value.events.map(neutralize));
    more = next.value.more;
  }
  if (events.length < 2) {
    say(events.length ? "This window has a single event: nothing to replay." : "No events were recorded in this window.");
    return;
  }
  analysis.add(events);
  const viewport = firstViewport(events) || analysis.meta?.viewport;

  const stage = byId("player");
  const startAt = typeof config.startAt === "number" ? config.startAt * 1000 : null;
  const player = new Player({
    target: stage,
    props: {
      events,
      ...stageSize(stage, viewport),
      autoPlay: startAt === null,
      showController: false,
      skipInactive: true,
      speedOption: SPEEDS,
      speed: 1,
      // rrweb's virtual DOM (on by default) speeds seeks up but can drop
      // nodes: an event rrweb takes in after a seek with an earlier time
      // goes into it and is never drawn, and rrweb issue #1358 reports nodes
      // missing after seeks. Without it a seek replays mutations on the real
      // DOM: 1.3-1.7x slower across 3,000-10,000 mutations of one page.
      useVirtualDom: false,
    },
  });
  const replayer = player.getReplayer();
  // rrweb replays focus changes with .focus() inside the frame, which would
  // take the keyboard away from the shortcuts: the replay is look-only.
  replayer.iframe.setAttribute("tabindex", "-1");
  // the page's Referrer-Policy is no-referrer; should the frame ever navigate, so is its
  replayer.iframe.setAttribute("referrerpolicy", "no-referrer");
  const keepKeyboard = () => {
    if (document.activeElement === replayer.iframe) {
      replayer.iframe.blur();
      window.focus();
    }
  };
  window.addEventListener("blur", () => setTimeout(keepKeyboard, 0));
  const timeline = new Timeline(player, analysis);
  copyFrom = () => timeline.current;
  const seek = (t) => timeline.seek(t);
  const sidebar = new Sidebar(analysis, seek);
  const clicks = new ClickOverlay(replayer, analysis);
  const depth = new ScrollDepth(replayer, analysis);
  const currentUrl = byId("current-url");
  timeline.on((t) => {
    keepKeyboard();
    sidebar.highlight(t);
    clicks.update(t);
    depth.update(t, timeline.jumped);
    const page = analysis.pageAt(t);
    if (page && page.href && currentUrl.textContent !== page.href) currentUrl.textContent = page.href;
  });
  Object.assign(controls, { timeline, sidebar, overlay: clicks });
  replayer.on("skip-start", () => say("Skipping inactivity…"));
  replayer.on("skip-end", () => say(""));

  let loaded = events.length;
  let loading = more;
  let resumeAt = null;
  let pendingSeek = startAt;
  replayer.on("finish", () => {
    // The end of what is loaded is not the end of the session: wait for more.
    if (loading) {
      resumeAt = timeline.current;
      say("Buffering…");
    }
  });
  const refresh = () => {
    const fraction = config.eventCount ? Math.min(1, loaded / config.eventCount) : loading ? 0.5 : 1;
    timeline.layout(analysis.duration, loading ? fraction : 1);
    sidebar.render();
    sidebar.highlight(timeline.current, false);
    renderVitals(analysis, seek);
    if (pendingSeek !== null && (!loading || analysis.duration >= pendingSeek)) {
      timeline.seek(Math.min(pendingSeek, analysis.duration), false);
      pendingSeek = null;
    }
  };
  byId("controls").hidden = false;
  refresh();
  timeline.emit();

  window.addEventListener("resize", () => {
    clearTimeout(start.resizeTimer);
    start.resizeTimer = setTimeout(() => {
      player.$set(stageSize(stage, viewport));
      player.triggerResize();
    }, 150);
  });

  say(loading ? `Loading events… ${loaded.toLocaleString()}` : "");
  while (loading) {
    const next = await pages.next();
    if (next.done) break;
    const page = next.value;
    for (const event of page.events) player.addEvent(neutralize(event));
    analysis.add(page.events);
    loaded += page.events.length;
    loading = page.more;
    // rrweb takes each added event in one microtask later. A seek (refresh
    // runs a pending ?t=) before then would leave the page's earlier events
    // behind it: drawn one by one after the seek, and rrweb's last played
    // event would go stale, so that a later seek back skips the rebuild and
    // keeps nodes that did not exist yet.
    await Promise.resolve();
    refresh();
    if (resumeAt !== null) {
      timeline.seek(resumeAt, true);
      resumeAt = null;
    }
    say(loading ? `Loading events… ${loaded.toLocaleString()}` : "");
  }
  loading = false;
  refresh();
  if (!analysis.hasSnapshot) {
    say("This window has no full page snapshot, so the page cannot be drawn " +
      "(its first events may have been dropped by a limit).", true);
  }
  document.body.dataset.replayLoaded = String(loaded);
}
