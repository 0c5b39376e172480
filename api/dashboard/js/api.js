// The one way the page talks to the server: /api/v1 with the bearer token, JSON errors.

const BASE = "/api/v1";
const TOKEN_KEY = "nas.token";

export class ApiError extends Error {
  // status, message and the field-level errors of the API's error JSON (api/errors.py)
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.errors = body?.errors || [];
  }
}

export const token = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (value) => localStorage.setItem(TOKEN_KEY, value),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

export async function api(path, { method = "GET", json, form, signal } = {}) {
  const headers = {};
  const bearer = token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  const response = await fetch(BASE + path, { method, headers, body, signal });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return { data, bytes: text.length };
}

export const get = async (path, options) => (await api(path, options)).data;

export function reportError(error) {
  // pages' background work reports here; main.js shows it (or asks for the token)
  window.dispatchEvent(new CustomEvent("nas:error", { detail: error }));
}

export function every(ms, work) {
  // run work() now and then ms after each run ends, until stop(); errors end the loop
  let timer = null;
  let stopped = false;
  const tick = async () => {
    try {
      const again = await work();
      if (!stopped && again !== false) timer = setTimeout(tick, ms);
    } catch (error) {
      if (!stopped) reportError(error);
    }
  };
  const first = tick();
  return {
    first,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

// GET /choices once per page load: the server's vocabulary (statuses, space options, limits)
let choicesOnce = null;
export const choices = () => (choicesOnce ??= get("/choices"));
