// Every TypeScript example in the docs and the READMEs, as a user would paste it: each ```ts block
// is type-checked against the packages' published types and run with Node, so a wrong example
// fails here. A guide may give its blocks a hidden setup in an HTML comment (<!-- setup … -->),
// which is prepended to each block after it; a block whose info string says `no-run` (it needs a data
// archive, or a GPU to finish in reasonable time) is type-checked only, and one that uses
// @sam/webgpu runs where an adapter is found (skipped, saying so, elsewhere).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { webgpuSkipped } from "./backends.js";
import { ROOT } from "./userProject.js";

const HERE = fileURLToPath(new URL("..", import.meta.url));

/** The markdown files whose examples must work: the guides, the front page and every README. */
function documents(): string[] {
  const inside = (dir: string) => readdirSync(join(ROOT, dir), { withFileTypes: true });
  const readmes = (dir: string) => inside(dir).filter((e) => e.isDirectory()).map((e) => join(dir, e.name, "README.md"))
    .filter((p) => { try { readFileSync(join(ROOT, p)); return true; } catch { return false; } });
  return ["README.md", "docs/index.md", ...inside("docs/guides").filter((e) => e.name.endsWith(".md")).map((e) => join("docs/guides", e.name)),
    ...readmes("packages"), ...readmes("apps")];
}

/** One example: where it is, its code (setup included) and whether it runs. */
interface Example {
  name: string;
  code: string;
  run: boolean;
  /** The markdown line of the block's first line of code. */
  line: number;
}

const IMPORT = /^import\s+(type\s+)?\{([^}]*)\}\s+from\s+"([^"]+)";\s*$/;

/** Splits code into its single-line named imports and the rest; any other import is refused. */
function imports(code: string, where: string): { named: Map<string, Set<string>>; body: string[] } {
  const named = new Map<string, Set<string>>();
  const body: string[] = [];
  for (const line of code.split("\n")) {
    const m = IMPORT.exec(line);
    if (m) {
      const names = named.get(m[3]) ?? new Set<string>();
      for (const n of m[2].split(",").map((s) => s.trim()).filter(Boolean)) names.add(m[1] ? `type ${n.replace(/^type\s+/, "")}` : n);
      named.set(m[3], names);
    } else if (/^\s*import\s/.test(line)) {
      throw new Error(`${where}: write imports as one line each, import { … } from "…" (got: ${line.trim()})`);
    } else {
      body.push(line);
    }
  }
  return { named, body };
}

/** The examples of one markdown file, each with the file's setup merged in. */
function examplesOf(file: string): Example[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const examples: Example[] = [];
  let setups = ""; // the setup comments above the current line
  for (let i = 0; i < lines.length; i++) {
    if (/^<!--\s*setup\s*$/.test(lines[i])) {
      let end = i + 1;
      while (end < lines.length && !lines[end].startsWith("-->")) end++;
      setups += `${lines.slice(i + 1, end).join("\n")}\n`;
      i = end;
      continue;
    }
    const open = /^```(ts|typescript)\b(.*)$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end].startsWith("```")) end++;
    const where = `${file}:${start + 1}`;
    const block = imports(lines.slice(start, end).join("\n"), where);
    const setup = imports(setups, `${file} (setup)`);
    for (const [from, names] of block.named) {
      const merged = setup.named.get(from) ?? new Set<string>();
      names.forEach((n) => merged.add(n));
      setup.named.set(from, merged);
    }
    const head = [...setup.named].map(([from, names]) => `import { ${[...names].join(", ")} } from "${from}";`);
    examples.push({
      name: where, line: start + 1, run: !/\bno-run\b/.test(open[2]),
      code: [...head, ...setup.body, `// ${where}`, ...block.body, "export {};"].join("\n"),
    });
    i = end;
  }
  return examples;
}

const files = documents();
const examples = files.flatMap(examplesOf);
// the examples live beside a node_modules that resolves @sam/* as a project of a user's would
const work = mkdtempSync(join(tmpdir(), "sam-docs-"));
symlinkSync(join(HERE, "node_modules"), join(work, "node_modules"), "dir");
writeFileSync(join(work, "package.json"), JSON.stringify({ type: "module" }));
const paths = examples.map((e, i) => join(work, `example${i}.ts`));
examples.forEach((e, i) => writeFileSync(paths[i], e.code));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the examples in the docs and READMEs", () => {
  it("are found in every guide and README that has code", () => {
    expect(examples.length).toBeGreaterThan(10);
    for (const f of ["README.md", "docs/guides/getting-started.md", "docs/guides/sam.md", "docs/guides/data.md"]) {
      expect(examples.some((e) => e.name.startsWith(`${f}:`)), f).toBe(true);
    }
  });

  it("type-check against the packages' types", () => {
    const program = ts.createProgram(paths, {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts"], types: ["node"], typeRoots: [join(ROOT, "node_modules/@types")], strict: true, noEmit: true, skipLibCheck: true,
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const at = d.file ? examples[paths.indexOf(d.file.fileName)] : undefined;
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
      const shown = at ? d.file!.text.split("\n")[line].trim() : "";
      return `${at?.name ?? d.file?.fileName ?? "?"} (${relative(work, d.file?.fileName ?? "")} line ${line + 1}: ${shown}): ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
    expect(problems).toEqual([]);
  }, 120_000);

  const gpu = (e: Example) => e.code.includes('from "@sam/webgpu"');
  const runnable = examples.filter((e) => e.run && !(gpu(e) && webgpuSkipped));
  const skipped = examples.filter((e) => e.run && gpu(e) && webgpuSkipped);
  if (skipped.length > 0) it.skip.each(skipped.map((e) => e.name))(`%s runs (SKIPPED: ${webgpuSkipped})`, () => {});

  it.each(runnable.map((e) => [e.name, e] as const))("%s runs", (_name, e) => {
    const js = ts.transpileModule(e.code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
    const file = join(work, `${e.name.replace(/[^a-z0-9]+/gi, "_")}.mjs`);
    writeFileSync(file, js);
    const r = spawnSync(process.execPath, [file], { cwd: work, encoding: "utf8", timeout: 120_000 });
    expect(r.status, `${e.name}\n${r.stdout}\n${r.stderr}`).toBe(0);
  }, 130_000);
});
