// Headless Chromium for the page tests, started so that it cannot outlive the process that started
// it. Chromium and its GPU and helper processes run in a process group of their own under a small
// shell that holds a pipe from this process: when the pipe closes, because the test finished or
// because its process was stopped by any signal, SIGKILL included, the shell kills the whole group.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A test process whose runner is gone has nobody to report to: vitest's fork workers outlive a
// runner stopped by SIGINT or SIGTERM, and would keep their browsers until the test timed out.
// Exiting closes the pipes, and the guards below kill the browsers.
if (process.connected) process.once("disconnect", () => process.exit(1));

/** The Chromium binary: `$CHROMIUM`, else `chromium` on the PATH. */
export const CHROMIUM = process.env.CHROMIUM ?? "chromium";

/** Why the page tests cannot run here (no Chromium), or null when they can. */
export function chromiumMissing(): string | null {
  const found = spawnSync(CHROMIUM, ["--version"], { encoding: "utf8" }).status === 0;
  return found ? null : `${CHROMIUM} not found (apt-get install chromium, or set CHROMIUM to its path)`;
}

// Runs Chromium in the background; fd 3 is the pipe (a background job's stdin is /dev/null).
// Whichever ends first, Chromium or the pipe, the group is killed.
const GUARD = `exec 3<&0
"$@" </dev/null &
chromium=$!
{ cat <&3 >/dev/null; kill -KILL 0; } &
wait "$chromium"
kill -KILL 0`;

/** A running Chromium: `exited` resolves when it ends; `stop()` kills it and its helpers. */
export interface Browser {
  exited: Promise<void>;
  stop: () => Promise<void>;
}

/** The switches that give headless Chromium a WebGPU adapter: SwiftShader, through Vulkan. */
const WEBGPU = ["--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader", "--use-webgpu-adapter=swiftshader"];

/**
 * Opens `url` in headless Chromium, in a fresh profile: with WebGPU on SwiftShader, or with
 * `webgpu: false` as Chromium is on Linux by default, where `navigator.gpu` finds no adapter.
 */
export function openChromium(url: string, o: { webgpu?: boolean } = {}): Browser {
  const profile = mkdtempSync(join(tmpdir(), "sam-chromium-"));
  const guard = spawn("/bin/sh", ["-c", GUARD, "sh", CHROMIUM,
    "--headless=new", "--no-sandbox", "--disable-gpu-sandbox", `--user-data-dir=${profile}`,
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ...(o.webgpu === false ? [] : WEBGPU),
    url,
  ], { stdio: ["pipe", "ignore", "ignore"], detached: true });
  const exited = new Promise<void>((resolve) => guard.on("exit", () => resolve()));
  return {
    exited,
    stop: async () => {
      guard.stdin.end(); // the guard kills the group
      await exited;
      rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
    },
  };
}
