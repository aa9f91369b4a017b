// The status line (data-testid="status"): API errors and short notes, never alerts.

const line = document.querySelector('[data-testid="status"]');

export function message(key) {
  return (line && line.dataset[key]) || "";
}

export function status(text, kind = "info") {
  if (!line) return;
  line.textContent = text;
  line.dataset.kind = kind;
}

// A Chinese page names the API's errors by their code (app/i18n.py `error.*`); an English
// page shows the server's own message, which says what to change.
function errorText(err) {
  const text = err && err.message ? err.message : String(err);
  if (document.body.dataset.lang === "en") return text;
  let errors = {};
  try {
    errors = JSON.parse(document.body.dataset.jsTexts || "{}").errors || {};
  } catch {
    return text;
  }
  const local = errors[err && err.code] || errors.generic || text;
  return err && err.field ? `${local}（${err.field}）` : local;
}

export function showError(err) {
  status(errorText(err), "error");
}
