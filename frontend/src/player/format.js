// Times and values as the player shows them.

export function clock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export function vitalValue(name, value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "?";
  if (name === "CLS") return value.toFixed(3);
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

export function truncate(text, limit = 300) {
  const s = String(text ?? "");
  return s.length > limit ? `${s.slice(0, limit - 1)}…` : s;
}

// Custom event properties and console arguments as one line of text.
export function compactJson(value, limit = 300) {
  try {
    return truncate(typeof value === "string" ? value : JSON.stringify(value), limit);
  } catch {
    return "";
  }
}
