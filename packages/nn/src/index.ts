// @sam/nn: modules, layers, losses, initialisation, CIFAR models and safetensors weights.
export { Parameter } from "./parameter.js";
export { currentImageGroups, Module, type StateDict } from "./module.js";
export * from "./init.js";
export * from "./functional.js";
export { Linear, type LinearOptions } from "./layers/linear.js";
export { Conv2d, type Conv2dLayerOptions } from "./layers/conv2d.js";
export { BatchNorm, BatchNorm1d, BatchNorm2d, type BatchNormOptions } from "./layers/batchnorm.js";
export { ReLU, Identity, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Dropout } from "./layers/simple.js";
export { Sequential } from "./layers/sequential.js";
export { ResNet, BasicBlock, type ResNetOptions, type Shortcut } from "./models/resnet.js";
export { WideResNet, WideBlock, type WideResNetOptions } from "./models/wideresnet.js";
export { SmallCNN, type SmallCNNOptions } from "./models/smallcnn.js";
export { updateBatchNorm, withoutRunningStats } from "./runningStats.js";
export { encodeSafetensors, decodeSafetensors } from "./safetensors.js";
export { writeFileAtomic, saveSafetensors, loadSafetensors } from "./checkpointFile.js";
