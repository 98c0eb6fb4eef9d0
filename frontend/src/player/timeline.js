// Our controls for rrweb-player (its own controller is hidden): play/pause,
// a scrubber with markers and idle stretches, speeds and skip-inactivity.
// Seeking always works, even while rrweb is fast-forwarding through an idle
// stretch (rrweb-player's scrubber refuses clicks then).

import { byId, h } from "./dom.js";
import { seekTime } from "./analysis.js";
import { clock } from "./format.js";

export const SPEEDS = [1, 2, 4, 8, 16];
const MARKER_TITLES = {
  click: "Click",
  rage: "Rage click",
  dead: "Dead click",
  navigation: "Page view",
  error: "Error",
  custom: "Custom event",
  submit: "Form submit",
};

export class Timeline {
  constructor(player, analysis, { onSeek } = {}) {
    this.player = player;
    this.replayer = player.getReplayer();
    this.analysis = analysis;
    this.onSeek = onSeek || (() => {});
    this.current = 0;
    this.total = 0;
    this.playing = false;
    this.speed = 1;
    this.skipInactive = true;
    this.track = byId("track");
    this.markers = byId("markers");
    this.playButton = byId("play");
    this.listeners = [];
    this.wire();
  }

  on(fn) {
    this.listeners.push(fn);
  }

  emit() {
    for (const fn of this.listeners) fn(this.current, this);
  }

  wire() {
    this.player.addEventListener("ui-update-current-time", ({ payload }) => {
      // a seek to the end hands rrweb 1 ms more (replayTime): still the end
      this.current = this.total ? Math.min(payload, this.total) : payload;
      this.paint();
      this.emit();
    });
    this.player.addEventListener("ui-update-player-state", ({ payload }) => this.setPlaying(payload === "playing"));
    // autoPlay started before these listeners existed
    this.setPlaying(Boolean(this.replayer.service?.state?.matches?.("playing")));
    this.playButton.addEventListener("click", () => this.toggle());
    for (const button of document.querySelectorAll("#speeds [data-speed]")) {
      button.addEventListener("click", () => this.setSpeed(Number(button.dataset.speed)));
    }
    const skip = byId("skip-inactive");
    skip.addEventListener("change", () => this.setSkipInactive(skip.checked));
    this.track.addEventListener("pointerdown", (event) => this.startDrag(event));
    this.refreshSpeedButtons();
  }

  setPlaying(playing) {
    this.playing = playing;
    this.playButton.textContent = playing ? "❚❚" : "▶";
    this.playButton.setAttribute("aria-label", playing ? "Pause" : "Play");
    document.body.dataset.playing = String(playing);
  }

  startDrag(event) {
    if (!this.total) return;
    event.preventDefault();
    const fraction = (e) => {
      const rect = this.track.getBoundingClientRect();
      return Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
    };
    const preview = (e) => {
      this.current = fraction(e) * this.total;
      this.paint();
    };
    const finish = (e) => {
      window.removeEventListener("pointermove", preview);
      window.removeEventListener("pointerup", finish);
      this.seek(fraction(e) * this.total);
    };
    preview(event);
    window.addEventListener("pointermove", preview);
    window.addEventListener("pointerup", finish);
  }

  seek(ms, play) {
    const target = Math.min(Math.max(0, ms), this.total);
    // A seek during a skip would otherwise leave rrweb fast-forwarding.
    if (this.replayer.speedService?.state?.matches?.("skipping")) this.replayer.backToNormal();
    this.player.goto(this.replayTime(target), play);
    this.current = target;
    this.paint();
    this.jumped = true; // listeners refresh everything after a seek
    this.emit();
    this.jumped = false;
    this.onSeek(target);
  }

  // A seek back to before the first snapshot makes rrweb forget every node
  // without drawing the snapshot again: the page stays as it was and every
  // later mutation finds nothing to change. The snapshot is what the start
  // looks like, so that is where rrweb goes.
  //
  // rrweb applies the events before the moment it is given, and the end of
  // the timeline is the last event's own time: the end goes 1 ms further,
  // or the last event's changes would be left out.
  replayTime(ms) {
    const first = this.analysis.firstSnapshotAt;
    if (first !== null && ms <= first) return first + 1;
    return this.total && ms >= this.total ? this.total + 1 : ms;
  }

  step(deltaMs) {
    this.seek(this.current + deltaMs);
  }

  toggle() {
    if (this.playing) {
      this.player.pause();
    } else if (this.total && this.current >= this.total - 50) {
      this.seek(0, true);
    } else {
      this.player.play();
    }
  }

  setSpeed(speed) {
    if (!SPEEDS.includes(speed)) return;
    this.speed = speed;
    this.player.setSpeed(speed);
    this.refreshSpeedButtons();
  }

  shiftSpeed(direction) {
    const index = SPEEDS.indexOf(this.speed) + direction;
    if (index >= 0 && index < SPEEDS.length) this.setSpeed(SPEEDS[index]);
  }

  refreshSpeedButtons() {
    for (const button of document.querySelectorAll("#speeds [data-speed]")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.speed) === this.speed));
    }
  }

  setSkipInactive(on) {
    this.skipInactive = on;
    byId("skip-inactive").checked = on;
    if (on !== this.replayer.config.skipInactive) this.player.toggleSkipInactive();
  }

  pct(ms) {
    return this.total ? `${Math.min(100, (100 * ms) / this.total)}%` : "0%";
  }

  paint() {
    const at = this.pct(this.current);
    byId("played").style.width = at;
    byId("handle").style.left = at;
    byId("current-time").textContent = clock(this.current);
    this.track.setAttribute("aria-valuenow", String(Math.round(this.current / 1000)));
    this.track.setAttribute("aria-valuetext", clock(this.current));
    this.track.dataset.current = String(Math.round(this.current));
  }

  // Called whenever more events arrived: the scale and the markers change.
  layout(total, loadedFraction) {
    this.total = total;
    byId("total-time").textContent = clock(total);
    byId("loaded").style.width = `${Math.round(loadedFraction * 100)}%`;
    this.track.setAttribute("aria-valuemax", String(Math.round(total / 1000)));
    const inactive = byId("inactive-layer");
    inactive.replaceChildren(
      ...this.analysis.inactive.map(([from, to]) =>
        h("div", { class: "inactive", style: `left:${this.pct(from)};width:${this.pct(to - from)}`, title: "Inactive" }),
      ),
    );
    const markers = this.analysis.items
      .filter((item) => item.marker)
      .map((item) =>
        h("button", {
          type: "button",
          class: `marker ${item.marker}`,
          style: `left:${this.pct(item.t)}`,
          title: `${MARKER_TITLES[item.marker]} at ${clock(item.t)}: ${item.label}`,
          "aria-label": `${MARKER_TITLES[item.marker]} at ${clock(item.t)}`,
          "data-t": String(item.t),
          onclick: () => this.seek(seekTime(item)),
        }),
      );
    this.markers.replaceChildren(...markers);
    this.paint();
  }
}
