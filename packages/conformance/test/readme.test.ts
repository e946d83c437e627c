// The README's example as a user meets it: the packages packed, installed from their tarballs into
// a project of its own outside the repository (no network), and the example run there with Node.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");

it("runs the README's example in a fresh project outside the repository, as the README says", () => {
  const example = README.match(/```ts\n([\s\S]*?)```/)?.[1];
  expect(example, "the README has a ts example").toBeDefined();
  // the packages the README says to pack must include every one the example imports, and their dependencies
  const listed = README.match(/for p in ([a-z ]+); do/)?.[1].split(" ") ?? [];
  const imported = [...example!.matchAll(/from "@sam\/([a-z]+)"/g)].map((m) => m[1]);
  expect(imported.length).toBeGreaterThan(0);
  expect(listed).toEqual(expect.arrayContaining(["tensor", "autograd", ...imported]));
  const packs = mkdtempSync(join(tmpdir(), "sam-packs-"));
  for (const p of listed) {
    execFileSync("pnpm", ["pack", "--pack-destination", packs], { cwd: join(ROOT, "packages", p), stdio: "ignore" });
  }
  const project = mkdtempSync(join(tmpdir(), "sam-user-"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-project", private: true, type: "module" }));
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", ...readdirSync(packs).map((f) => join(packs, f))], { cwd: project, stdio: "ignore" });
  writeFileSync(join(project, "example.mjs"), example!);
  const printed = execFileSync(process.execPath, ["example.mjs"], { cwd: project, encoding: "utf8" }).trim();
  expect(Number.isFinite(Number(printed)), printed).toBe(true);
  expect(Number(printed)).toBeGreaterThan(0);
}, 120_000);
