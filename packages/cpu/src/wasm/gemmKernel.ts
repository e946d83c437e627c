// The float32 GEMM block kernel in WebAssembly SIMD: C[mc×nc] = A·B from packed panels, in 4×8
// register tiles (eight f32x4 accumulators), emitted at load time by the module builder.
import { buildModule, Code, F32, I32, V128 } from "./builder.js";

/** Rows of A per register tile. */
export const MR = 4;
/** Columns of B per register tile (two f32x4 vectors). */
export const NR = 8;

/**
 * Emits the block kernel over 4×8 register tiles of C (byte addresses; mc and nc multiples of MR
 * and NR, all positive): Σₚ A[i, p]·B[p, j] over kc, with A packed as kc-long panels of 4 rows.
 * Each tile is stored into C with row stride ldc bytes, added to what C holds when `accumulate`
 * is non-zero (so C can stay in the kernel's memory across depth blocks).
 *
 * - `block(a, b, c, mc, nc, kc, ldc, accumulate)`: B packed as kc-long panels of 8 columns.
 * - `direct(a, taps, bases, c, mc, nc, kc, ldc, accumulate)`: B read in place (an implicit GEMM):
 *   row p of the panel starting at column j is the eight floats at `bases[j] + taps[p]`, two i32
 *   tables of byte addresses — for a convolution, where a panel of eight output pixels starts in
 *   a padded copy of the input, and where kernel tap p sits relative to it.
 */
function blockKernel(direct: boolean): Code {
  const c = new Code(direct ? [I32, I32, I32, I32, I32, I32, I32, I32, I32] : [I32, I32, I32, I32, I32, I32, I32, I32]);
  const [A, B, TAPS, BASES] = direct ? [0, -1, 1, 2] : [0, 1, -1, -1];
  const [C, MC, NC, KC, LDC, ACCUMULATE] = direct ? [3, 4, 5, 6, 7, 8] : [2, 3, 4, 5, 6, 7];
  const [i, j, p, pa, pb, out, tap, at] = [I32, I32, I32, I32, I32, I32, I32, I32].map((t) => c.local(t));
  const acc = Array.from({ length: 2 * MR }, () => c.local(V128));
  const [b0, b1, a] = [c.local(V128), c.local(V128), c.local(V128)];
  c.i32(0).set(i);
  c.loop(i, MR, MC, () => {
    c.i32(0).set(j);
    c.loop(j, NR, NC, () => {
      // out = C + i·ldc + j·4
      c.get(C).get(i).get(LDC).mul().add().get(j).i32(4).mul().add().set(out);
      c.get(ACCUMULATE).ifElse(() => {
        for (let r = 0; r < MR; r++) {
          c.get(out).get(LDC).i32(r).mul().add().load(0).set(acc[2 * r]);
          c.get(out).get(LDC).i32(r).mul().add().load(16).set(acc[2 * r + 1]);
        }
      }, () => {
        for (const r of acc) c.zero().set(r);
      });
      // pa = A + i·kc·4 bytes (panels are MR wide)
      c.get(A).get(i).get(KC).mul().i32(4).mul().add().set(pa);
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
        for (let r = 0; r < MR; r++) {
          c.get(pa).loadSplat(4 * r).set(a);
          c.get(acc[2 * r]).get(a).get(b0).f32x4Mul().f32x4Add().set(acc[2 * r]);
          c.get(acc[2 * r + 1]).get(a).get(b1).f32x4Mul().f32x4Add().set(acc[2 * r + 1]);
        }
        c.get(pa).i32(4 * MR).add().set(pa);
      });
      for (let r = 0; r < MR; r++) {
        c.get(out).get(acc[2 * r]).store(0);
        c.get(out).get(acc[2 * r + 1]).store(16);
        c.get(out).get(LDC).add().set(out);
      }
    });
  });
  return c;
}

