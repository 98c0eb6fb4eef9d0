// Every dashboard page: show recorded times in the viewer's time zone (the
// server renders UTC, which stays in the title).

function pad(n) {
  return String(n).padStart(2, "0");
}

export function localTime(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function localizeTimes() {
  for (const el of document.querySelectorAll("time[datetime]")) {
    const date = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) continue;
    el.title = el.textContent.trim();
    el.textContent = localTime(date);
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", localizeTimes);
else localizeTimes();
