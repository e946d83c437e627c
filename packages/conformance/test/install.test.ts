// Every package as a user receives it: packed into a tarball that holds its built JavaScript, its
// declarations, README and licence, and depends on the others by version; installed from the
// tarballs into a project outside the repository (no network), where a TypeScript file using all
// of them type-checks against the installed declarations and runs with plain Node.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { webgpuSkipped } from "./backends.js";
import { pack, pnpmUserProject, ROOT, tarballs, userProject } from "./userProject.js";

const PACKAGES = ["tensor", "cpu", "autograd", "nn", "optim", "data", "hessian", "webgpu"];

let packs = "";

/** The version in a tarball's name (sam-NAME-VERSION.tgz). */
const tarballVersion = (file: string) => file.replace(/^sam-[a-z]+-/, "").replace(/\.tgz$/, "");

/** The files of a tarball, and its package.json. */
function contents(tarball: string): { files: string[]; manifest: Record<string, unknown> } {
  const files = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" }).trim().split("\n").map((f) => f.replace(/^package\//, ""));
  const manifest = JSON.parse(execFileSync("tar", ["xzf", tarball, "-O", "package/package.json"], { encoding: "utf8" })) as Record<string, unknown>;
  return { files, manifest };
}

const USE_ALL = `import { setBackend, tensor, randn, randint, type Tensor } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { grad } from "@sam/autograd";
import { SmallCNN, crossEntropy, withoutRunningStats } from "@sam/nn";
import { SAM, SGD } from "@sam/optim";
import { DataLoader, type ImageDataset } from "@sam/data";
import { modelHessian, topEigenvalues } from "@sam/hessian";

setBackend(cpu({ threads: 1 }));
const cube: (x: Tensor) => Tensor = (x) => x.pow(3).sum();
const slope: number[] = Array.from(await grad(cube)(tensor([1, 2])).data());
const data: ImageDataset = {
  images: Uint8Array.from({ length: 8 * 64 }, (_, i) => i % 256), labels: Int32Array.from({ length: 8 }, (_, i) => i % 2),
  shape: [1, 8, 8], classes: ["a", "b"],
};
const model = new SmallCNN({ inChannels: 1, numClasses: 2, widths: [4, 4, 4] });
const sam = new SAM(model.parameters(), SGD, { rho: 0.05, lr: 0.1 }, { secondPass: (run) => withoutRunningStats(model, run) });
let last = 0;
for (const { x, y } of new DataLoader(data, { batchSize: 4 }).epochBatches()) last = await sam.step(() => crossEntropy(model.forward(x), y)).item();
const batches = [{ x: randn([4, 1, 8, 8]), y: randint(0, 2, [4]) }];
const { values } = await topEigenvalues(modelHessian(model, batches, (z, t) => crossEntropy(z, t)), { k: 1, iterations: 5 });
console.log(JSON.stringify({ slope, last, lambda: values[0] }));
`;

/** A user's GPU program: the backend on Dawn, a product, the adapter named. */
const USE_GPU = `import { setBackend, tensor } from "@sam/tensor";
import { webgpu, type WebGpuBackend } from "@sam/webgpu";

const gpu: WebGpuBackend = await webgpu();
setBackend(gpu);
const product = Array.from(await tensor([[1, 2], [3, 4]]).matmul(tensor([[1], [10]])).data());
console.log(JSON.stringify({ adapter: gpu.adapter, product }));
gpu.destroy();
`;

