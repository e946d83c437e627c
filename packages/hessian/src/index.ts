// @sam/hessian: the loss Hessian of a model over a data set — Hessian-vector products, the top
// eigenvalues by Lanczos, the spectral density by stochastic Lanczos quadrature, and the trace.
export { type LinearOperator, matrixOperator, dot, norm, axpy } from "./operator.js";
export { type Batch, type ModelHessian, type ModelHessianOptions, modelHessian } from "./modelHessian.js";
export { type LanczosOptions, type LanczosResult, lanczos } from "./lanczos.js";
export { type TridiagonalEigen, tridiagonalEigen } from "./tridiagonal.js";
export {
  type TopEigenvalues, type TopEigenvaluesOptions, type PowerIterationOptions, type PowerIterationResult, topEigenvalues, powerIteration,
} from "./eigenvalues.js";
export { type Quadrature, type SpectralDensity, type SpectralDensityOptions, quadratureOf, spectralDensity } from "./density.js";
export { type TraceEstimate, type TraceOptions, hutchinsonTrace } from "./trace.js";
export { gaussianVector, rademacherVector } from "./random.js";
