/**
 * The one interface every encoder implements ([N, T, F] windows -> [N, D] embeddings) and the
 * shared plumbing: input checks, variable bookkeeping, parameter count, disposal.
 */
import { tf, gradientTapeActive } from '@task-agnostic/tf';
import { DataError } from '@task-agnostic/core';
import type { EncoderConfig } from './config.js';
import type { ParamStore } from './params.js';

export interface ApplyOptions {
  /** Dropout on and batch statistics (MLP) updated. Default false. */
  readonly training?: boolean;
  /**
   * Inference only (training false, no gradient tape): use the encoder's fast inference path where
   * it has one (the transformer: folded layer norms, direct kernels; same results within float32
   * rounding). Default true; false forces the differentiable graph path.
   */
  readonly fastInference?: boolean;
}

export interface Encoder {
  readonly config: EncoderConfig;
  /** [T, F]: window length and feature count. */
  readonly inputShape: readonly [number, number];
  readonly outputDim: number;
  /** [N, T, F] -> [N, D]. The result belongs to the caller. */
  apply(x: tf.Tensor3D, options?: ApplyOptions): tf.Tensor2D;
  /** All state to save (trainable weights and batch-norm statistics), in a stable order. */
  readonly variables: readonly tf.Variable[];
  /** Stable role names parallel to `variables` (e.g. "layer0/attn/qkv/w"). */
  readonly variableNames: readonly string[];
  readonly trainableVariables: readonly tf.Variable[];
  /** Weight of the last shared layer (the output projection): GradNorm measures gradients here. */
  readonly lastSharedWeights: tf.Variable;
  /**
   * Auxiliary loss of the last apply, already weighted (MoE load balance), else null. Owned by the
   * encoder and valid until the next apply; add it to the loss inside the same gradient function.
   */
  auxLoss(): tf.Scalar | null;
  /** Plain-data diagnostics of the last apply (MoE: expert usage). */
  diagnostics(): Record<string, unknown>;
  paramCount(): number;
  dispose(): void;
}

export abstract class BaseEncoder<C extends EncoderConfig> implements Encoder {
  readonly inputShape: readonly [number, number];
  abstract readonly lastSharedWeights: tf.Variable;
  private disposed = false;

  protected constructor(
    readonly config: C,
    inputShape: readonly [number, number],
    protected readonly params: ParamStore,
  ) {
    this.inputShape = [inputShape[0], inputShape[1]];
  }

  get outputDim(): number {
    return this.config.outputDim;
  }

  get variables(): readonly tf.Variable[] {
    return this.params.variables;
  }

  get variableNames(): readonly string[] {
    return this.params.names;
  }

  get trainableVariables(): readonly tf.Variable[] {
    return this.params.trainable;
  }

  apply(x: tf.Tensor3D, options: ApplyOptions = {}): tf.Tensor2D {
    if (this.disposed) throw new Error(`${this.config.type} encoder used after dispose()`);
    const [t, f] = this.inputShape;
    if (x.rank !== 3 || x.shape[1] !== t || x.shape[2] !== f) {
      throw new DataError(`${this.config.type} encoder expects input [N, ${t}, ${f}], got [${x.shape.join(', ')}]`);
    }
    if (x.shape[0] === 0) throw new DataError(`${this.config.type} encoder got an empty batch`);
    const training = options.training ?? false;
    if (!training && options.fastInference !== false && !gradientTapeActive()) {
      const y = this.infer(x);
      if (y) return y;
    }
    return tf.tidy(() => this.forward(x, training));
  }

  protected abstract forward(x: tf.Tensor3D, training: boolean): tf.Tensor2D;

  /** A fast inference path (no tape, training false), or null to use `forward`. */
  protected infer(_x: tf.Tensor3D): tf.Tensor2D | null {
    return null;
  }

  auxLoss(): tf.Scalar | null {
    return null;
  }

  diagnostics(): Record<string, unknown> {
    return {};
  }

  paramCount(): number {
    let n = 0;
    for (const v of this.params.trainable) n += v.size;
    return n;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeExtra();
    this.params.dispose();
  }

  protected disposeExtra(): void {}
}