/**
 * Emits `gathered(taps, columns, b, c, mc, nc, kc, ldc, accumulate)`: the block kernel with A read
 * in place — A[i, p] is the float at byte address `taps[i] + columns[p]` (two i32 tables) — and B
 * packed as kc-long panels of 8 columns. For a convolution's weight gradient: row i is a kernel
 * tap, column p an output pixel, both offsets into a padded copy of the input. `taps` must have
 * an entry (any valid address) for every row up to mc.
 */
function gatheredKernel(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [TAPS, COLUMNS, B, C, MC, NC, KC, LDC, ACCUMULATE] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [i, j, p, pb, out, column, at] = [I32, I32, I32, I32, I32, I32, I32].map((t) => c.local(t));
  const rowAt = Array.from({ length: MR }, () => c.local(I32));
  const acc = Array.from({ length: 2 * MR }, () => c.local(V128));
  const [b0, b1, a] = [c.local(V128), c.local(V128), c.local(V128)];
  c.i32(0).set(i);
  c.loop(i, MR, MC, () => {
    for (let r = 0; r < MR; r++) c.get(TAPS).get(i).i32(4).mul().add().loadI32(4 * r).set(rowAt[r]);
    c.i32(0).set(j);
    c.loop(j, NR, NC, () => {
      c.get(C).get(i).get(LDC).mul().add().get(j).i32(4).mul().add().set(out);
      c.get(ACCUMULATE).ifElse(() => {
        for (let r = 0; r < MR; r++) {
          c.get(out).get(LDC).i32(r).mul().add().load(0).set(acc[2 * r]);
          c.get(out).get(LDC).i32(r).mul().add().load(16).set(acc[2 * r + 1]);
        }
      }, () => {
        for (const r of acc) c.zero().set(r);
      });
      c.get(B).get(j).get(KC).mul().i32(4).mul().add().set(pb);
      c.get(COLUMNS).set(column);
      c.i32(0).set(p);
      c.loop(p, 1, KC, () => {
        c.get(pb).load(0).set(b0);
        c.get(pb).load(16).set(b1);
        c.get(pb).i32(4 * NR).add().set(pb);
        c.get(column).loadI32().set(at);
        c.get(column).i32(4).add().set(column);
        for (let r = 0; r < MR; r++) {
          c.get(rowAt[r]).get(at).add().loadSplat(0).set(a);
          c.get(acc[2 * r]).get(a).get(b0).f32x4Mul().f32x4Add().set(acc[2 * r]);
          c.get(acc[2 * r + 1]).get(a).get(b1).f32x4Mul().f32x4Add().set(acc[2 * r + 1]);
        }
      });
      for (let r = 0; r < MR; r++) {
        c.get(out).get(acc[2 * r]).store(0);
        c.get(out).get(acc[2 * r + 1]).store(16);
        c.get(out).get(LDC).add().set(out);
      }
    });
  });
  return c;
}

/**
 * Emits `dots(d, taps, pixels, c, rows, cols, kc, ldc, accumulate)`: C[i, t] (+)= Σ_q D[i, q] ·
 * X[t, q], both operands read in place and vectorised along the depth q, four at a time: row i of
 * D is kc floats at `d + 4·kc·i`; X[t, q…q+3] are the four floats at `taps[t] + pixels[q]` (i32
 * tables of byte offsets, the pixel table read every fourth entry). For a convolution's weight
 * gradient: D is dy, X the padded input, t a kernel tap, q four neighbouring output pixels.
 * Tiles of 2 rows × 4 taps; rows a multiple of 2, cols and kc of 4. Each sum folds its four
 * lanes ((l0 + l1) + l2) + l3 and adds that to C when `accumulate`.
 */
