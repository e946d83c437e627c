// @sam/tensor: tensors, the primitive ops, the Backend interface, scopes and a seeded RNG.
export { type DType, type TypedArray, DTYPES, bytesPerElement, isFloating, isDType, typedArrayFor } from "./dtype.js";
export { SamError, check, fmt } from "./errors.js";
export {
  type Shape, sizeOf, stridesOf, broadcastShapes, broadcastStrides, normalizeAxis, normalizeAxes, checkShape, sameShape,
} from "./shape.js";
export {
  firstWithAxes, type OpName, type OpParams, type Meta, type ShapeRule, type UnaryOp, type BinaryOp, type CompareOp, type ReduceOp,
  type ArgReduceOp, type Conv2dParams, type Pool2dParams, type OtherOpParams, type ReduceParams, type ArgReduceParams, type SliceParams, type PadParams, type ChannelAffineParams, type ChannelMomentsParams, type PointwiseParams,
  type AxisParams, type ShapeParams, shapeRules, windowOutSize, UNARY_OPS, BINARY_OPS, COMPARE_OPS, UNARY_FAMILY, BINARY_FAMILY, COMPARE_FAMILY, floatOnly, familyRows,
} from "./primitives.js";
export { type Backend, type BackendTensor, type DataHandle, type Kernel, type KernelTable } from "./backend.js";
export { type MemoryInfo, memory, Storage, VIEW_ALIGNMENT } from "./storage.js";
export { type Held, type TensorContainer, tidy, keep, hold, dispose } from "./scope.js";
export { type DispatchObserver, setBackend, getBackend, observeDispatch, dispatch } from "./engine.js";
export { Tensor, type NestedArray } from "./tensor.js";
export {
  type TensorData, type CreateOptions, tensor, full, zeros, ones, zerosLike, onesLike, arange, eye, fromValues,
} from "./creation.js";
export { Generator, defaultGenerator, manualSeed, rand, randn, randint, type RandomOptions } from "./random.js";
export * from "./ops.js";
export { type ChannelAffineOptions, channelMoments, channelDots, channelAffine, channelRow } from "./channels.js";
export { pointwise, pointwiseStack, pointwiseSum, PointwiseExpr, type PointwiseNode } from "./pointwise.js";
export { parsePointwise, pointwiseParts, POINTWISE_BINARY, POINTWISE_UNARY, POINTWISE_MAX_INPUTS, POINTWISE_MAX_SCALARS, type PointwiseToken, type PointwiseBinary, type PointwiseUnary } from "./pointwiseProgram.js";
export { type CloseOptions, assertClose, assertCloseSync } from "./testing.js";
