// Keyboard moderation for /moderate: j/k move, a approve, s spam, r reject, e edit,
// x select, ? help. Actions POST with the CSRF token and ask for JSON; without this
// script every action still works through its form.
(() => {
  "use strict";
  const list = document.getElementById("mod-list");
  if (!list) return;
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const help = document.getElementById("mod-help");
  const live = document.getElementById("mod-status");
  const rows = () => Array.from(list.querySelectorAll(".mod-row"));
  let current = 0;

  function say(text) { if (live) live.textContent = text; }

  function select(index) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, n) => row.classList.toggle("current", n === current));
    all[current].focus({ preventScroll: true });
    all[current].scrollIntoView({ block: "nearest" });
  }

  async function act(name) {
    const row = rows()[current];
    if (!row) return;
    const url = row.dataset[name + "Url"];
    if (!url) return;
    row.classList.add("busy");
    try {
      const response = await fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
      });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      say(data.message);
      if (data.status && data.status !== row.dataset.status) {
        row.remove();
        const left = rows();
        if (!left.length) list.insertAdjacentHTML("beforeend", '<p class="mod-empty">All done here.</p>');
        select(current);
      }
    } catch (error) {
      say("That did not work (" + error.message + "). Reload the page and try again.");
    } finally {
      row.classList.remove("busy");
    }
  }

  function toggleHelp(show) { if (help) help.hidden = show === undefined ? !help.hidden : !show; }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    const row = rows()[current];
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "a": act("approve"); break;
      case "s": act("spam"); break;
      case "r": act("reject"); break;
      case "e": if (row) window.location.href = row.dataset.editUrl; break;
      case "x": if (row) { const box = row.querySelector('input[type="checkbox"]'); box.checked = !box.checked; } break;
      case "?": toggleHelp(); break;
      case "Escape": toggleHelp(false); break;
      default: return;
    }
    event.preventDefault();
  });

  list.addEventListener("click", (event) => {
    const row = event.target.closest(".mod-row");
    if (row) { const index = rows().indexOf(row); if (index >= 0 && index !== current) select(index); }
  });
  select(0);
})();
