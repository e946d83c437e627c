// The element types a tensor can hold, and the typed arrays that store them.

/** The element type of a tensor. `bool` is stored as one byte per element (0 or 1). */
export type DType = "float32" | "float64" | "int32" | "bool";

/** The typed array that holds a tensor's elements for a given dtype. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Every dtype, in a fixed order. */
export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "bool"];

/**
 * Bytes per element of a dtype.
 * @example
 * bytesPerElement("float64"); // 8
 */
export function bytesPerElement(dtype: DType): number {
  return dtype === "float64" ? 8 : dtype === "bool" ? 1 : 4;
}

/**
 * Whether a dtype holds real numbers (and so can carry gradients).
 * @example
 * isFloating("float32"); // true
 */
export function isFloating(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

/**
 * A typed array of `size` elements for `dtype`: a new zero-filled one, or a view of the start of
 * `buffer` (whatever it holds) when one is given.
 * @example
 * const a = typedArrayFor("int32", 4); // Int32Array(4)
 */
export function typedArrayFor(dtype: DType, size: number, buffer?: ArrayBufferLike): TypedArray {
  const b = buffer ?? new ArrayBuffer(size * bytesPerElement(dtype));
  switch (dtype) {
    case "float32": return new Float32Array(b, 0, size);
    case "float64": return new Float64Array(b, 0, size);
    case "int32": return new Int32Array(b, 0, size);
    case "bool": return new Uint8Array(b, 0, size);
  }
}

/**
 * Whether `value` names a dtype.
 * @example
 * isDType("float16"); // false
 */
export function isDType(value: unknown): value is DType {
  return typeof value === "string" && (DTYPES as readonly string[]).includes(value);
}
