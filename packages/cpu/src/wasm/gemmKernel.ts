// The float32 GEMM block kernel in WebAssembly SIMD: C[mc×nc] = A·B from packed panels, in 5×8 or
// 4×8 register tiles (ten or eight f32x4 accumulators), emitted at load time by the module builder.
import { buildModule, Code, I32, V128 } from "./builder.js";
import { interleavePhasesCode, padPhasedCode, panelRowsCode, padRowsCode, transposePanelsCode } from "./layoutKernels.js";

/** Rows of A per register tile of the packed kernels. */
export type TileRows = 4 | 5;
/** Rows per register tile of the gathered kernel (A read in place, a broadcast load a row). */
export const GATHER_ROWS = 4;
/** Columns of B per register tile (two f32x4 vectors). */
export const NR = 8;

/**
 * The tile height for an A of m rows. Five rows keep ten multiply-add chains in flight where four
 * keep eight, one fewer than the fused multiply-add's latency times its throughput needs, and run
 * about 14% faster; four are kept where padding m to a multiple of five would add over 10% more
 * rows than padding it to four (m = 16: 20 rows against 16).
 * @example
 * tileRows(1024); // 5
 * tileRows(16); // 4
 */
export function tileRows(m: number): TileRows {
  return Math.ceil(m / 5) * 5 > 1.1 * Math.ceil(m / 4) * 4 ? 4 : 5;
}

/** Starts a tile: out = c + i·ldc + j·4, and the accumulators loaded from there or zeroed. */
function startTile(c: Code, C: number, i: number, j: number, LDC: number, ACCUMULATE: number, out: number, acc: number[]): void {
  c.get(C).get(i).get(LDC).mul().add().get(j).i32(4).mul().add().set(out);
  c.get(ACCUMULATE).ifElse(() => {
    for (let r = 0; r < acc.length / 2; r++) {
      c.get(out).get(LDC).i32(r).mul().add().load(0).set(acc[2 * r]);
      c.get(out).get(LDC).i32(r).mul().add().load(16).set(acc[2 * r + 1]);
    }
  }, () => {
    for (const r of acc) c.zero().set(r);
  });
}

/** acc += a·b, lane by lane: one relaxed fused multiply-add, or a multiply then an add. */
export function multiplyAdd(c: Code, fused: boolean, acc: number, a: number, b: number): void {
  if (fused) c.get(a).get(b).get(acc).f32x4RelaxedMadd().set(acc);
  else c.get(acc).get(a).get(b).f32x4Mul().f32x4Add().set(acc);
}

/** Ends a tile: the accumulators stored row by row from out (advanced by ldc per row). */
function storeTile(c: Code, LDC: number, out: number, acc: number[]): void {
  for (let r = 0; r < acc.length / 2; r++) {
    c.get(out).get(acc[2 * r]).store(0);
    c.get(out).get(acc[2 * r + 1]).store(16);
    c.get(out).get(LDC).add().set(out);
  }
}

/**
 * Emits the block kernel over mr×8 register tiles of C (byte addresses; mc and nc multiples of mr
 * and NR, all positive): Σₚ A[i, p]·B[p, j] over kc, with A packed as panels of mr rows, panel
 * i/mr starting at a + i·lda (lda = 4·kc for panels exactly kc long; more when A was packed over
 * a longer depth and this block is part of it). Each tile is stored into C with row stride ldc
 * bytes, added to what C holds when `accumulate` is non-zero (so C can stay in the kernel's memory
 * across depth blocks).
 *
 * - `block(a, lda, b, c, mc, nc, kc, ldc, accumulate)`: B packed as kc-long panels of 8 columns.
 * - `direct(a, lda, taps, bases, c, mc, nc, kc, ldc, accumulate)`: B read in place (an implicit GEMM):
 *   row p of the panel starting at column j is the eight floats at `bases[j] + taps[p]`, two i32
 *   tables of byte addresses — for a convolution, where a panel of eight output pixels starts in
 *   a padded copy of the input, and where kernel tap p sits relative to it.
 *
 * With five rows, rows 0–3 of a step come from one vector load and lane shuffles, the fifth from a
 * broadcast load: five broadcast loads are all scheduled ahead of the multiply-adds and spill.
 */
