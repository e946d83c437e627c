// A small WebAssembly module builder: the binary format's sections, function bodies and the
// scalar and SIMD instructions our kernels use, so kernels are emitted by TypeScript at load time.

/** Value types. */
export const I32 = 0x7f;
/** 128-bit vector type. */
export const V128 = 0x7b;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function name(s: string): number[] {
  const bytes = Array.from(new TextEncoder().encode(s));
  return [...uleb(bytes.length), ...bytes];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A function body under construction: locals and instructions, named as in the spec's text format. */
export class Code {
  readonly bytes: number[] = [];
  private readonly locals: number[] = [];

  /** `params` are the function's parameter types; locals are numbered after them. */
  constructor(readonly params: number[]) {}

  /** Declares a local of `type`; returns its index. */
  local(type: number): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  private emit(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  private simd(op: number, ...imm: number[]): this {
    return this.emit(0xfd, ...uleb(op), ...imm);
  }

  get(i: number): this { return this.emit(0x20, ...uleb(i)); }
  set(i: number): this { return this.emit(0x21, ...uleb(i)); }
  tee(i: number): this { return this.emit(0x22, ...uleb(i)); }
  i32(v: number): this { return this.emit(0x41, ...sleb(v)); }
  add(): this { return this.emit(0x6a); }
  sub(): this { return this.emit(0x6b); }
  gtU(): this { return this.emit(0x4b); }
  mul(): this { return this.emit(0x6c); }
  ltU(): this { return this.emit(0x49); }
  and(): this { return this.emit(0x71); }
  shrU(): this { return this.emit(0x76); }
  /** i32.load (alignment hint 4). */
  loadI32(offset = 0): this { return this.emit(0x28, 2, ...uleb(offset)); }
  /** i32.store (alignment hint 4). */
  storeI32(offset = 0): this { return this.emit(0x36, 2, ...uleb(offset)); }
  /** v128.load with a constant byte offset (alignment hint 16). */
  load(offset = 0): this { return this.simd(0x00, 4, ...uleb(offset)); }
  /** v128.store with a constant byte offset. */
  store(offset = 0): this { return this.simd(0x0b, 4, ...uleb(offset)); }
  /** v128.load32_splat: one f32 from memory into all four lanes. */
  loadSplat(offset = 0): this { return this.simd(0x09, 2, ...uleb(offset)); }
  /** i8x16.shuffle of the two vectors on the stack that copies 32-bit lane `lane` of the first into all four lanes. */
  broadcastLane(lane: number): this {
    return this.simd(0x0d, ...Array.from({ length: 16 }, (_, i) => 4 * lane + (i % 4)));
  }
  /** i8x16.shuffle of the two vectors on the stack by 32-bit lanes: lanes 0–3 name the first's, 4–7 the second's. */
  shuffleLanes(lanes: [number, number, number, number]): this {
    return this.simd(0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
  }
  /** v128.load64_zero: two floats (eight bytes) into the low half, zeros above. */
  load64Zero(offset = 0): this { return this.simd(0x5d, 3, ...uleb(offset)); }
  /** v128.load64_splat: one f64 from memory into both lanes. */
  load64Splat(offset = 0): this { return this.simd(0x0a, 3, ...uleb(offset)); }
  /** f64x2.promote_low_f32x4: the two low float32 lanes as float64. */
  f64x2PromoteLow(): this { return this.simd(0x5f); }
  /** f64x2.add */
  f64x2Add(): this { return this.simd(0xf0); }
  /** f64x2.sub */
  f64x2Sub(): this { return this.simd(0xf1); }
  /** f64x2.mul */
  f64x2Mul(): this { return this.simd(0xf2); }
  /** v128.load8x8_u: eight bytes, each zero-extended to an i16 lane. */
  load8x8(offset = 0): this { return this.simd(0x02, 3, ...uleb(offset)); }
  /** v128.const of sixteen bytes. */
  bytesConst(bytes: number[]): this { return this.simd(0x0c, ...bytes); }
  /** i32x4.extend_low_i16x8_u / extend_high: four of the eight i16 lanes, zero-extended. */
  i32x4ExtendLow(): this { return this.simd(0xa9); }
  i32x4ExtendHigh(): this { return this.simd(0xaa); }
  /** i32x4.ne: all ones where the lanes differ. */
  i32x4Ne(): this { return this.simd(0x38); }
  /** i16x8.narrow_i32x4_s and i8x16.narrow_i16x8_s: two vectors' lanes, saturated to half the width. */
  i16x8Narrow(): this { return this.simd(0x85); }
  i8x16Narrow(): this { return this.simd(0x65); }
  /** v128.and. */
  and128(): this { return this.simd(0x4e); }
  /** v128.bitselect(a, b, mask): a's bits where the mask's are set, b's elsewhere. */
  bitselect(): this { return this.simd(0x52); }
  /** f32x4 comparisons: all ones in a lane where it holds (false for NaN, but ≠). */
  f32x4Eq(): this { return this.simd(0x41); }
  f32x4Ne(): this { return this.simd(0x42); }
  f32x4Lt(): this { return this.simd(0x43); }
  f32x4Gt(): this { return this.simd(0x44); }
  f32x4Le(): this { return this.simd(0x45); }
  f32x4Ge(): this { return this.simd(0x46); }
  /** v128.const of `value` (rounded to float32) in all four lanes. */
  f32x4Const(value: number): this {
    const view = new DataView(new ArrayBuffer(4));
    view.setFloat32(0, value, true); // WebAssembly's memory order
    const lane = [...new Uint8Array(view.buffer)];
    return this.bytesConst([...lane, ...lane, ...lane, ...lane]);
  }
  /** v128.const of all zeros. */
  zero(): this { return this.simd(0x0c, ...new Array(16).fill(0)); }
  /** f32.load (alignment hint 4): one float, as a scalar. */
  loadF32(offset = 0): this { return this.emit(0x2a, 2, ...uleb(offset)); }
  /** f32x4.splat: the scalar f32 on the stack into all four lanes. */
  f32x4Splat(): this { return this.simd(0x13); }
  f32x4Abs(): this { return this.simd(0xe0); }
  f32x4Neg(): this { return this.simd(0xe1); }
  f32x4Sqrt(): this { return this.simd(0xe3); }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Sub(): this { return this.simd(0xe5); }
  f32x4Mul(): this { return this.simd(0xe6); }
  f32x4Div(): this { return this.simd(0xe7); }
  /** f32x4.max: lane by lane, NaN if either is NaN, and +0 over −0. */
  f32x4Max(): this { return this.simd(0xe9); }
  /** f32x4.relaxed_madd (relaxed SIMD): a·b + c, fused where the machine has fused multiply-add. */
  f32x4RelaxedMadd(): this { return this.simd(0x105); }

  /**
   * A do-while loop: runs `body`, then `counter += step` and repeats while counter < limit
   * (unsigned). The body must run at least once.
   */
  loop(counter: number, step: number, limit: number, body: () => void): this {
    this.emit(0x03, 0x40);
    body();
    this.get(counter).i32(step).add().tee(counter).get(limit).ltU();
    return this.emit(0x0d, 0, 0x0b);
  }

  /** A while loop: evaluates `condition` (an i32) and runs `body` while it is non-zero. */
  whileLoop(condition: () => void, body: () => void): this {
    this.emit(0x02, 0x40, 0x03, 0x40);
    condition();
    this.emit(0x45, 0x0d, 1); // i32.eqz; br_if out of the block
    body();
    return this.emit(0x0c, 0, 0x0b, 0x0b); // br to the loop's start; end loop; end block
  }

  /** `if … else … end` on the i32 on the stack (non-zero runs `then`). */
  ifElse(then: () => void, otherwise?: () => void): this {
    this.emit(0x04, 0x40);
    then();
    if (otherwise) {
      this.emit(0x05);
      otherwise();
    }
    return this.emit(0x0b);
  }

  /** The encoded body: locals, then instructions and `end`. */
  encode(): number[] {
    const groups: number[][] = this.locals.map((t) => [1, t]);
    const body = [...vec(groups), ...this.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/** One exported function of a module. */
interface Func {
  name: string;
  code: Code;
}

/**
 * Assembles a module that imports its memory as `env.memory` and exports functions taking i32
 * parameters and returning nothing.
 * @example
 * const code = new Code([I32]);
 * const bytes = buildModule([{ name: "f", code }]);
 */
export function buildModule(funcs: Func[]): Uint8Array<ArrayBuffer> {
  const section = (id: number, payload: number[]) => [id, ...uleb(payload.length), ...payload];
  const types = funcs.map((f) => [0x60, ...vec(f.code.params.map((p) => [p])), 0]);
  const imports = vec([[...name("env"), ...name("memory"), 0x02, 0x00, 1]]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(funcs.map((f) => f.code.encode()))),
  ];
  return new Uint8Array(bytes);
}
