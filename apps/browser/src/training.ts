// Four synthetic image classes (a bright quadrant each, plus noise) and a small CNN trained on
// them with SAM around SGD; yields the loss of every step.
import { fromValues, Generator, tidy, type Tensor } from "@sam/tensor";
import { BatchNorm2d, Conv2d, crossEntropy, Flatten, Linear, MaxPool2d, ReLU, Sequential, withoutRunningStats } from "@sam/nn";
import { SAM, SGD } from "@sam/optim";

/** Images per batch and their side in pixels. */
export interface Scale {
  batch: number;
  size: number;
}

/** A batch of 3×size×size images whose class is the quadrant that is bright. */
function batch(random: Generator, { batch: BATCH, size: SIZE }: Scale): { x: Tensor; y: Tensor } {
  const labels = Array.from({ length: BATCH }, (_, i) => i % 4);
  const pixels: number[] = [];
  for (const label of labels) {
    for (let c = 0; c < 3; c++) {
      for (let r = 0; r < SIZE; r++) {
        for (let k = 0; k < SIZE; k++) {
          const quadrant = (r < SIZE / 2 ? 0 : 2) + (k < SIZE / 2 ? 0 : 1);
          pixels.push((quadrant === label ? 1 : 0) + 0.8 * (random.nextFloat32() - 0.5));
        }
      }
    }
  }
  return { x: fromValues(pixels, [BATCH, 3, SIZE, SIZE], "float32"), y: fromValues(labels, [BATCH], "int32") };
}

/** Runs `steps` SAM steps on the current backend, yielding each step's loss. */
export async function* trainSteps(steps: number, scale: Scale = { batch: 16, size: 8 }): AsyncGenerator<number> {
  const random = new Generator(1);
  const model = new Sequential(
    new Conv2d(3, 8, 3, { padding: 1, generator: random }), new BatchNorm2d(8), new ReLU(), new MaxPool2d({ kernel: 2 }),
    new Flatten(), new Linear(8 * (scale.size / 2) ** 2, 4, { generator: random }),
  );
  const sam = new SAM(model.parameters(), SGD, { rho: 0.05, lr: 0.1, momentum: 0.9 }, { secondPass: (run) => withoutRunningStats(model, run) });
  const { x, y } = batch(random, scale);
  for (let i = 0; i < steps; i++) {
    const loss = tidy(() => sam.step(() => crossEntropy(model.forward(x), y), scale.batch));
    yield await loss.item();
    loss.dispose();
  }
  x.dispose();
  y.dispose();
}