function dotsKernel(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [D, TAPS, PIXELS, C, ROWS, COLS, KC, LDC, ACCUMULATE] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [i, t, q, pd0, pd1, tp, at, out] = [I32, I32, I32, I32, I32, I32, I32, I32].map((ty) => c.local(ty));
  const sum = c.local(F32);
  const tap = Array.from({ length: 4 }, () => c.local(I32));
  const acc = Array.from({ length: 8 }, () => c.local(V128));
  const [d0, d1, x] = [c.local(V128), c.local(V128), c.local(V128)];
  c.i32(0).set(i);
  c.loop(i, 2, ROWS, () => {
    c.i32(0).set(t);
    c.loop(t, 4, COLS, () => {
      for (let j = 0; j < 4; j++) c.get(TAPS).get(t).i32(4).mul().add().loadI32(4 * j).set(tap[j]);
      for (const r of acc) c.zero().set(r);
      c.get(D).get(i).get(KC).mul().i32(4).mul().add().tee(pd0).get(KC).i32(4).mul().add().set(pd1);
      c.get(PIXELS).set(tp);
      c.i32(0).set(q);
      c.loop(q, 4, KC, () => {
        c.get(tp).loadI32().set(at);
        c.get(tp).i32(16).add().set(tp);
        c.get(pd0).load(0).set(d0);
        c.get(pd1).load(0).set(d1);
        c.get(pd0).i32(16).add().set(pd0);
        c.get(pd1).i32(16).add().set(pd1);
        for (let j = 0; j < 4; j++) {
          c.get(tap[j]).get(at).add().load(0).set(x);
          c.get(acc[j]).get(d0).get(x).f32x4Mul().f32x4Add().set(acc[j]);
          c.get(acc[4 + j]).get(d1).get(x).f32x4Mul().f32x4Add().set(acc[4 + j]);
        }
      });
      for (let r = 0; r < 2; r++) {
        for (let j = 0; j < 4; j++) {
          // out = C + (i + r)·ldc + (t + j)·4
          c.get(C).get(i).i32(r).add().get(LDC).mul().add().get(t).i32(j).add().i32(4).mul().add().set(out);
          const lanes = acc[4 * r + j];
          c.get(lanes).extractLane(0).get(lanes).extractLane(1).f32Add().get(lanes).extractLane(2).f32Add()
            .get(lanes).extractLane(3).f32Add().set(sum);
          c.get(ACCUMULATE).ifElse(() => {
            c.get(sum).get(out).loadF32().f32Add().set(sum);
          });
          c.get(out).get(sum).storeF32();
        }
      }
    });
  });
  return c;
}

/** The compiled kernel and the memory it works in. */
export interface GemmKernel {
  memory: WebAssembly.Memory;
  block: (a: number, b: number, c: number, mc: number, nc: number, kc: number, ldc: number, accumulate: number) => void;
  direct: (a: number, taps: number, bases: number, c: number, mc: number, nc: number, kc: number, ldc: number, accumulate: number) => void;
  gathered: (taps: number, columns: number, b: number, c: number, mc: number, nc: number, kc: number, ldc: number, accumulate: number) => void;
  dots: (d: number, taps: number, pixels: number, c: number, rows: number, cols: number, kc: number, ldc: number, accumulate: number) => void;
}

/**
 * Compiles the kernel into a fresh memory, or returns null where WebAssembly SIMD is unavailable.
 * @example
 * const kernel = compileGemmKernel();
 */
export function compileGemmKernel(): GemmKernel | null {
  const bytes = buildModule([{ name: "block", code: blockKernel(false) }, { name: "direct", code: blockKernel(true) },
    { name: "gathered", code: gatheredKernel() }, { name: "dots", code: dotsKernel() }]);
  if (typeof WebAssembly === "undefined" || !WebAssembly.validate(bytes)) return null;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return { memory, block: instance.exports.block as GemmKernel["block"], direct: instance.exports.direct as GemmKernel["direct"],
    gathered: instance.exports.gathered as GemmKernel["gathered"], dots: instance.exports.dots as GemmKernel["dots"] };
}
