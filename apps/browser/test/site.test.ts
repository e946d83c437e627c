// The documentation site as a reader meets it: built by typedoc, every link in it leads somewhere,
// and every guide and a sample of API pages opens in headless Chromium with content, its formulas
// rendered, and no error. A page made broken on purpose shows that each check can fail.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { chromiumMissing } from "./chromium.js";
import { brokenLinks, siteFiles, visitSite } from "./siteCheck.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const missing = chromiumMissing();
if (missing && process.env.SAM_REQUIRE_WEBGPU === "1") throw new Error(`SAM_REQUIRE_WEBGPU=1 but ${missing}`);
if (missing) console.warn(`\n*** documentation site tests SKIPPED: ${missing} ***\n`);
const why = missing ? ` (SKIPPED: ${missing})` : "";

describe.skipIf(missing !== null)(`the documentation site${why}`, () => {
  const site = mkdtempSync(join(tmpdir(), "sam-site-"));
  beforeAll(() => {
    const r = spawnSync(process.execPath, [join(ROOT, "node_modules/typedoc/bin/typedoc"), "--out", site], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 200_000);

  it("has no link or anchor that leads nowhere", () => {
    const files = siteFiles(site);
    expect(files.filter((f) => f.startsWith("documents/")).length).toBeGreaterThanOrEqual(10);
    expect(brokenLinks(site)).toEqual([]);
  });

  it("opens every guide and a sample of API pages with content, rendered formulas and no error", async () => {
    const files = siteFiles(site);
    const guides = files.filter((f) => f.startsWith("documents/") && f.endsWith(".html")).sort();
    // each package's page, and the first two pages of each kind of declaration
    const api = ["modules", "classes", "functions", "interfaces"].flatMap((kind) => {
      const all = files.filter((f) => f.startsWith(`${kind}/`) && f.endsWith(".html")).sort();
      return kind === "modules" ? all : all.slice(0, 2);
    });
    const pages = ["index.html", ...guides, ...api, "classes/_sam_optim.SAM.html"];
    const visit = await visitSite(site, pages, 240_000);
    expect(visit.unvisited).toEqual([]);
    expect(visit.missing).toEqual([]);
    for (const p of visit.pages) {
      expect(p.errors, p.path).toEqual([]);
      expect(p.text, `${p.path} is empty`).toBeGreaterThan(200);
      expect(p.title, p.path).not.toBe("");
    }
    const sam = visit.pages.find((p) => p.path.endsWith("Training_with_SAM.html"))!;
    expect(sam.math).toBeGreaterThanOrEqual(4);
    // the links the pages' scripts built (the navigation tree) lead to pages that exist
    const local = new Set(visit.pages.flatMap((p) => p.links.map((l) => new URL(l).pathname.slice(1))));
    expect([...local].filter((l) => l !== "" && !files.includes(l))).toEqual([]);
  }, 300_000);

  it("finds a broken link, a missing file, an empty page and a script error when a page has them", async () => {
    writeFileSync(join(site, "broken.html"), `<!doctype html><html><head><title>broken</title><link rel="icon" href="assets/favicon.svg"></head><body>
<div class="col-content"></div><a href="documents/Nowhere.html">gone</a><a href="index.html#no-such-anchor">anchor</a>
<img src="assets/missing.png"><script>undefinedFunction();</script></body></html>`);
    expect(brokenLinks(site)).toEqual([
      "broken.html: documents/Nowhere.html (no such file)",
      'broken.html: index.html#no-such-anchor (no element with id "no-such-anchor")',
      "broken.html: assets/missing.png (no such file)",
    ]);
    const visit = await visitSite(site, ["broken.html"], 60_000);
    expect(visit.missing).toEqual(["/assets/missing.png"]);
    const [page] = visit.pages;
    expect(page.text).toBe(0);
    expect(page.errors.some((e) => /undefinedFunction is not defined/.test(e))).toBe(true);
    expect(page.errors.some((e) => /failed to load .*missing\.png/.test(e))).toBe(true);
  }, 120_000);
});
