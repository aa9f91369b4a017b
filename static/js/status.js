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

export function showError(err) {
  status(err && err.message ? err.message : String(err), "error");
}
