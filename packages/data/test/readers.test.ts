// The readers on small files the tests build, on files the tests corrupt, and on the real data
// sets where this machine has them.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { setBackend } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import fc from "fast-check";
import { decodeIdx, FASHION_MNIST_CLASSES, loadCifar, loadIdxDataset, readTar, readTarFile, TarReader } from "../src/index.js";
import { cifarArchive, cifarRecords, idx, tar } from "./archives.js";

beforeAll(() => setBackend(cpu()));

/**
 * Why a test of a real data set cannot run on this machine, or null when it can. The skip is
 * announced; with SAM_REQUIRE_DATA=1 (as in CI, which installs the data) it is a failure instead.
 */
function dataMissing(path: string, hint: string): string | null {
  if (existsSync(path)) return null;
  const why = `${path} not found (${hint})`;
  if (process.env.SAM_REQUIRE_DATA === "1") throw new Error(`SAM_REQUIRE_DATA=1 but ${why}`);
  console.warn(`\n*** data test SKIPPED: ${why} ***\n`);
  return why;
}
const skipped = (why: string | null) => (why ? ` (SKIPPED: ${why})` : "");

const dir = () => mkdtempSync(join(tmpdir(), "sam-data-"));
const write = (folder: string, name: string, bytes: Uint8Array) => {
  const path = join(folder, name);
  writeFileSync(path, bytes);
  return path;
};

describe("CIFAR-10 binary", () => {
  it("reads an archive's train and test splits with labels, pixels and class names", async () => {
    const path = write(dir(), "cifar-10-binary.tar.gz", cifarArchive(7));
    const train = await loadCifar({ source: path, split: "train" });
    const test = await loadCifar({ source: path, split: "test" });
    expect(train.labels.length).toBe(35);
    expect(test.labels.length).toBe(7);
    expect(test.classes[9]).toBe("truck");
    expect(Array.from(test.labels)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => (i + 10) % 10));
    expect(test.images[3072 * 2 + 5]).toBe((2 * 31 + 5) % 256);
    expect(train.shape).toEqual([3, 32, 32]);
  });

  it("reads CIFAR-100's fine and coarse labels", async () => {
    const record = (coarse: number, fine: number, v: number) => Uint8Array.from([coarse, fine, ...new Array(3072).fill(v)]);
    const join2 = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
    const names = (n: number) => new TextEncoder().encode(Array.from({ length: n }, (_, i) => `class${i}`).join("\n") + "\n");
    const archive = new Uint8Array(gzipSync(tar({
      "cifar-100-binary/train.bin": join2(record(3, 42, 7), record(19, 99, 8)),
      "cifar-100-binary/test.bin": join2(record(0, 5, 1)),
      "cifar-100-binary/fine_label_names.txt": names(100),
      "cifar-100-binary/coarse_label_names.txt": names(20),
    })));
    const path = write(dir(), "cifar-100-binary.tar.gz", archive);
    const fine = await loadCifar({ source: path, variant: 100, split: "train" });
    const coarse = await loadCifar({ source: path, variant: 100, split: "train", labels: "coarse" });
    expect(Array.from(fine.labels)).toEqual([42, 99]);
    expect(Array.from(coarse.labels)).toEqual([3, 19]);
    expect(fine.classes.length).toBe(100);
    expect(fine.images[3072]).toBe(8);
    const bad = write(dir(), "bad.tar.gz", new Uint8Array(gzipSync(tar({
      "cifar-100-binary/test.bin": record(0, 100, 1), "cifar-100-binary/fine_label_names.txt": names(100),
    }))));
    await expect(loadCifar({ source: bad, variant: 100, split: "test" })).rejects.toThrow("test.bin: label 100 is out of range 0–99 in record 0 (at byte 1)");
  });

  it("reads the extracted folder too", async () => {
    const folder = dir();
    const inner = join(folder, "cifar-10-batches-bin");
    const files = readTar((await import("node:zlib")).gunzipSync(cifarArchive(3)));
    (await import("node:fs")).mkdirSync(inner);
    for (const [name, body] of files) write(folder, name, body);
    expect((await loadCifar({ source: folder, split: "test" })).labels.length).toBe(3);
  });

  it("names the file and the byte offset of a truncated record or a bad label", async () => {
    const folder = dir();
    const truncated = write(folder, "t.tar.gz", cifarArchive(4, (f) => {
      f["cifar-10-batches-bin/test_batch.bin"] = f["cifar-10-batches-bin/test_batch.bin"].subarray(0, 3073 * 3 + 100);
    }));
    await expect(loadCifar({ source: truncated, split: "test" })).rejects.toThrow(
      `loadCifar: ${truncated}: test_batch.bin is 9319 bytes, not a whole number of 3073-byte records; the last record is truncated (at byte 9219)`);
    const badLabel = write(folder, "b.tar.gz", cifarArchive(4, (f) => {
      f["cifar-10-batches-bin/data_batch_2.bin"] = cifarRecords([1, 2, 12, 3]);
    }));
    await expect(loadCifar({ source: badLabel, split: "train" })).rejects.toThrow(
      `loadCifar: ${badLabel}: data_batch_2.bin: label 12 is out of range 0–9 in record 2 (at byte 6146)`);
    const missing = write(folder, "m.tar.gz", cifarArchive(2, (f) => delete f["cifar-10-batches-bin/data_batch_4.bin"]));
    await expect(loadCifar({ source: missing, split: "train" })).rejects.toThrow("cifar-10-batches-bin/data_batch_4.bin is not in the archive");
  });

  it("reads an archive fed in chunks cut anywhere as it reads it whole, keeping only what is asked for", async () => {
    const member = fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.uint8Array({ maxLength: 1500 }));
    await fc.assert(fc.asyncProperty(fc.uniqueArray(member, { maxLength: 5, selector: ([name]) => name }), fc.array(fc.nat(), { maxLength: 8 }),
      async (members, cuts) => {
        const bytes = tar(Object.fromEntries(members));
        const whole = readTar(bytes, "x.tar");
        const keep = (name: string) => name.length % 2 === 0;
        const reader = new TarReader("x.tar", keep);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        [0, ...points].forEach((from, i) => reader.push(bytes.subarray(from, [...points, bytes.length][i])));
        const kept = reader.end();
        expect([...kept.keys()]).toEqual([...whole.keys()].filter(keep));
        for (const [name, body] of kept) expect(body).toEqual(whole.get(name));
        const folder = dir();
        expect(await readTarFile(write(folder, "x.tar.gz", new Uint8Array(gzipSync(bytes))), keep)).toEqual(kept);
        expect(await readTarFile(write(folder, "x.tar", bytes), keep)).toEqual(kept);
      }), { numRuns: 40 });
  });

  it("refuses a corrupt archive: a bad tar header, a cut tar, broken gzip", async () => {
    const folder = dir();
    const good = tar({ "a.bin": new Uint8Array(600) });
    const badHeader = good.slice();
    badHeader[10] ^= 0xff;
    expect(() => readTar(badHeader, "x.tar")).toThrow(/^readTar: x\.tar: header checksum \d+ does not match \d+ \(at byte 0\)$/);
    expect(() => readTar(new TextEncoder().encode("a text file\n"), "notes.txt")).toThrow("readTar: notes.txt: not a tar archive (nor a gzipped one): no ustar header at byte 0");
    expect(() => readTar(new Uint8Array(2048).fill(65), "a.bin")).toThrow("readTar: a.bin: not a tar archive");
    expect(readTar(new Uint8Array(1024), "empty.tar").size).toBe(0);
    expect(() => readTar(good.subarray(0, 700), "x.tar")).toThrow("readTar: x.tar: a.bin needs 600 bytes but the archive ends after 188 (at byte 512; truncated?)");
    const gz = new Uint8Array(gzipSync(good)).subarray(0, 40);
    await expect(loadCifar({ source: write(folder, "cut.tar.gz", gz), split: "test" })).rejects.toThrow(/corrupt gzip data/);
  });

  const shared = "../../../shared/data/cifar-10-binary.tar.gz";
  const noArchive = dataMissing(shared, "the development copy of CIFAR-10 beside the repository");
  it.skipIf(noArchive !== null)(`reads the real archive: 10,000 test images, 1,000 per class${skipped(noArchive)}`, async () => {
    const test = await loadCifar({ source: shared, split: "test" });
    expect(test.labels.length).toBe(10000);
    const counts = new Array(10).fill(0);
    test.labels.forEach((l) => counts[l]++);
    expect(counts).toEqual(new Array(10).fill(1000));
    expect(Array.from(test.labels.subarray(0, 4))).toEqual([3, 8, 8, 0]); // cat, ship, ship, airplane
  }, 60_000);
});

