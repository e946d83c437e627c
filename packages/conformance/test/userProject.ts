// A project of a user's, outside the repository: the packages packed into tarballs and installed
// from them with npm, offline, as the README and the Installing guide say.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

/** Every tarball in a folder, by path. */
export function tarballs(folder: string): string[] {
  return readdirSync(folder).map((f) => join(folder, f));
}
