// Checks a built documentation site the way a reader meets it: every link and anchor in its HTML
// leads somewhere, and each page visited in headless Chromium shows content without an error.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, extname, join, normalize, relative, sep } from "node:path";
import { openChromium } from "./chromium.js";

/** What the probe in each visited page reports. */
export interface PageReport {
  path: string;
  title: string;
  /** Characters of text in the page's main column. */
  text: number;
  /** Formulas rendered as MathML. */
  math: number;
  /** Same-origin links in the rendered page (the navigation tree is built by a script). */
  links: string[];
  errors: string[];
}

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".json": "application/json" };

/** Runs first in every served page: records errors, then reports and moves to the next page. */
const PROBE = `<script>(() => {
  const errors = [];
  addEventListener("error", (e) => errors.push(e.message || "failed to load " + (e.target && (e.target.src || e.target.href))), true);
  addEventListener("unhandledrejection", (e) => errors.push("unhandled rejection: " + e.reason));
  const error = console.error.bind(console);
  console.error = (...args) => { errors.push(args.map(String).join(" ")); error(...args); };
  addEventListener("load", () => setTimeout(async () => {
    const main = document.querySelector(".col-content");
    const links = [...document.querySelectorAll("a[href]")].map((a) => a.href).filter((h) => h.startsWith(location.origin));
    const report = { path: location.pathname, title: document.title, text: main ? main.innerText.trim().length : 0,
      math: document.querySelectorAll("math").length, links, errors };
    const next = await (await fetch("/__report", { method: "POST", body: JSON.stringify(report) })).text();
    if (next) location.href = next;
  }, 1000));
})();</script>`;

/** Every file under `dir`, relative to it, with "/" separators. */
export function siteFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"));
}

/** Whether `file` (relative to `dir`) has an element with id or name `anchor`. */
function hasAnchor(dir: string, file: string, anchor: string): boolean {
  const text = readFileSync(join(dir, file), "utf8");
  const id = decodeURIComponent(anchor).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(id|name)="${id}"`).test(text);
}

/**
 * The links of the site's HTML files (href and src) that lead nowhere: a missing file, or an
 * anchor no element carries. External addresses are not fetched (the checks run offline).
 */
export function brokenLinks(dir: string): string[] {
  const broken: string[] = [];
  for (const file of siteFiles(dir).filter((f) => f.endsWith(".html"))) {
    const html = readFileSync(join(dir, file), "utf8");
    for (const [, target] of html.matchAll(/(?:href|src)="([^"]*)"/g)) {
      if (target === "" || target === "#" || /^[a-z]+:/i.test(target) || target.startsWith("//")) continue;
      const [path, anchor] = target.split("#");
      const resolved = path === "" ? file : normalize(join(dirname(file), decodeURIComponent(path))).split(sep).join("/");
      if (resolved.startsWith("..") || !existsSync(join(dir, resolved))) broken.push(`${file}: ${target} (no such file)`);
      else if (anchor && !hasAnchor(dir, resolved, anchor)) broken.push(`${file}: ${target} (no element with id "${anchor}")`);
    }
  }
  return broken;
}

/** Serves `dir` with the probe in every page; the probe's reports go to `onReport`, which answers with the next page. */
function serveSite(dir: string, onReport: (r: PageReport) => string, missing: string[]): Promise<Server> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "POST" && url.pathname === "/__report") {
      let body = "";
      for await (const chunk of req) body += chunk;
      res.writeHead(200, { "content-type": "text/plain" }).end(onReport(JSON.parse(body) as PageReport));
      return;
    }
    const file = normalize(join(dir, decodeURIComponent(url.pathname.endsWith("/") ? `${url.pathname}index.html` : url.pathname)));
    if (!file.startsWith(dir) || !existsSync(file)) {
      missing.push(url.pathname);
      res.writeHead(404).end();
      return;
    }
    let body: Buffer | string = readFileSync(file);
    if (extname(file) === ".html") body = body.toString("utf8").replace("<head>", `<head>${PROBE}`);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** The visit: each page's report, and the requests that found nothing. */
export interface Visit {
  pages: PageReport[];
  missing: string[];
  /** Pages the browser never reported (it stopped, or a page never finished loading). */
  unvisited: string[];
}

/** Opens `pages` (paths relative to `dir`) one after another in headless Chromium. */
export async function visitSite(dir: string, pages: string[], timeoutMs: number): Promise<Visit> {
  const reports: PageReport[] = [];
  const missing: string[] = [];
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const queue = [...pages];
  const server = await serveSite(dir, (r) => {
    reports.push(r);
    const next = queue.shift();
    if (next === undefined) done();
    return next === undefined ? "" : `/${next}`;
  }, missing);
  const { port } = server.address() as AddressInfo;
  const browser = openChromium(`http://127.0.0.1:${port}/${queue.shift()}`);
  const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs));
  try {
    await Promise.race([finished, browser.exited, timer]);
  } finally {
    await browser.stop();
    server.close();
  }
  const seen = new Set(reports.map((r) => r.path.slice(1)));
  return { pages: reports, missing, unvisited: pages.filter((p) => !seen.has(p)) };
}
