// The student page's submit: the form's fields become the API's multipart body
// (exercise, answers as JSON, files), sent with the session's CSRF token.
(function () {
  const form = document.getElementById("submit-form");
  if (!form) return;
  const status = document.getElementById("submit-status");

  function answers() {
    const out = {};
    for (const el of form.querySelectorAll("[data-field]")) {
      const value = el.value.trim();
      if (!value) continue;
      if (el.dataset.type === "text_list") {
        out[el.dataset.field] = value.split("\n").map(s => s.trim()).filter(Boolean);
      } else {
        out[el.dataset.field] = value;  // a derivation goes as text, one step per line
      }
    }
    return out;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const body = new FormData();
    body.append("exercise", form.elements["exercise"].value);
    body.append("answers", JSON.stringify(answers()));
    for (const input of form.querySelectorAll("input[type=file]")) {
      for (const file of input.files) body.append("files", file, file.name);
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.className = "notice";
    status.textContent = "Sending…";
    try {
      const r = await fetch("/my/submissions", {
        method: "POST", body, credentials: "same-origin",
        headers: {"X-CSRF-Token": form.elements["csrf"].value,
                  "Idempotency-Key": form.elements["idempotency_key"].value},
      });
      const doc = await r.json().catch(() => ({}));
      if (r.ok) { location.assign(doc.url); return; }
      let message = doc.detail || ("Error " + r.status);
      const wait = r.headers.get("Retry-After");
      if (wait) message += " (Retry-After: " + wait + " s)";
      status.className = "error";
      status.textContent = message;
      // a refused request stored nothing: the next try is a new submission
      form.elements["idempotency_key"].value = crypto.randomUUID ? crypto.randomUUID() : String(Date.now());
    } catch (e) {
      status.className = "error";
      status.textContent = "Could not reach the server; try again.";
    } finally {
      button.disabled = false;
    }
  });
})();
