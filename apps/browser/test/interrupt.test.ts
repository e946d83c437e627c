// The page tests as a new machine and an impatient user meet them: without Chromium they are
// skipped, saying why, and pass; stopped in the middle by any signal, they leave no process behind.
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CHROMIUM, chromiumMissing } from "./chromium.js";

const VITEST = fileURLToPath(new URL("../../../node_modules/vitest/vitest.mjs", import.meta.url));
const HERE = fileURLToPath(new URL("..", import.meta.url));
const missing = chromiumMissing();

/** The environment of a child test run: this one's, less what would make it require an adapter. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.SAM_REQUIRE_WEBGPU;
  return env;
}

/** Processes whose environment carries `mark` (every descendant of a child run inherits it). */
function marked(mark: string): number[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(mark);
    } catch {
      return false; // gone, or not ours to read
    }
  }).map(Number);
}

/** The program a process runs, or "" once it has exited (it may go between listing and reading). */
function program(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0")[0];
  } catch {
    return "";
  }
}

async function until(condition: () => boolean, seconds: number): Promise<boolean> {
  for (const end = Date.now() + seconds * 1000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
    if (condition()) return true;
  }
  return condition();
}

describe("the page and site tests on a machine without Chromium", () => {
  it("are skipped with a line that says why, and the run passes", () => {
    const r = spawnSync(process.execPath, [VITEST, "run", "test/page.test.ts", "test/site.test.ts"], {
      cwd: HERE, encoding: "utf8", env: childEnv({ CHROMIUM: "/nonexistent/chromium" }),
    });
    const output = r.stdout + r.stderr;
    expect(r.status, output).toBe(0);
    expect(output).toContain("*** browser page tests SKIPPED: /nonexistent/chromium not found");
    expect(output).toContain("*** documentation site tests SKIPPED: /nonexistent/chromium not found");
    expect(output).toMatch(/9 skipped/);
  }, 60_000);
});

describe.skipIf(missing !== null)(`the page tests stopped in the middle${missing ? ` (SKIPPED: ${missing})` : ""}`, () => {
  it.each([
    ["SIGINT to the runner", "SIGINT", false],
    ["SIGTERM to the runner", "SIGTERM", false],
    ["SIGKILL to the runner and its workers", "SIGKILL", true],
  ] as const)("%s leaves no Chromium (nor anything else) behind", async (_name, signal, group) => {
    const mark = `SAM_TEST_MARK=${randomUUID()}`;
    const [key, value] = mark.split("=");
    // Chromium as the page test starts it, but on a blank page: it stays up until it is stopped,
    // so the signal always lands while it runs
    const blank = join(mkdtempSync(join(tmpdir(), "sam-blank-")), "chromium");
    writeFileSync(blank, `#!/bin/bash\n[ "$1" = --version ] && exec ${CHROMIUM} --version\nexec ${CHROMIUM} "\${@:1:$#-1}" about:blank\n`);
    chmodSync(blank, 0o755);
    const child = spawn(process.execPath, [VITEST, "run", "test/page.test.ts", "-t", "WebGPU"], {
      cwd: HERE, stdio: "ignore", detached: true, env: childEnv({ [key]: value, CHROMIUM: blank }),
    });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    // Chromium itself up: a process running its binary, not one of the shells that start it
    const chromiumUp = () => marked(mark).some((pid) => program(pid).includes("chrom"));
    try {
      expect(await until(chromiumUp, 60), "Chromium did not start").toBe(true);
      process.kill(group ? -child.pid! : child.pid!, signal);
      await exited;
      expect(await until(() => marked(mark).length === 0, 20), `left behind: ${marked(mark).join(", ")}`).toBe(true);
    } finally {
      // whatever the outcome, this test leaves nothing behind either
      for (const pid of marked(mark)) process.kill(pid, "SIGKILL");
    }
  }, 120_000);
});
