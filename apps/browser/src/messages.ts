// What the page and the training worker say to each other.

/** The page's request: where to train and how much. */
export interface TrainRequest {
  /** "auto": WebGPU when the browser offers an adapter, else the CPU backend. */
  device: "auto" | "webgpu" | "cpu";
  /** CPU threads (the worker's own and N − 1 Web Workers); undefined: as many as the browser reports, at most 4. */
  threads?: number;
  steps: number;
  batch: number;
  size: number;
}

/** The worker's messages, in the order they come. */
export type WorkerMessage =
  | { kind: "device"; on: string; fellBack?: string }
  | { kind: "loss"; loss: number }
  | { kind: "done"; workerShares: number }
  | { kind: "error"; message: string };
