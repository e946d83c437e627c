// A project of a user's, outside the repository: the packages packed into tarballs and installed
// from them offline, with npm (as the README and the Installing guide say) or with pnpm.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** Packs packages/NAME for each name into a new folder; returns the folder. */
export function pack(names: readonly string[]): string {
  const packs = mkdtempSync(join(tmpdir(), "sam-packs-"));
  for (const p of names) execFileSync("pnpm", ["pack", "--pack-destination", packs], { cwd: join(ROOT, "packages", p), stdio: "ignore" });
  return packs;
}

/** A new ES-module project with the tarballs installed (npm, offline); returns its folder. */
export function userProject(tarballs: readonly string[]): string {
  const project = mkdtempSync(join(tmpdir(), "sam-user-"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-project", private: true, type: "module" }));
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", ...tarballs], { cwd: project, stdio: "ignore" });
  return project;
}

/**
 * A new ES-module project with the tarballs installed by pnpm, offline: their other dependencies
 * (Dawn's `webgpu` among them) come from pnpm's store, which the repository's install filled.
 * The tarballs also stand in for the versions the packages ask of each other.
 */
export function pnpmUserProject(tarballs: readonly string[]): string {
  const project = mkdtempSync(join(tmpdir(), "sam-user-"));
  const local = Object.fromEntries(tarballs.map((t) => [`@sam/${basename(t).replace(/^sam-([a-z]+)-.*$/, "$1")}`, `file:${t}`]));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-project", private: true, type: "module", dependencies: local }));
  const overrides = Object.entries(local).map(([name, file]) => `  "${name}": "${file}"`).join("\n");
  // Dawn's package runs a postinstall step, which pnpm runs only when allowed
  writeFileSync(join(project, "pnpm-workspace.yaml"), `overrides:\n${overrides}\nallowBuilds:\n  webgpu: true\n`);
  execFileSync("pnpm", ["install", "--offline"], { cwd: project, stdio: "ignore" });
  return project;
}

/** Every tarball in a folder, by path. */
export function tarballs(folder: string): string[] {
  return readdirSync(folder).map((f) => join(folder, f));
}
