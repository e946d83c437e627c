// The bundled browser app end to end: headless Chromium opens the Vite build with WebGPU on
// SwiftShader (the CPU Vulkan driver Chromium ships), or without an adapter; the page's worker
// trains with SAM on the backend it chose and the page posts the losses back.
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { serve } from "../src/serve.js";
import { chromiumMissing, openChromium } from "./chromium.js";

const missing = chromiumMissing();
if (missing && process.env.SAM_REQUIRE_WEBGPU === "1") throw new Error(`SAM_REQUIRE_WEBGPU=1 but ${missing}`);
if (missing) console.warn(`\n*** browser page tests SKIPPED: ${missing} ***\n`);
/** The suites' names say why they were skipped, where they were. */
const why = missing ? ` (SKIPPED: ${missing})` : "";

interface Report { device?: string; fellBack?: string; losses?: number[]; workerShares?: number; longestGapMs?: number; error?: string }

/** Opens the page in headless Chromium (with or without a WebGPU adapter) and resolves with what it posts. */
async function openPage(query = "", webgpu = true): Promise<Report> {
  let resolveReport: (r: Report) => void = () => {};
  const reported = new Promise<Report>((resolve) => (resolveReport = resolve));
  const server = await serve(0, (body) => resolveReport(JSON.parse(body) as Report));
  const { port } = server.address() as AddressInfo;
  const browser = openChromium(`http://127.0.0.1:${port}/?report=/report${query}`, { webgpu });
  const early = browser.exited.then((): Report => ({ error: "chromium exited before the page reported" }));
  try {
    return await Promise.race([reported, early]);
  } finally {
    await browser.stop();
    server.close();
  }
}

describe.skipIf(missing !== null).each([
  ["WebGPU", "&device=webgpu", /swiftshader/i],
  ["the CPU backend's WebAssembly kernels", "&device=cpu", /CPU/],
])(`the browser app on %s${why}`, (_name, query, device) => {
  it("trains with SAM in its worker, the loss goes down, and the page's thread stays free", async () => {
    const r = await openPage(query);
    expect(r.error).toBeUndefined();
    expect(r.device).toMatch(device);
    expect(r.fellBack).toBeUndefined();
    const losses = r.losses ?? [];
    expect(losses).toHaveLength(12);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    // the page's timer ticks every 20 ms while the worker trains
    expect(r.longestGapMs).toBeLessThan(1000);
  }, 120_000);
});

describe.skipIf(missing !== null)(`the browser app choosing its device${why}`, () => {
  it("takes WebGPU where the browser offers an adapter", async () => {
    const r = await openPage();
    expect(r.error).toBeUndefined();
    expect(r.device).toMatch(/swiftshader/i);
    expect(r.fellBack).toBeUndefined();
  }, 120_000);

  it("falls back to the CPU where it offers none, and says so", async () => {
    const r = await openPage("", false);
    expect(r.error).toBeUndefined();
    expect(r.device).toMatch(/CPU \(WebAssembly\) on \d thread/);
    expect(r.fellBack).toContain("no WebGPU adapter");
    expect(r.losses![11]).toBeLessThan(r.losses![0] * 0.5);
  }, 120_000);

  it("with ?device=webgpu and no adapter, fails with the reason instead of falling back", async () => {
    const r = await openPage("&device=webgpu", false);
    expect(r.error).toContain("no WebGPU adapter");
  }, 120_000);
});

describe.skipIf(missing !== null)(`the browser app on the CPU backend's Web Workers${why}`, () => {
  it("trains on two threads with the same losses as on one, the worker taking shares", async () => {
    const scale = "&device=cpu&batch=256&size=16"; // large enough for the kernels to share work
    const one = await openPage(`${scale}&threads=1`);
    const two = await openPage(`${scale}&threads=2`);
    expect(one.error).toBeUndefined();
    expect(two.error).toBeUndefined();
    expect(two.device).toMatch(/2 threads/);
    expect(one.workerShares).toBe(0);
    expect(two.workerShares).toBeGreaterThan(0);
    expect(two.losses).toEqual(one.losses);
    expect(one.losses![11]).toBeLessThan(one.losses![0] * 0.5);
  }, 240_000);
});
