// Defence in depth for replays: the replay iframe is sandboxed without
// allow-scripts, so recorded handlers never run; renaming them as well keeps
// them inert should the sandbox ever be loosened, and keeps Chromium from
// logging every blocked attempt.
//
// A recording may also try to reach other hosts or tell them who watches.
// The page's Content-Security-Policy blocks what it loads from hosts not
// recorded; renamed here are what a policy does not cover or what would
// loosen the page's "no-referrer": <meta name="referrer"> and http-equiv,
// referrerpolicy and ping attributes, and connection hints (preconnect,
// dns-prefetch, prefetch, prerender, preload).

import { EventType, IncrementalSource, NodeType } from "@rrweb/types";

const { FullSnapshot: FULL_SNAPSHOT, IncrementalSnapshot: INCREMENTAL } = EventType;
const MUTATION = IncrementalSource.Mutation;
const INERT = new Set(["referrerpolicy", "ping", "http-equiv"]);
const HINTS = /(^|\s)(preconnect|dns-prefetch|prefetch|prerender|preload|modulepreload)(\s|$)/i;

function rename(attributes, name) {
  attributes[`_${name}`] = attributes[name];
  delete attributes[name];
}

function cleanAttributes(attributes) {
  if (!attributes || typeof attributes !== "object") return;
  for (const name of Object.keys(attributes)) {
    const lower = name.toLowerCase();
    const value = attributes[name];
    if (lower.startsWith("on") || INERT.has(lower)) {
      rename(attributes, name);
    } else if (typeof value === "string" && ((lower === "name" && value.trim().toLowerCase() === "referrer") ||
      (lower === "rel" && HINTS.test(value)))) {
      rename(attributes, name);
    } else if ((lower === "href" || lower === "src" || lower === "action" || lower === "formaction") &&
      typeof attributes[name] === "string" && /^\s*javascript:/i.test(attributes[name])) {
      attributes[name] = "#";
    }
  }
}

function cleanTree(root) {
  const stack = [root];
  while (stack.length) {
    const node = stack.pop();
    if (!node || typeof node !== "object") continue;
    if (node.type === NodeType.Element) cleanAttributes(node.attributes);
    if (Array.isArray(node.childNodes)) stack.push(...node.childNodes);
  }
}

export function neutralize(event) {
  const data = event && event.data;
  if (!data || typeof data !== "object") return event;
  if (event.type === FULL_SNAPSHOT) cleanTree(data.node);
  else if (event.type === INCREMENTAL && data.source === MUTATION) {
    for (const add of Array.isArray(data.adds) ? data.adds : []) cleanTree(add && add.node);
    for (const change of Array.isArray(data.attributes) ? data.attributes : []) {
      cleanAttributes(change && change.attributes);
    }
  }
  return event;
}
