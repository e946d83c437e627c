// One TensorFlow.js backend's side of `pnpm bench matmul|conv`, in its own process: prints one
// JSON line per case ({ case, seconds } or { case, error }), then one describing the backend.
// Arguments: cpu|wasm matmul|conv RUNS [BATCH SIZE CIN:COUT …]
import { createRequire } from "node:module";
import { dirname } from "node:path";
import * as tf from "@tensorflow/tfjs"; // core with its gradients registered, and the CPU backend
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

const [backend, bench, runsArg, ...rest] = process.argv.slice(2);
const runs = Number(runsArg);
const WARM_UP_SECONDS = 0.25;

function medianSeconds(fn: () => tf.Tensor[]): number {
  const once = () => {
    const t0 = process.hrtime.bigint();
    fn().forEach((t) => {
      t.dataSync(); // waits for the result
      t.dispose();
    });
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  for (let warm = 0; warm < WARM_UP_SECONDS;) warm += once(); // as report.ts warms up
  const times = Array.from({ length: runs }, once).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function time(name: string, fn: () => tf.Tensor[]): void {
  try {
    console.log(JSON.stringify({ case: name, seconds: medianSeconds(fn) }));
  } catch (e) {
    console.log(JSON.stringify({ case: name, error: (e as Error).message.split("\n")[0] }));
  }
}

if (backend === "wasm") {
  const require = createRequire(import.meta.url);
  setWasmPaths(`${dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"))}/`);
}
await tf.setBackend(backend);
await tf.ready();

if (bench === "matmul") {
  for (const n of rest.map(Number)) {
    const [a, b] = [tf.randomUniform([n, n]), tf.randomUniform([n, n])];
    time(String(n), () => [tf.matMul(a, b)]);
  }
} else {
  const [batch, size] = rest.slice(0, 2).map(Number);
  for (const pair of rest.slice(2)) {
    const [cin, cout] = pair.split(":").map(Number);
    // TensorFlow.js's native layout: NHWC images, HWIO filters
    const x = tf.randomNormal([batch, size, size, cin]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, cin, cout]) as tf.Tensor4D;
    const dy = tf.randomNormal([batch, size, size, cout]) as tf.Tensor4D;
    const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same");
    time(`${cin}->${cout} fwd`, () => [conv(x, w)]);
    if (backend === "cpu") {
      // measured at batch 8: about 40 s per forward+backward of 64→64, so minutes at batch 128
      console.log(JSON.stringify({ case: `${cin}->${cout} fwd+bwd`, error: "skipped: about 40 s per call already at batch 8" }));
    } else {
      time(`${cin}->${cout} fwd+bwd`, () => tf.grads(conv)([x, w], dy));
    }
  }
}
console.log(JSON.stringify({ backend: tf.getBackend(), version: tf.version_core, threads: 1 }));
