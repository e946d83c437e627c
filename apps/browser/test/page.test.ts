// The browser page end to end: headless Chromium opens it with WebGPU on SwiftShader (the CPU
// Vulkan driver Chromium ships), the page trains with SAM and posts its losses back.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { serve } from "../src/serve.js";

const CHROMIUM = process.env.CHROMIUM ?? "chromium";
const found = spawnSync(CHROMIUM, ["--version"], { encoding: "utf8" }).status === 0;
if (!found && process.env.SAM_REQUIRE_WEBGPU === "1") throw new Error(`SAM_REQUIRE_WEBGPU=1 but ${CHROMIUM} was not found`);
if (!found) console.warn(`\n*** browser page test SKIPPED: ${CHROMIUM} not found (apt-get install chromium) ***\n`);

interface Report { device?: string; losses?: number[]; workerShares?: number; error?: string }

/** Opens the page in headless Chromium and resolves with what it posts. */
async function openPage(query = ""): Promise<Report> {
  const profile = mkdtempSync(join(tmpdir(), "sam-chromium-"));
  let resolveReport: (r: Report) => void = () => {};
  const reported = new Promise<Report>((resolve) => (resolveReport = resolve));
  const server = await serve(0, (body) => resolveReport(JSON.parse(body) as Report));
  const { port } = server.address() as AddressInfo;
  const chrome = spawn(CHROMIUM, [
    "--headless=new", "--no-sandbox", "--disable-gpu-sandbox", `--user-data-dir=${profile}`,
    "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader", "--use-webgpu-adapter=swiftshader",
    `http://127.0.0.1:${port}/?report=/report${query}`,
  ], { stdio: "ignore", detached: true }); // its own process group, so its helpers can be stopped with it
  const exit = new Promise<number | null>((resolve) => chrome.on("exit", resolve));
  const early = exit.then((code): Report => ({ error: `chromium exited (${code}) before the page reported` }));
  try {
    return await Promise.race([reported, early]);
  } finally {
    try {
      process.kill(-chrome.pid!, "SIGKILL"); // the browser and its GPU and helper processes
    } catch {
      // already gone
    }
    await exit;
    server.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }
}

describe.runIf(found).each([
  ["WebGPU", "", /swiftshader/i],
  ["the CPU backend's WebAssembly kernels", "&device=cpu", /CPU/],
])("the browser page on %s", (_name, query, device) => {
  it("trains with SAM and the loss goes down", async () => {
    const r = await openPage(query);
    expect(r.error).toBeUndefined();
    expect(r.device).toMatch(device);
    const losses = r.losses ?? [];
    expect(losses).toHaveLength(12);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
  }, 120_000);
});

describe.runIf(found)("the browser page on the CPU backend's Web Workers", () => {
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
