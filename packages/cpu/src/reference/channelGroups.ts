// The per-channel primitives per group of images: their per-channel operands are then [G, C], a
// row per group, and the sums [2, G, C]. Each group's images run through the plain kernel with
// its rows, on views, so a group's result is the one its images alone give.
import type { BackendTensor, Kernel, TypedArray } from "@sam/tensor";
import { imagesOf, rowOf } from "../imageGroups.js";
import { dataOf } from "../storage.js";

/** Runs a sums kernel ([2, C] out) per group, placing group g's rows at out[g·C] and out[(G + g)·C]. */
function perGroupSums(groups: number, like: BackendTensor, out: BackendTensor, sums: (g: number, into: BackendTensor) => void): void {
  const c = like.shape[1];
  const o = dataOf(out);
  const rows = new (o.constructor as new (n: number) => TypedArray)(2 * c);
  const into: BackendTensor = { handle: { data: rows }, shape: [2, c], dtype: out.dtype };
  for (let g = 0; g < groups; g++) {
    sums(g, into);
    o.set(rows.subarray(0, c), g * c);
    o.set(rows.subarray(c), (groups + g) * c);
  }
}

/** channelMoments per group of images where asked (`groups`): [2, G, C]. */
export function momentsPerGroup(kernel: Kernel<"channelMoments">): Kernel<"channelMoments"> {
  return ([x], out, params) => {
    const groups = params.groups;
    if (groups === undefined) return kernel([x], out, params);
    perGroupSums(groups, x, out, (g, into) => kernel([imagesOf(x, g, groups)], into, {}));
  };
}

/** channelDots per group of images where the center is [G, C]: [2, G, C]. */
export function dotsPerGroup(kernel: Kernel<"channelDots">): Kernel<"channelDots"> {
  return ([dy, x, center], out, params) => {
    if (center.shape.length === 1) return kernel([dy, x, center], out, params);
    const groups = center.shape[0];
    perGroupSums(groups, x, out, (g, into) => kernel([imagesOf(dy, g, groups), imagesOf(x, g, groups), rowOf(center, g)], into, params));
  };
}

/** channelAffine per group of images where its per-channel operands are [G, C]. */
export function affinePerGroup(kernel: Kernel<"channelAffine">): Kernel<"channelAffine"> {
  return (inputs, out, params) => {
    const center = inputs[1];
    if (center.shape.length === 1) return kernel(inputs, out, params);
    const groups = center.shape[0];
    // x and the addend (inputs 0 and 4) are activations; the rest are rows
    const ofGroup = (g: number) => inputs.map((t, i) => (i === 0 || i === 4 ? imagesOf(t, g, groups) : rowOf(t, g)));
    for (let g = 0; g < groups; g++) kernel(ofGroup(g), imagesOf(out, g, groups), params);
  };
}