describe("IDX", () => {
  it("decodes dimensions and data, gzipped or not", async () => {
    const folder = dir();
    const images = idx([3, 2, 2], Uint8Array.from({ length: 12 }, (_, i) => i));
    const labels = idx([3], Uint8Array.from([9, 0, 4]));
    const d = await loadIdxDataset({
      images: write(folder, "i.gz", new Uint8Array(gzipSync(images))), labels: write(folder, "l", labels), classes: FASHION_MNIST_CLASSES,
    });
    expect(d.shape).toEqual([1, 2, 2]);
    expect(Array.from(d.labels)).toEqual([9, 0, 4]);
    expect(d.images[11]).toBe(11);
  });

  it("names the file and offset of a wrong magic number, a truncation or a bad label", async () => {
    expect(() => decodeIdx(Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0]), "f")).toThrow("decodeIdx: f: wrong magic number 01 00 08 01: not an IDX file (at byte 0)");
    expect(() => decodeIdx(idx([5], new Uint8Array(5)).subarray(0, 11), "f")).toThrow("decodeIdx: f: dimensions [5] need 5 bytes of data, the file has 3 (truncated) (at byte 11)");
    const folder = dir();
    await expect(loadIdxDataset({
      images: write(folder, "i", idx([2, 1, 1], new Uint8Array(2))), labels: write(folder, "l", idx([2], Uint8Array.from([3, 10]))), classes: FASHION_MNIST_CLASSES,
    })).rejects.toThrow(/label 10 is out of range 0–9 in record 1 \(at byte 9\)$/);
  });

  const fashion = "/usr/share/datasets/fashion-mnist";
  const noFashion = dataMissing(`${fashion}/t10k-images-idx3-ubyte.gz`, "apt-get install dataset-fashion-mnist");
  it.skipIf(noFashion !== null)(`reads Debian's Fashion-MNIST test set: 10,000 images, 1,000 per class${skipped(noFashion)}`, async () => {
    const d = await loadIdxDataset({ images: `${fashion}/t10k-images-idx3-ubyte.gz`, labels: `${fashion}/t10k-labels-idx1-ubyte.gz`, classes: FASHION_MNIST_CLASSES });
    expect(d.shape).toEqual([1, 28, 28]);
    const counts = new Array(10).fill(0);
    d.labels.forEach((l) => counts[l]++);
    expect(counts).toEqual(new Array(10).fill(1000));
  });
});