/** Type-checks \`source\` as \`project\`/main.ts against the installed declarations; returns the problems. */
function typeCheck(project: string, source: string, lib = ["lib.es2022.d.ts"]): string[] {
  const main = join(project, "main.ts");
  writeFileSync(main, source);
  const program = ts.createProgram([main], {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, noEmit: true, types: ["node"], typeRoots: [join(ROOT, "node_modules/@types")], lib,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

/** Runs \`source\` with plain Node in \`project\`; returns the JSON line it prints. */
function runIn<T>(project: string, source: string): T {
  writeFileSync(join(project, "main.mjs"), ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText);
  return JSON.parse(execFileSync(process.execPath, ["main.mjs"], { cwd: project, encoding: "utf8" }).trim()) as T;
}

describe("the packages, packed and installed", () => {
  it("are versioned together: one version, and pnpm's release checks pass (pnpm change check)", () => {
    const versions = PACKAGES.map((p) => (JSON.parse(readFileSync(join(ROOT, "packages", p, "package.json"), "utf8")) as { version: string }).version);
    expect(new Set(versions).size, versions.join(", ")).toBe(1);
    const out = execFileSync("pnpm", ["change", "check"], { cwd: ROOT, encoding: "utf8" });
    expect(out).toMatch(/satisfy the configured versioning invariants/);
  });

  it("pack into tarballs with their JavaScript, declarations, README and licence, depending on each other by version", () => {
    packs = pack(PACKAGES);
    const files = readdirSync(packs);
    const version = (JSON.parse(readFileSync(join(ROOT, "packages/tensor/package.json"), "utf8")) as { version: string }).version;
    expect(files.sort()).toEqual(PACKAGES.map((p) => `sam-${p}-${version}.tgz`).sort());
    for (const t of files) {
      const { files: inside, manifest } = contents(join(packs, t));
      expect(inside, t).toEqual(expect.arrayContaining(["package.json", "README.md", "LICENSE", "dist/index.js", "dist/index.d.ts"]));
      expect(inside.some((f) => f.startsWith("src/") || f.startsWith("test/")), `${t} ships sources or tests`).toBe(false);
      const deps = { ...(manifest.dependencies as Record<string, string> | undefined) };
      for (const [name, version] of Object.entries(deps)) {
        expect(version, `${t}: ${name}`).not.toMatch(/^workspace:/);
        if (name.startsWith("@sam/")) expect(version, `${t}: ${name}`).toBe(tarballVersion(t));
      }
      expect(manifest.license).toBe("MIT");
    }
    // the WebGPU declarations name the GPU types, so the package brings them
    const webgpu = contents(join(packs, `sam-webgpu-${version}.tgz`)).manifest;
    expect(Object.keys(webgpu.dependencies as object)).toEqual(expect.arrayContaining(["@webgpu/types", "webgpu"]));
  }, 120_000);

  it("install into a project of a user's without a network, type-check against their declarations and run", () => {
    // npm's offline cache lacks the \`webgpu\` package (Dawn's binaries); @sam/webgpu is installed
    // with pnpm from its store in the next test
    const project = userProject(tarballs(packs).filter((t) => !t.includes("webgpu")));
    expect(typeCheck(project, USE_ALL)).toEqual([]);
    const printed = runIn<{ slope: number[]; last: number; lambda: number }>(project, USE_ALL);
    expect(printed.slope).toEqual([3, 12]);
    expect(Number.isFinite(printed.last) && Number.isFinite(printed.lambda)).toBe(true);
  }, 120_000);

  it("install with pnpm from its store without a network, @sam/webgpu and Dawn included; the whole program type-checks", () => {
    const project = pnpmUserProject(tarballs(packs));
    expect(existsSync(join(project, "node_modules/@sam/webgpu/package.json"))).toBe(true);
    expect(typeCheck(project, USE_ALL)).toEqual([]);
    // the WebGPU types build on the DOM's, as the Installing guide says
    expect(typeCheck(project, USE_GPU, ["lib.es2022.d.ts", "lib.dom.d.ts"])).toEqual([]);
    expect(runIn<{ slope: number[] }>(project, USE_ALL).slope).toEqual([3, 12]);
  }, 180_000);

  it.skipIf(webgpuSkipped !== null)(`run a WebGPU program from the installed @sam/webgpu on Dawn${webgpuSkipped ? ` (SKIPPED: ${webgpuSkipped})` : ""}`, () => {
    const project = pnpmUserProject(tarballs(packs));
    const printed = runIn<{ adapter: string; product: number[] }>(project, USE_GPU);
    expect(printed.product).toEqual([21, 43]);
    expect(printed.adapter.length).toBeGreaterThan(0);
  }, 180_000);
});
