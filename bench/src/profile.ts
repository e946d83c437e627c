// A backend wrapper that times every primitive, for seeing where a training step spends its time.
import type { Backend } from "@sam/tensor";

/** Total seconds and calls per primitive. */
export type Profile = Map<string, { seconds: number; calls: number }>;

/** Wraps `backend` so that every kernel's time is added to `profile` under its op name. */
export function profiled(backend: Backend, profile: Profile): Backend {
  return {
    ...backend,
    readSync: backend.readSync?.bind(backend),
    run(op, inputs, out, params) {
      const t0 = process.hrtime.bigint();
      backend.run(op, inputs, out, params);
      const entry = profile.get(op) ?? { seconds: 0, calls: 0 };
      entry.seconds += Number(process.hrtime.bigint() - t0) / 1e9;
      entry.calls++;
      profile.set(op, entry);
    },
  };
}

/** Prints the profile, slowest op first, with each op's share of the total. */
export function printProfile(profile: Profile, steps: number): void {
  const rows = [...profile].sort((a, b) => b[1].seconds - a[1].seconds);
  const total = rows.reduce((s, [, v]) => s + v.seconds, 0);
  console.log(`\nper-op profile, seconds per step (kernel time ${(total / steps).toFixed(2)} s)`);
  for (const [op, v] of rows) {
    console.log(`${op.padEnd(22)} ${(v.seconds / steps).toFixed(3).padStart(8)}  ${((100 * v.seconds) / total).toFixed(1).padStart(5)}%  ${String(v.calls / steps).padStart(5)} calls`);
  }
}
