// Downloads from a local HTTP server: redirects, checksum, stalls, and the cache.
import { createServer, type Server } from "node:http";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { download, ensureFile, md5 } from "../src/index.js";

const payload = new Uint8Array(100_000).map((_, i) => (i * 7) % 251);
let server: Server;
let base = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/moved") return res.writeHead(302, { location: "/file" }).end();
    if (req.url === "/file") return res.writeHead(200, { "content-length": payload.length }).end(payload);
    if (req.url === "/stall") return res.writeHead(200).write(payload.subarray(0, 10)); // never ends
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const dir = () => mkdtempSync(join(tmpdir(), "sam-download-"));

describe("download", () => {
  it("follows redirects, reports progress, verifies and caches", async () => {
    const cache = dir();
    const seen: number[] = [];
    const remote = { file: "data.bin", url: `${base}/moved`, md5: md5(payload) };
    const path = await ensureFile(remote, { cacheDir: cache, onProgress: (r) => seen.push(r) });
    expect(new Uint8Array(readFileSync(path))).toEqual(payload);
    expect(seen[seen.length - 1]).toBe(payload.length);
    // a second call uses the cache: the server is not asked again
    const again = await ensureFile({ ...remote, url: `${base}/missing` }, { cacheDir: cache });
    expect(again).toBe(path);
  });

  it("refuses a checksum mismatch, a missing file and a stall, leaving nothing behind", async () => {
    const folder = dir();
    const target = join(folder, "x.bin");
    await expect(download({ file: "x.bin", url: `${base}/file`, md5: "0".repeat(32) }, target)).rejects.toThrow(/checksum mismatch: MD5 [0-9a-f]{32}, expected 0{32}/);
    await expect(download({ file: "x.bin", url: `${base}/nope`, md5: "" }, target)).rejects.toThrow("HTTP 404");
    await expect(download({ file: "x.bin", url: `${base}/stall`, md5: "" }, target, { timeoutMs: 300 })).rejects.toThrow("no data for 0.3 s; gave up");
    expect(readdirSync(folder)).toEqual([]);
  });

  it("offline, says why the fetch failed and where a copy can go instead", async () => {
    const folder = dir();
    const target = join(folder, "x.bin");
    // a port that just closed: nothing listens, so the connection is refused at once
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    await expect(download({ file: "x.bin", url: `http://127.0.0.1:${port}/x.bin`, md5: "" }, target))
      .rejects.toThrow(`download: http://127.0.0.1:${port}/x.bin: fetch failed (connect ECONNREFUSED 127.0.0.1:${port}). Without a network, put a copy at ${target} (or set SAM_DATA_DIR to a folder that holds x.bin)`);
    expect(readdirSync(folder)).toEqual([]);
  });

  it("checks a cached copy against the official checksum, saying how to replace it", async () => {
    const cache = dir();
    writeFileSync(join(cache, "data.bin"), payload.subarray(0, 10));
    const warnings: string[] = [];
    const checks: [string, boolean][] = [];
    const remote = { file: "data.bin", url: `${base}/file`, md5: md5(payload) };
    const path = await ensureFile(remote, { cacheDir: cache, onWarning: (w) => warnings.push(w), onChecksum: (p, ok) => checks.push([p, ok]) });
    expect(warnings).toEqual([`${path}: MD5 ${md5(payload.subarray(0, 10))} is not the official data.bin's (${md5(payload)}); relying on the format checks; if they fail, delete ${path} to download it again`]);
    expect(checks).toEqual([[path, false]]);
    writeFileSync(path, payload);
    await ensureFile(remote, { cacheDir: cache, onChecksum: (p, ok) => checks.push([p, ok]) });
    expect(checks[1]).toEqual([path, true]);
  });

  it("uses a local copy, warning when it is not the official file", async () => {
    const folder = dir();
    const local = join(folder, "mine.tar.gz");
    writeFileSync(local, payload);
    const warnings: string[] = [];
    expect(await ensureFile({ file: "a", url: "", md5: "f".repeat(32) }, { local, onWarning: (w) => warnings.push(w) })).toBe(local);
    expect(warnings[0]).toMatch(/is not the official a's .*relying on the format checks/);
    await expect(ensureFile({ file: "a", url: "", md5: "" }, { local: join(folder, "absent") })).rejects.toThrow("no such file or folder");
    expect(existsSync(local)).toBe(true);
  });
});
