// Reading tar archives (POSIX ustar and GNU long names), as the official data archives use: from
// bytes in memory, or streamed from a file (gunzipped on the way) keeping only the members asked
// for, so that a 180 MB archive never sits in memory whole.
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { SamError } from "@sam/tensor";

const BLOCK = 512;

function text(bytes: Uint8Array, start: number, length: number): string {
  const field = bytes.subarray(start, start + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
}

function octal(bytes: Uint8Array, start: number, length: number): number {
  const s = text(bytes, start, length).trim();
  return s === "" ? 0 : parseInt(s, 8);
}

/** A member being read: its name, type, size, and where its bytes go (null: skipped). */
interface Member {
  name: string;
  type: string;
  size: number;
  start: number;
  body: Uint8Array | null;
  filled: number;
}

/**
 * A tar archive fed in chunks of any size: regular files whose path `keep` accepts are kept (GNU
 * long-name records are always read). A bad header checksum, a first header that is not ustar, or
 * a member running past the end is an error naming `source` and the byte offset.
 */
export class TarReader {
  private readonly files = new Map<string, Uint8Array>();
  private readonly header = new Uint8Array(BLOCK);
  private headerFilled = 0;
  private member: Member | null = null;
  private skip = 0; // padding after a member's body
  private offset = 0; // bytes consumed so far
  private done = false;
  private longName: string | null = null;

  constructor(private readonly source: string, private readonly keep: (name: string) => boolean = () => true) {}

  /** Consumes the next bytes of the archive. */
  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.done) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        [this.skip, at, this.offset] = [this.skip - n, at + n, this.offset + n];
      } else if (this.member) {
        const m = this.member;
        const n = Math.min(m.size - m.filled, chunk.length - at);
        m.body?.set(chunk.subarray(at, at + n), m.filled);
        [m.filled, at, this.offset] = [m.filled + n, at + n, this.offset + n];
        if (m.filled === m.size) this.finish(m);
      } else {
        const n = Math.min(BLOCK - this.headerFilled, chunk.length - at);
        this.header.set(chunk.subarray(at, at + n), this.headerFilled);
        [this.headerFilled, at, this.offset] = [this.headerFilled + n, at + n, this.offset + n];
        if (this.headerFilled === BLOCK) {
          this.headerFilled = 0;
          this.begin(this.offset - BLOCK);
        }
      }
    }
  }

  /** The kept files by path, once the whole archive has been pushed. */
  end(): Map<string, Uint8Array> {
    if (this.offset < BLOCK && !this.done) throw this.notTar();
    const m = this.member;
    if (m) {
      throw new SamError("readTar", `${this.source}: ${m.name} needs ${m.size} bytes but the archive ends after ${m.filled} (at byte ${m.start}; truncated?)`);
    }
    return this.files;
  }

  private notTar(): SamError {
    return new SamError("readTar", `${this.source}: not a tar archive (nor a gzipped one): no ustar header at byte 0`);
  }

  private begin(at: number): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      this.done = true; // the end-of-archive marker
      return;
    }
    if (at === 0 && text(h, 257, 5) !== "ustar") throw this.notTar();
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    const stored = octal(h, 148, 8);
    if (sum !== stored) throw new SamError("readTar", `${this.source}: header checksum ${stored} does not match ${sum} (at byte ${at})`);
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156] || 48);
    const prefix = text(h, 345, 155);
    const name = this.longName ?? (prefix ? `${prefix}/${text(h, 0, 100)}` : text(h, 0, 100));
    this.longName = null;
    const wanted = type === "L" || ((type === "0" || type === "7") && this.keep(name));
    const member: Member = { name, type, size, start: at + BLOCK, body: wanted ? new Uint8Array(size) : null, filled: 0 };
    if (size === 0) this.finish(member);
    else this.member = member;
  }

  private finish(m: Member): void {
    this.member = null;
    this.skip = Math.ceil(m.size / BLOCK) * BLOCK - m.size;
    if (m.type === "L") this.longName = text(m.body!, 0, m.size);
    else if (m.body) this.files.set(m.name, m.body);
  }
}

/**
 * The regular files of a tar archive by path. A bad header checksum or a file running past the
 * end is an error naming `source` and the byte offset.
 * @example
 * const files = readTar(gunzipSync(readFileSync("cifar-10-binary.tar.gz")), "cifar-10-binary.tar.gz");
 */
export function readTar(bytes: Uint8Array, source = "<tar>"): Map<string, Uint8Array> {
  const reader = new TarReader(source);
  reader.push(bytes);
  return reader.end();
}

/**
 * The regular files of the tar archive at `path` (gzipped or not, by its magic bytes) whose path
 * `keep` accepts, streamed from disk: only those files are ever held in memory.
 * @example
 * const files = await readTarFile("cifar-10-binary.tar.gz", (name) => name.endsWith("test_batch.bin"));
 */
export async function readTarFile(path: string, keep: (name: string) => boolean): Promise<Map<string, Uint8Array>> {
  const magic = new Uint8Array(2);
  const file = await open(path);
  try {
    await file.read(magic, 0, 2, 0);
  } finally {
    await file.close();
  }
  const gzipped = magic[0] === 0x1f && magic[1] === 0x8b;
  const reader = new TarReader(path, keep);
  const stream = createReadStream(path);
  try {
    for await (const chunk of gzipped ? stream.pipe(createGunzip()) : stream) reader.push(chunk as Uint8Array);
  } catch (e) {
    stream.destroy();
    if (e instanceof SamError) throw e;
    throw new SamError("readTarFile", `${path}: ${gzipped ? "corrupt gzip data" : "cannot be read"} (${(e as Error).message})`);
  }
  return reader.end();
}
