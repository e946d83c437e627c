// Compiled compute pipelines, keyed by their WGSL source: a training step reuses the same few
// dozen shaders, so each is compiled once per device.
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  /** The pipeline of `code` (entry point `main`), compiled on first use and labelled `label`. */
  get(code: string, label: string): GPUComputePipeline {
    let pipeline = this.pipelines.get(code);
    if (!pipeline) {
      const module = this.device.createShaderModule({ code, label });
      pipeline = this.device.createComputePipeline({ label, layout: "auto", compute: { module, entryPoint: "main" } });
      this.pipelines.set(code, pipeline);
    }
    return pipeline;
  }

  /** How many distinct shaders have been compiled. */
  get size(): number {
    return this.pipelines.size;
  }
}
