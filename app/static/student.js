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

  // The API knows an upload by its name: a file chosen in the "cosine_cnn" field goes as
  // cosine_cnn.safetensors (or .pt), whatever it is called on the student's disk.
  function uploadName(input, name) {
    const accepted = (input.dataset.accept || "").split(",").filter(Boolean);
    const ext = name.includes(".") ? name.slice(name.lastIndexOf(".")) : "";
    return accepted.find(a => a.endsWith(ext)) || name;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const body = new FormData();
    body.append("exercise", form.elements["exercise"].value);
    body.append("answers", JSON.stringify(answers()));
    for (const input of form.querySelectorAll("input[type=file]")) {
      for (const file of input.files) body.append("files", file, uploadName(input, file.name));
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
      status.className = "error";
      status.textContent = doc.detail || ("Error " + r.status);
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
