// A share of work as any thread runs it: a range of one kernel (tasks.ts), or whole groups of images
// of a convolution with a kernel per group (imageGroups.ts).
import { runImageGroups } from "./imageGroups.js";
import { runTask, type Share } from "./tasks.js";

/** Runs one share, on whichever thread receives it. */
export function runShare(share: Share): void {
  if (share.op === "convImageGroups") runImageGroups(share);
  else runTask(share);
}
