// A small index of the recorded page's elements, built from full snapshots
// and added nodes, so the activity list can say "button 'Sign up'" instead of
// "node 42". It never reads form values: field labels come from name, id,
// type, placeholder and aria-label only.

import { NodeType } from "@rrweb/types";

const { Element: ELEMENT, Text: TEXT } = NodeType;
const KEPT_ATTRIBUTES = ["id", "name", "type", "role", "aria-label", "placeholder", "title", "alt"];
const NO_TEXT = new Set(["script", "style", "textarea", "select", "option", "noscript", "head", "title"]);
const FIELDS = new Set(["input", "textarea", "select"]);
const TEXT_LIMIT = 40;

export class NodeIndex {
  constructor() {
    this.nodes = new Map();
  }

  add(root, parentId = null) {
    if (!root || typeof root !== "object") return;
    const stack = [[root, parentId]];
    while (stack.length) {
      const [node, parent] = stack.pop();
      if (!node || typeof node !== "object") continue;
      if (node.type === ELEMENT && typeof node.id === "number") {
        const attrs = {};
        const source = node.attributes && typeof node.attributes === "object" ? node.attributes : {};
        for (const name of KEPT_ATTRIBUTES) {
          if (typeof source[name] === "string" && source[name]) attrs[name] = source[name].slice(0, 80);
        }
        const tag = typeof node.tagName === "string" ? node.tagName.toLowerCase() : "element";
        this.nodes.set(node.id, { tag, attrs, text: "", parent });
      } else if (node.type === TEXT && typeof node.textContent === "string") {
        this.addText(parent, node.textContent);
      }
      const children = Array.isArray(node.childNodes) ? node.childNodes : [];
      for (let i = children.length - 1; i >= 0; i--) {
        stack.push([children[i], node.type === ELEMENT ? node.id : parent]);
      }
    }
  }

  addText(parentId, raw) {
    const text = raw.replace(/\s+/g, " ").trim();
    if (!text) return;
    // The text belongs to its element and to a couple of ancestors
    // (<button><span>Buy</span></button>).
    let id = parentId;
    for (let depth = 0; depth < 3 && id !== null && id !== undefined; depth++) {
      const el = this.nodes.get(id);
      if (!el || NO_TEXT.has(el.tag) || FIELDS.has(el.tag)) return;
      if (el.text.length < TEXT_LIMIT) {
        el.text = `${el.text} ${text}`.trim().slice(0, TEXT_LIMIT);
      }
      id = el.parent;
    }
  }

  isField(id) {
    const el = this.nodes.get(id);
    return Boolean(el && FIELDS.has(el.tag));
  }

  label(id) {
    const el = this.nodes.get(id);
    if (!el) return `element #${id}`;
    const a = el.attrs;
    let label = el.tag;
    if (FIELDS.has(el.tag) && a.type) label += `[type=${a.type}]`;
    if (a.id) label += `#${a.id}`;
    else if (a.name) label += `[name=${a.name}]`;
    const words = el.text || a["aria-label"] || a.placeholder || a.title || a.alt || "";
    return words ? `${label} “${words}”` : label;
  }
}
