// Getting an archive: a local copy when given, else the cache, else a download that is verified
// and renamed into place, so an interrupted download never leaves a half-made file.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { SamError } from "@sam/tensor";

/** A file of a data set: where it comes from and the checksum of the official copy. */
export interface RemoteFile {
  /** The file's name in the cache. */
  file: string;
  /** Where to download it. */
  url: string;
  /** MD5 of the official file. */
  md5: string;
}

/** Options of {@link ensureFile}. */
export interface EnsureOptions {
  /** The cache folder (default `$SAM_DATA_DIR`, else `~/.cache/sam/datasets`). */
  cacheDir?: string;
  /** Give up on a download that stalls this long, in milliseconds (default 60 s). */
  timeoutMs?: number;
  /** Told the bytes received and expected (0 when unknown) as a download proceeds. */
  onProgress?: (received: number, total: number) => void;
  /** Told when a file's checksum is not the official one but it is used anyway. */
  onWarning?: (message: string) => void;
  /** Told the path of the file used and whether its MD5 is the official one. */
  onChecksum?: (path: string, official: boolean) => void;
}

/**
 * The cache folder: `$SAM_DATA_DIR` when set, else `~/.cache/sam/datasets`.
 * @example
 * defaultCacheDir(); // "/home/me/.cache/sam/datasets"
 */
export function defaultCacheDir(): string {
  return process.env.SAM_DATA_DIR ?? join(homedir(), ".cache", "sam", "datasets");
}

/** The MD5 of `bytes`, hex. */
export function md5(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/**
 * Downloads `url` (following redirects) into `path` through a temporary file, checking the MD5
 * before renaming it into place. A failure leaves nothing at `path`.
 * @example
 * await download({ file: "x.gz", url: "https://…/x.gz", md5: "…" }, "/tmp/x.gz");
 */
export async function download(remote: RemoteFile, path: string, o: EnsureOptions = {}): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString("hex")}.part`;
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), o.timeoutMs ?? 60_000);
  try {
    const response = await fetch(remote.url, { signal: controller.signal, redirect: "follow" });
    if (!response.ok || !response.body) throw new SamError("download", `${remote.url}: HTTP ${response.status}`);
    const total = Number(response.headers.get("content-length") ?? 0);
    const chunks: Uint8Array[] = [];
    let received = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(), o.timeoutMs ?? 60_000);
      o.onProgress?.(received, total);
    }
    const bytes = new Uint8Array(received);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    const sum = md5(bytes);
    if (sum !== remote.md5) throw new SamError("download", `${remote.url}: checksum mismatch: MD5 ${sum}, expected ${remote.md5} (corrupt or incomplete download)`);
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (e) {
    await rm(temporary, { force: true });
    if ((e as Error).name === "AbortError") throw new SamError("download", `${remote.url}: no data for ${(o.timeoutMs ?? 60_000) / 1000} s; gave up`);
    if (e instanceof SamError) throw e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause ? `${(e as Error).message} (${cause.message ?? cause.code})` : (e as Error).message;
    throw new SamError("download", `${remote.url}: ${why}. Without a network, put a copy at ${path} `
      + `(or set SAM_DATA_DIR to a folder that holds ${remote.file})`);
  } finally {
    clearTimeout(timer);
  }
}

/** Checks a file's MD5 against the official one, telling `o` the result (and warning on a mismatch). */
async function verify(remote: RemoteFile, path: string, o: EnsureOptions, hint: string): Promise<void> {
  const hash = createHash("md5");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Uint8Array); // streamed: never the whole file in memory
  const sum = hash.digest("hex");
  if (sum !== remote.md5) o.onWarning?.(`${path}: MD5 ${sum} is not the official ${remote.file}'s (${remote.md5}); relying on the format checks${hint}`);
  o.onChecksum?.(path, sum === remote.md5);
}

/**
 * The path of a data file: `local` when given, else the cached copy, else a fresh verified
 * download into the cache. A local or cached file whose checksum is not the official one is used
 * with a warning (the readers check every record).
 * @example
 * const archive = await ensureFile(CIFAR10_ARCHIVE, { onProgress: (r, t) => … });
 */
export async function ensureFile(remote: RemoteFile, o: EnsureOptions & { local?: string } = {}): Promise<string> {
  if (o.local !== undefined) {
    if (!(await exists(o.local))) throw new SamError("ensureFile", `${o.local}: no such file or folder`);
    if ((await stat(o.local)).isFile()) await verify(remote, o.local, o, "");
    return o.local;
  }
  const dir = o.cacheDir ?? defaultCacheDir();
  const path = join(dir, remote.file);
  if (await exists(path)) {
    await verify(remote, path, o, `; if they fail, delete ${path} to download it again`);
    return path;
  }
  await mkdir(dir, { recursive: true });
  await download(remote, path, o);
  o.onChecksum?.(path, true);
  return path;
}

/** The official CIFAR-10 binary archive. */
export const CIFAR10_ARCHIVE: RemoteFile = {
  file: "cifar-10-binary.tar.gz", url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", md5: "c32a1d4ab5d03f1284b67883e8d87530",
};
/** The official CIFAR-100 binary archive. */
export const CIFAR100_ARCHIVE: RemoteFile = {
  file: "cifar-100-binary.tar.gz", url: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", md5: "03b5dce01913d631647c71ecec9e9cb8",
};
