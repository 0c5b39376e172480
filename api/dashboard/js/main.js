// The page's router (#/, #/new, #/jobs/ID, #/trials/ID) and the token flow.

import { ApiError, token } from "./api.js";
import { el } from "./format.js";
import { jobPage } from "./job.js";
import { jobsPage } from "./jobs.js";
import { submitPage } from "./submit.js";
import { trialPage } from "./trial.js";

const ROUTES = [
  [/^#?\/?$/, () => jobsPage()],
  [/^#\/new$/, () => submitPage()],
  [/^#\/jobs\/(\d+)$/, (m) => jobPage(Number(m[1]))],
  [/^#\/trials\/(\d+)$/, (m) => trialPage(Number(m[1]))],
];

const view = document.getElementById("view");
const tokenForm = document.getElementById("token-form");
const forget = document.getElementById("forget-token");
let current = null; // the shown page: { node, stop() }

function askForToken(message) {
  tokenForm.hidden = false;
  view.replaceChildren();
  document.getElementById("token-why").textContent = message;
  tokenForm.elements.token.focus();
}

function failed(error) {
  // one place that turns an error into what the user sees
  if (error instanceof ApiError && error.status === 401) {
    askForToken(token.get() ? "The stored token was refused; enter the right one." : "This server needs a token (NAS_API_TOKEN); it is kept in this browser only.");
    return;
  }
  if (error?.name === "AbortError") return;
  view.replaceChildren(el("p", { class: "error" }, `Error: ${error.message}`));
}

async function route() {
  current?.stop?.();
  current = null;
  forget.hidden = !token.get();
  tokenForm.hidden = true;
  const hash = window.location.hash || "#/";
  for (const [pattern, make] of ROUTES) {
    const match = hash.match(pattern);
    if (!match) continue;
    try {
      const page = make(match);
      current = page;
      view.replaceChildren(page.node);
      await page.ready;
    } catch (error) {
      failed(error);
    }
    return;
  }
  view.replaceChildren(el("p", { class: "error" }, `No page at ${hash}`));
}

tokenForm.addEventListener("submit", (event) => {
  event.preventDefault();
  token.set(tokenForm.elements.token.value.trim());
  tokenForm.reset();
  route();
});
forget.addEventListener("click", () => {
  token.clear();
  route();
});
window.addEventListener("hashchange", route);
window.addEventListener("nas:error", (event) => failed(event.detail));
window.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  failed(event.reason);
});
route();
