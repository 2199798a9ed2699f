// Progressive enhancement only: every page and action works without this
// file. Times stay as the server wrote them, in the shop's time zone, so
// every reader sees the same clock.
(() => {
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
    all.setAttribute("aria-label", "Select all messages on this page");
    all.addEventListener("change", () => boxes.forEach((box) => { box.checked = all.checked; }));
    table.querySelector("thead th").replaceChildren(all);
  }

  // Confirmations: opening one puts focus on its confirming button, or on
  // Cancel where confirming destroys something (a stray Enter must not
  // delete); Esc and Cancel close it without reloading and give focus back
  // to the opener.
  for (const confirm of document.querySelectorAll("details.confirm")) {
    const opener = confirm.querySelector("summary");
    const close = () => {
      confirm.open = false;
      opener.focus();
    };
    confirm.addEventListener("toggle", () => {
      if (!confirm.open) return;
      const button = confirm.querySelector(".confirm-box button");
      const target = button?.classList.contains("danger") ? confirm.querySelector("a.cancel") : button;
      target?.focus();
    });
    confirm.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && confirm.open) {
        event.preventDefault();
        close();
      }
    });
    confirm.querySelector("a.cancel")?.addEventListener("click", (event) => {
      event.preventDefault();
      close();
    });
  }

  // A long redrive goes on by itself; without JavaScript the form waits
  // for a click on "Continue".
  const next = document.querySelector("form[data-auto-continue]");
  if (next) {
    const button = next.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
      button.textContent = "Continuing…";
    }
    setTimeout(() => next.submit(), 300);
  }
})();