function blockKernel(direct: boolean, fused: boolean, mr: TileRows): Code {
  const c = new Code(direct ? [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32] : [I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [A, LDA, B, TAPS, BASES] = direct ? [0, 1, -1, 2, 3] : [0, 1, 2, -1, -1];
  const [C, MC, NC, KC, LDC, ACCUMULATE] = direct ? [4, 5, 6, 7, 8, 9] : [3, 4, 5, 6, 7, 8];
  const [i, j, p, pa, pb, out, tap, at] = [I32, I32, I32, I32, I32, I32, I32, I32].map((t) => c.local(t));
  const acc = Array.from({ length: 2 * mr }, () => c.local(V128));
  const [b0, b1, a, rows] = [c.local(V128), c.local(V128), c.local(V128), c.local(V128)];
  const shuffled = mr === 5 ? 4 : 0; // rows taken from one vector load
  c.i32(0).set(i);
  c.loop(i, mr, MC, () => {
    c.i32(0).set(j);
    c.loop(j, NR, NC, () => {
      startTile(c, C, i, j, LDC, ACCUMULATE, out, acc);
      // pa = A + i·lda bytes (panels are mr wide)
      c.get(A).get(i).get(LDA).mul().add().set(pa);
      if (direct) {
        // pb = bases[j]; tap = taps
        c.get(BASES).get(j).i32(4).mul().add().loadI32().set(pb);
        c.get(TAPS).set(tap);
      } else {
        // pb = B + j·kc·4 bytes (panels are NR wide)
        c.get(B).get(j).get(KC).mul().i32(4).mul().add().set(pb);
      }
      c.i32(0).set(p);
      c.loop(p, 1, KC, () => {
        if (direct) {
          c.get(pb).get(tap).loadI32().add().tee(at).load(0).set(b0);
          c.get(at).load(16).set(b1);
          c.get(tap).i32(4).add().set(tap);
        } else {
          c.get(pb).load(0).set(b0);
          c.get(pb).load(16).set(b1);
          c.get(pb).i32(4 * NR).add().set(pb);
        }
        if (shuffled > 0) c.get(pa).load(0).set(rows);
        for (let r = 0; r < mr; r++) {
          if (r < shuffled) c.get(rows).get(rows).broadcastLane(r).set(a);
          else c.get(pa).loadSplat(4 * r).set(a);
          multiplyAdd(c, fused, acc[2 * r], a, b0);
          multiplyAdd(c, fused, acc[2 * r + 1], a, b1);
        }
        c.get(pa).i32(4 * mr).add().set(pa);
      });
      storeTile(c, LDC, out, acc);
    });
  });
  return c;
}

/**
 * Emits `gathered(taps, columns, b, c, mc, nc, kc, ldc, accumulate)`: the block kernel with A read
 * in place — A[i, p] is the float at byte address `taps[i] + columns[p]` (two i32 tables) — and B
 * packed as kc-long panels of 8 columns, in 4×8 tiles. For a convolution's weight gradient: row i is a kernel
 * tap, column p an output pixel, both offsets into a padded copy of the input. `taps` must have
 * an entry (any valid address) for every row up to mc.
 */
function gatheredKernel(fused: boolean): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [TAPS, COLUMNS, B, C, MC, NC, KC, LDC, ACCUMULATE] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [i, j, p, pb, out, column, at] = [I32, I32, I32, I32, I32, I32, I32].map((t) => c.local(t));
  const rowAt = Array.from({ length: GATHER_ROWS }, () => c.local(I32));
  const acc = Array.from({ length: 2 * GATHER_ROWS }, () => c.local(V128));
  const [b0, b1, a] = [c.local(V128), c.local(V128), c.local(V128)];
  c.i32(0).set(i);
  c.loop(i, GATHER_ROWS, MC, () => {
    for (let r = 0; r < GATHER_ROWS; r++) c.get(TAPS).get(i).i32(4).mul().add().loadI32(4 * r).set(rowAt[r]);
    c.i32(0).set(j);
    c.loop(j, NR, NC, () => {
      startTile(c, C, i, j, LDC, ACCUMULATE, out, acc);
      c.get(B).get(j).get(KC).mul().i32(4).mul().add().set(pb);
      c.get(COLUMNS).set(column);
      c.i32(0).set(p);
      c.loop(p, 1, KC, () => {
        c.get(pb).load(0).set(b0);
        c.get(pb).load(16).set(b1);
        c.get(pb).i32(4 * NR).add().set(pb);
        c.get(column).loadI32().set(at);
        c.get(column).i32(4).add().set(column);
        for (let r = 0; r < GATHER_ROWS; r++) {
          c.get(rowAt[r]).get(at).add().loadSplat(0).set(a);
          multiplyAdd(c, fused, acc[2 * r], a, b0);
          multiplyAdd(c, fused, acc[2 * r + 1], a, b1);
        }
      });
      storeTile(c, LDC, out, acc);
    });
  });
  return c;
}

/** `block` of {@link blockKernel}. */
export type BlockKernel = (a: number, lda: number, b: number, c: number, mc: number, nc: number, kc: number, ldc: number, accumulate: number) => void;
/** `direct` of {@link blockKernel}. */
export type DirectKernel = (a: number, lda: number, taps: number, bases: number, c: number, mc: number, nc: number, kc: number, ldc: number, accumulate: number) => void;
/** Channels transposed into panels: see layoutKernels.ts. */
export type TransposePanels = (src: number, dst: number, panels: number, count: number, srcChannel: number, dstPanel: number) => void;

/** The compiled kernel and the memory it works in. */
export interface GemmKernel {
  /** A WebAssembly.Memory, by what is used of it (so the declarations need no WebAssembly types). */
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  /** Whether it multiplies and adds in one relaxed-SIMD instruction (engines with relaxed SIMD). */
  fused: boolean;
  /** The block kernel by tile height. */
  block: Record<TileRows, BlockKernel>;
  /** The implicit-GEMM kernel by tile height. */
  direct: Record<TileRows, DirectKernel>;
  gathered: (taps: number, columns: number, b: number, c: number, mc: number, nc: number, kc: number, ldc: number, accumulate: number) => void;
  /** Zero-padded image rows: see layoutKernels.ts. */
  padRows: (src: number, dst: number, channels: number, top: number, valid: number, bottom: number, w: number, pw: number, srcChannel: number, dstChannel: number) => void;
  /** Zero-padded rows split into even and odd columns: see layoutKernels.ts. */
  padPhased: (src: number, dst: number, channels: number, h: number, w: number, srcChannel: number, dstChannel: number, row: number, phase: number) => void;
  /** Channels transposed into panels NR wide (B's panels). */
  transposePanelsB: TransposePanels;
  /** Rows transposed into panels as wide as a tile is high (A's panels), by tile height. */
  transposePanelsA: Record<TileRows, TransposePanels>;
  /** The four phases of a stride-2 plane interleaved: see layoutKernels.ts. */
  interleavePhases: (src: number, dst: number, rows: number, width: number, phase: number) => void;
  /** A row-major block cut into panels NR wide: see layoutKernels.ts. */
  panelRows: (src: number, dst: number, panels: number, rows: number, srcRow: number, dstPanel: number) => void;
}

const HEIGHTS: TileRows[] = [4, 5];

/** The kernel module's bytes, with fused or separate multiply-adds. */
function kernelModule(fused: boolean): Uint8Array<ArrayBuffer> {
  return buildModule([
    ...HEIGHTS.flatMap((mr) => [{ name: `block${mr}`, code: blockKernel(false, fused, mr) }, { name: `direct${mr}`, code: blockKernel(true, fused, mr) },
      { name: `transposePanelsA${mr}`, code: transposePanelsCode(mr) }]),
    { name: "gathered", code: gatheredKernel(fused) }, { name: "padRows", code: padRowsCode() }, { name: "padPhased", code: padPhasedCode() },
    { name: "transposePanelsB", code: transposePanelsCode(NR) }, { name: "panelRows", code: panelRowsCode() },
    { name: "interleavePhases", code: interleavePhasesCode() }]);
}

/**
 * Compiles the kernel into a fresh memory — with relaxed SIMD's fused multiply-add where the engine
 * has it (Chrome 114+, Node 22+; Node 20 with --experimental-wasm-relaxed-simd), else with a
 * multiply then an add — or returns null where WebAssembly SIMD is unavailable. Every thread
 * compiles the same choice, so results stay the same for any thread count.
 * @example
 * const kernel = compileGemmKernel();
 */
export function compileGemmKernel(): GemmKernel | null {
  if (typeof WebAssembly === "undefined") return null;
  for (const fused of [true, false]) {
    const bytes = kernelModule(fused);
    if (!WebAssembly.validate(bytes)) continue;
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    const ex = instance.exports as Record<string, never>;
    const byHeight = <F>(name: string) => Object.fromEntries(HEIGHTS.map((mr) => [mr, ex[`${name}${mr}`]])) as unknown as Record<TileRows, F>;
    return { memory, fused, block: byHeight("block"), direct: byHeight("direct"), gathered: ex.gathered, padRows: ex.padRows, padPhased: ex.padPhased,
      transposePanelsB: ex.transposePanelsB, transposePanelsA: byHeight("transposePanelsA"), panelRows: ex.panelRows, interleavePhases: ex.interleavePhases };
  }
  return null;
}
