// The WebGPU suite as a machine without a GPU driver meets it: skipped, saying why, and passing.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const VITEST = fileURLToPath(new URL("../../../node_modules/vitest/vitest.mjs", import.meta.url));
const HERE = fileURLToPath(new URL("..", import.meta.url));

it("without an adapter the WebGPU suite is skipped with a line that says why, and passes", () => {
  const env: NodeJS.ProcessEnv = { ...process.env, VK_ICD_FILENAMES: "/nonexistent/icd.json" }; // a Vulkan loader with no driver
  delete env.SAM_REQUIRE_WEBGPU;
  const r = spawnSync(process.execPath, [VITEST, "run", "test/webgpu.test.ts"], { cwd: HERE, encoding: "utf8", env });
  const output = r.stdout + r.stderr;
  expect(r.status, output).toBe(0);
  expect(output).toContain("*** WebGPU conformance tests SKIPPED: no WebGPU adapter found");
  const counts = output.replace(/\x1b\[[0-9;]*m/g, "").match(/Tests\s+(\d+) skipped \((\d+)\)/); // every test of the file skipped, none run
  expect(counts?.[1], output).toBe(counts?.[2]);
  expect(Number(counts?.[1])).toBeGreaterThan(5);
}, 60_000);
