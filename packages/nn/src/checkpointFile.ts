// Writing files so that a crash never leaves a half-written one: a temporary file renamed into place.
// The file system is imported when first used, so that @sam/nn also loads in a browser.
import { SamError, type Tensor } from "@sam/tensor";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.js";

/** Node's file system, for `fn`; in a browser a SamError that says what to use instead. */
async function fileSystem(fn: string): Promise<typeof import("node:fs/promises")> {
  if (typeof process === "undefined" || !process.versions?.node) {
    throw new SamError(fn, "files need Node's file system; in a browser, encodeSafetensors and decodeSafetensors convert tensors to and from bytes");
  }
  // a specifier in a variable: bundlers leave Node's module out of browser builds
  const name = "node:fs/promises";
  return import(/* @vite-ignore */ name);
}

/**
 * Writes `data` to `path` atomically: into a temporary file beside it, then renamed over it.
 * @example
 * await writeFileAtomic("run/config.json", JSON.stringify(config));
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const { rename, rm, writeFile } = await fileSystem("writeFileAtomic");
  const suffix = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
  const temporary = `${path}.${suffix}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (e) {
    await rm(temporary, { force: true });
    throw e;
  }
}

/**
 * Saves named tensors as a `.safetensors` file, atomically.
 * @example
 * await saveSafetensors("model.safetensors", model.stateDict());
 */
export async function saveSafetensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, await encodeSafetensors(tensors, metadata));
}

/**
 * Loads a `.safetensors` file; a truncated or corrupt file is an error naming the file and offset.
 * @example
 * model.loadStateDict(await loadSafetensors("model.safetensors"));
 */
export async function loadSafetensors(path: string): Promise<Record<string, Tensor>> {
  const { readFile } = await fileSystem("loadSafetensors");
  return decodeSafetensors(new Uint8Array(await readFile(path)), path);
}
