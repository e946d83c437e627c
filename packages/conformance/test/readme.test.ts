// The README's example as a user meets it: the packages packed, installed from their tarballs into
// a project of its own outside the repository (no network), and the example run there with Node.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { pack, ROOT, tarballs, userProject } from "./userProject.js";

const README = readFileSync(join(ROOT, "README.md"), "utf8");

it("runs the README's example in a fresh project outside the repository, as the README says", () => {
  const example = README.match(/```ts\n([\s\S]*?)```/)?.[1];
  expect(example, "the README has a ts example").toBeDefined();
  // the packages the README says to pack must include every one the example imports, and their dependencies
  const listed = README.match(/for p in ([a-z ]+); do/)?.[1].split(" ") ?? [];
  const imported = [...example!.matchAll(/from "@sam\/([a-z]+)"/g)].map((m) => m[1]);
  expect(imported.length).toBeGreaterThan(0);
  expect(listed).toEqual(expect.arrayContaining(["tensor", "autograd", ...imported]));
  const project = userProject(tarballs(pack(listed)));
  writeFileSync(join(project, "example.mjs"), example!);
  const printed = execFileSync(process.execPath, ["example.mjs"], { cwd: project, encoding: "utf8" }).trim();
  expect(Number.isFinite(Number(printed)), printed).toBe(true);
  expect(Number(printed)).toBeGreaterThan(0);
}, 120_000);
