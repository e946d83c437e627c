// @sam/autograd: the tape, gradient rules, backward, function transforms and gradient checking.
export { type Node, type PrimitiveNode, type CustomNode, nodeOf, isGradEnabled, noGrad, enableGrad } from "./tape.js";
export { customVjp } from "./custom.js";
export { type Vjp, vjps } from "./rules.js";
export { type BackwardOptions, gradients, backward } from "./backward.js";
export { type VjpResult, type TransformOptions, valueAndGrad, grad, vjp, hvp } from "./transforms.js";
export { type CheckGradOptions, type CheckGradResult, type GradMismatch, checkGrad } from "./checkGrad.js";
