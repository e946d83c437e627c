// The models the trainer offers, by name.
import { ResNet, SmallCNN, WideResNet, type Module } from "@sam/nn";
import type { Generator } from "@sam/tensor";
import type { Config } from "./config.js";

/** A fresh model for `name` with `classes` outputs over images of `channels` channels. */
export function makeModel(name: Config["model"], classes: number, channels: number, generator: Generator): Module {
  const o = { numClasses: classes, inChannels: channels, generator };
  switch (name) {
    case "resnet20": return new ResNet(20, o);
    case "resnet56": return new ResNet(56, o);
    case "wrn16-8": return new WideResNet(16, 8, o);
    case "wrn28-10": return new WideResNet(28, 10, o);
    case "cnn": return new SmallCNN(o);
  }
}
