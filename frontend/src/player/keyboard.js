// Keyboard shortcuts for the replay, listed in the help overlay (?).

import { seekTime } from "./analysis.js";
import { byId } from "./dom.js";
import { SPEEDS } from "./timeline.js";

function typing(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

export function setupHelp() {
  const help = byId("help");
  const open = () => {
    help.hidden = false;
    byId("help-close").focus();
  };
  const close = () => {
    help.hidden = true;
  };
  byId("help-button").addEventListener("click", open);
  byId("help-close").addEventListener("click", close);
  help.addEventListener("click", (event) => {
    if (event.target === help) close();
  });
  return { open, close, toggle: () => (help.hidden ? open() : close()), isOpen: () => !help.hidden };
}

// `controls` gets its timeline, sidebar and overlay once the player runs;
// until then only the help answers.
export function setupKeyboard(controls, help, copyLink) {
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const key = event.key;
    if (key === "Escape") {
      help.close();
      const confirm = byId("delete");
      if (confirm) confirm.open = false;
      return;
    }
    if (key === "?") {
      help.toggle();
      event.preventDefault();
      return;
    }
    const { timeline, sidebar, overlay } = controls;
    if (help.isOpen() || !timeline) return;
    let handled = true;
    if (key === " " || key === "k") timeline.toggle();
    else if (key === "ArrowLeft") timeline.step(event.shiftKey ? -1000 : -5000);
    else if (key === "ArrowRight") timeline.step(event.shiftKey ? 1000 : 5000);
    else if (key === "," || key === ".") {
      const item = sidebar.neighbour(timeline.current, key === "." ? 1 : -1);
      if (item) timeline.seek(seekTime(item));
    } else if (/^[1-5]$/.test(key)) timeline.setSpeed(SPEEDS[Number(key) - 1]);
    else if (key === "+" || key === "=") timeline.shiftSpeed(1);
    else if (key === "-" || key === "_") timeline.shiftSpeed(-1);
    else if (key === "s" || key === "S") timeline.setSkipInactive(!timeline.skipInactive);
    else if (key === "c" || key === "C") overlay.setEnabled(!overlay.enabled);
    else if (key === "l" || key === "L") copyLink();
    else handled = false;
    if (handled) event.preventDefault();
  });
}
