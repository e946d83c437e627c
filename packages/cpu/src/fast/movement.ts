// Constant padding by blocks: where the trailing axes are not padded (option A's shortcut pads
// only the channels), each input block they span is one contiguous copy, instead of an offset
// table of the input's size and a scattered store per element.
import { stridesOf, type Kernel } from "@sam/tensor";
import * as reference from "../reference/movement.js";
import { dataOf } from "../storage.js";

/** Constant fill, then the input copied in blocks of its unpadded trailing axes. */
export const pad: Kernel<"pad"> = ([x], out, p) => {
  const { before, after, interior, value } = p;
  if (interior.some((v) => v !== 0)) return reference.pad([x], out, p);
  const rank = x.shape.length;
  let axis = rank; // the trailing axes from here are copied whole
  while (axis > 0 && before[axis - 1] === 0 && after[axis - 1] === 0) axis--;
  const block = x.shape.slice(axis).reduce((a, d) => a * d, 1);
  if (axis === 0 || block < 16) return reference.pad([x], out, p);
  const [o, a] = [dataOf(out), dataOf(x)];
  o.fill(value);
  const outStrides = stridesOf(out.shape);
  const lead = x.shape.slice(0, axis);
  const count = lead.reduce((n, d) => n * d, 1);
  const index = new Array<number>(axis).fill(0);
  let dst = before.slice(0, axis).reduce((acc, b, i) => acc + b * outStrides[i], 0);
  for (let k = 0; k < count; k++) {
    o.set(a.subarray(k * block, (k + 1) * block), dst);
    // the next block's place: the last leading axis advances, carrying into the ones before it
    for (let d = axis - 1; d >= 0; d--) {
      dst += outStrides[d];
      if (++index[d] < lead[d]) break;
      dst -= lead[d] * outStrides[d];
      index[d] = 0;
    }
  }
};
