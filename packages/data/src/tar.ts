// Reading tar archives (POSIX ustar and GNU long names), as the official data archives use.
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

/**
 * The regular files of a tar archive by path. A bad header checksum or a file running past the
 * end is an error naming `source` and the byte offset.
 * @example
 * const files = readTar(gunzipSync(readFileSync("cifar-10-binary.tar.gz")), "cifar-10-binary.tar.gz");
 */
export function readTar(bytes: Uint8Array, source = "<tar>"): Map<string, Uint8Array> {
  // POSIX and GNU archives say "ustar" at byte 257 of every header; an empty one is zero blocks
  const empty = bytes.length >= BLOCK && bytes.subarray(0, BLOCK).every((b) => b === 0);
  if (bytes.length < BLOCK || (!empty && text(bytes, 257, 5) !== "ustar")) {
    throw new SamError("readTar", `${source}: not a tar archive (nor a gzipped one): no ustar header at byte 0`);
  }
  const files = new Map<string, Uint8Array>();
  let at = 0;
  let longName: string | null = null;
  while (at + BLOCK <= bytes.length) {
    const header = bytes.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
    const stored = octal(header, 148, 8);
    if (sum !== stored) throw new SamError("readTar", `${source}: header checksum ${stored} does not match ${sum} (at byte ${at})`);
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 48);
    const prefix = text(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    longName = null;
    const start = at + BLOCK;
    if (start + size > bytes.length) {
      throw new SamError("readTar", `${source}: ${name} needs ${size} bytes but the archive ends after ${bytes.length - start} (at byte ${start}; truncated?)`);
    }
    const body = bytes.subarray(start, start + size);
    if (type === "L") longName = text(body, 0, size);
    else if (type === "0" || type === "7") files.set(name, body);
    at = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}
