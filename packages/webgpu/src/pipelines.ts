// Compiled compute pipelines, keyed by their WGSL source: a training step reuses the same few
// dozen shaders, so each is compiled once per device.

/** A compiled shader and its bind group layout (asked of Dawn once, not per launch). */
export interface Pipeline {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, Pipeline>();

  constructor(private readonly device: GPUDevice) {}

  /** The pipeline of `code` (entry point `main`), compiled on first use and labelled `label`. */
  get(code: string, label: string): Pipeline {
    let entry = this.pipelines.get(code);
    if (!entry) {
      const module = this.device.createShaderModule({ code, label });
      const pipeline = this.device.createComputePipeline({ label, layout: "auto", compute: { module, entryPoint: "main" } });
      entry = { pipeline, layout: pipeline.getBindGroupLayout(0) };
      this.pipelines.set(code, entry);
    }
    return entry;
  }

  /** How many distinct shaders have been compiled. */
  get size(): number {
    return this.pipelines.size;
  }
}
