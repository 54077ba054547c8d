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
  async function autosave() {
    if (!form.dataset.autosave || !dirty) return;
    dirty = false;
    const response = await post(form.dataset.autosave, {title: title.value, body_md: body.value});
    const data = await response.json();
    status.textContent = response.ok ? `Draft saved at ${data.saved_at}` : data.error;
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
