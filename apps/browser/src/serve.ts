#!/usr/bin/env node
// Serves the built app (dist/app, from `vite build`) over HTTP (`pnpm browser`, then open the
// address it prints), cross-origin isolated so that the CPU backend's Web Workers can share memory.
// Results the page posts are handed to `onReport`, which the test uses.
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

// the same folder from src/ (the tests) and from dist/
const ROOT = fileURLToPath(new URL("../dist/app/", import.meta.url));
const ISOLATED = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };
const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".map": "application/json", ".css": "text/css", ".wasm": "application/wasm" };

/** Starts the server on `port` (0: any free one); resolves with it once it listens. */
export function serve(port: number, onReport?: (body: string) => void): Promise<Server> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "POST" && url.pathname === "/report") {
      let body = "";
      for await (const chunk of req) body += chunk;
      onReport?.(body);
      res.writeHead(204).end();
      return;
    }
    const file = url.pathname.endsWith("/") ? `${url.pathname}index.html` : url.pathname;
    const path = normalize(join(ROOT, decodeURIComponent(file)));
    if (!path.startsWith(ROOT.endsWith(sep) ? ROOT : ROOT + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(path);
      res.writeHead(200, { ...ISOLATED, "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8080);
  serve(port).then(() => {
    console.log(`open http://127.0.0.1:${port}/ in a browser with WebGPU (Chrome, Edge; Chromium with --enable-unsafe-webgpu)`);
  }, (e: Error) => {
    console.error(`serve: ${e.message}`);
    process.exit(1);
  });
}
