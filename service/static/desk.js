// The writer's desk: live preview (rendered by the server, same code as the public page)
// and autosave of the draft's text, so nothing is lost when the tab closes.
(function () {
  const form = document.getElementById("desk-form");
  if (!form) return;
  const body = form.querySelector("[name=body_md]");
  const title = form.querySelector("[name=title]");
  const preview = document.getElementById("preview");
  const status = document.getElementById("autosave-status");
  const token = form.querySelector("[name=csrf_token]").value;
  const post = (url, data) => fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": token},
    body: JSON.stringify(data), keepalive: true,
  });
  let previewTimer, saveTimer, dirty = false;
  async function renderPreview() {
    const response = await post(form.dataset.preview, {body_md: body.value});
    if (response.ok) preview.innerHTML = (await response.json()).html;
  }
  let saving = Promise.resolve();
  function autosave() {  // one save at a time, so a new draft is created only once
    saving = saving.then(saveNow, saveNow);
    return saving;
  }
  async function saveNow() {
    if (!dirty || !title.value.trim()) return;
    dirty = false;
    const data = {title: title.value, body_md: body.value};
    if (!form.dataset.autosave) {  // a new issue: its first autosave creates the draft
      const created = await post(form.dataset.create, data);
      const answer = await created.json();
      if (!created.ok) { status.textContent = answer.error; return; }
      form.dataset.autosave = answer.autosave_url;
      form.action = answer.edit_url;
      history.replaceState(null, "", answer.edit_url);
      status.textContent = `Draft saved at ${answer.saved_at}`;
      return;
    }
    const response = await post(form.dataset.autosave, data);
    const answer = await response.json();
    status.textContent = response.ok ? `Draft saved at ${answer.saved_at}` : answer.error;
  }
  function changed() {
    dirty = true;
    clearTimeout(previewTimer); previewTimer = setTimeout(renderPreview, 250);
    clearTimeout(saveTimer); saveTimer = setTimeout(autosave, 1500);
  }
  body.addEventListener("input", changed);
  title.addEventListener("input", changed);
  form.addEventListener("submit", () => { dirty = false; });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") autosave();
  });
  window.addEventListener("beforeunload", autosave);
  renderPreview();
})();
