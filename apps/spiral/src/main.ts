// Two interleaved spirals learned by a small MLP with plain gradient descent, then the sharpness of
// the minimum it found: the top Hessian eigenvalue, by power iteration on Hessian-vector products.
import { backward, grad, hvp, noGrad } from "@sam/autograd";
import { cpu } from "@sam/cpu";
import { Generator, keep, randn, setBackend, tensor, tidy, type Tensor } from "@sam/tensor";

setBackend(cpu());
const g = new Generator(0);

function spirals(perClass: number): { x: Tensor; y: Tensor } {
  const points: number[] = [];
  const labels: number[] = [];
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < perClass; i++) {
      const r = (i / perClass) * 3 + 0.3;
      const t = r * 2.2 + c * Math.PI + (g.nextFloat64() - 0.5) * 0.3;
      points.push(r * Math.cos(t) / 3, r * Math.sin(t) / 3);
      labels.push(c);
    }
  }
  return { x: tensor(points, { shape: [2 * perClass, 2] }), y: tensor(labels, { dtype: "int32" }) };
}

const shapes = [[2, 32], [32], [32, 32], [32], [32, 2], [2]];
const sizes = shapes.map((s) => s.reduce((p, d) => p * d, 1));

/** The network's logits, with all parameters unpacked from one flat vector θ. */
function logits(theta: Tensor, x: Tensor): Tensor {
  let at = 0;
  const [w1, b1, w2, b2, w3, b3] = shapes.map((s, i) => theta.slice([[at, (at += sizes[i])]]).reshape(s));
  return x.matmul(w1).add(b1).tanh().matmul(w2).add(b2).tanh().matmul(w3).add(b3);
}

/** Mean cross-entropy of logits against class indices, from primitives only. */
function crossEntropy(z: Tensor, y: Tensor): Tensor {
  const shifted = z.sub(z.max(1, true).detach());
  const logProbs = shifted.sub(shifted.exp().sum(1, true).log());
  return logProbs.gather(1, y.unsqueeze(1)).mean().neg();
}

const { x, y } = spirals(100);
const total = sizes.reduce((a, b) => a + b, 0);
let theta = keep(randn([total], { generator: g, std: 0.5 }).requiresGrad_());
let velocity = keep(theta.mul(0).detach());
const loss = (t: Tensor) => crossEntropy(logits(t, x), y);

console.log(`spirals: ${x.shape[0]} points, MLP 2-32-32-2 with ${total} parameters, gradient descent with momentum`);
for (let step = 0; step <= 2000; step++) {
  const l = tidy(() => {
    const value = loss(theta);
    backward(value);
    noGrad(() => {
      const v = keep(velocity.mul(0.9).add(theta.grad!));
      const next = keep(theta.sub(v.mul(0.1)).requiresGrad_());
      velocity.dispose();
      theta.dispose();
      [velocity, theta] = [v, next];
    });
    return value.detach();
  });
  if (step % 250 === 0) {
    const acc = tidy(() => logits(theta, x).argmax(1).eq(y).cast("float32").mean());
    console.log(`step ${String(step).padStart(4)}  loss ${(await l.item()).toFixed(4)}  accuracy ${((await acc.item()) * 100).toFixed(1)}%`);
    acc.dispose();
  }
  l.dispose();
}

// power iteration: v ← Hv / ‖Hv‖ converges to the eigenvector of the largest |eigenvalue|
let v = keep(randn([total], { generator: g }));
let eigenvalue = 0;
for (let i = 0; i < 30; i++) {
  const [next, lambda] = tidy(() => {
    const hv = hvp(loss, theta, v);
    return [hv.div(hv.square().sum().sqrt()), hv.mul(v).sum()];
  });
  eigenvalue = await lambda.item();
  v.dispose();
  lambda.dispose();
  v = keep(next);
}
const gradNorm = tidy(() => grad(loss)(theta).square().sum().sqrt());
console.log(`sharpness at the end: top Hessian eigenvalue ≈ ${eigenvalue.toFixed(3)}, gradient norm ${(await gradNorm.item()).toExponential(2)}`);
