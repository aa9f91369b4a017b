// The REST API (API.md), one function. Errors become ApiError with the server's message.

import { page } from "./state.js";

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/**
 * Call `/api/v1{path}`. `body` is sent as JSON; requests that change the session
 * carry the owner token. Resolves to the parsed JSON, rejects with ApiError.
 */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && page.token) headers.Authorization = `Bearer ${page.token}`;
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network", `${err.message} (${method} ${path})`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const message = error.message || `${response.status} ${response.statusText} (${method} ${path})`;
    throw new ApiError(response.status, error.code, message, error.field);
  }
  return data;
}
