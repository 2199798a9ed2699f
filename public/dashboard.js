// Progressive enhancement only: every page and action works without this file.
(() => {
  // Absolute times in the reader's own locale and time zone.
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  for (const time of document.querySelectorAll("time[datetime]")) {
    const at = new Date(time.getAttribute("datetime"));
    if (!Number.isNaN(at.getTime())) time.textContent = format.format(at);
  }

  // Live figures: reload pages that ask for it, unless the reader is busy.
  const live = document.querySelector("[data-refresh]");
  if (live) {
    const seconds = Number(live.getAttribute("data-refresh")) || 30;
    setInterval(() => {
      const busy = document.activeElement && document.activeElement.matches("input, select, textarea");
      const open = document.querySelector("details[open]");
      if (!busy && !open && document.visibilityState === "visible") location.reload();
    }, seconds * 1000);
  }

  // "Select all" for the dead letters.
  const table = document.querySelector("form.dead-letters table");
  if (table) {
    const boxes = [...table.querySelectorAll("tbody input[type=checkbox]")];
    const all = document.createElement("input");
    all.type = "checkbox";
    all.setAttribute("aria-label", "Select all");
    all.addEventListener("change", () => boxes.forEach((box) => { box.checked = all.checked; }));
    table.querySelector("thead th").replaceChildren(all);
  }
})();
