/**
 * Seed ensembles: several members (an encoder and one head per task each, same config but the seed)
 * presented to the model as ONE encoder and one head per task, so every path that reads a model's
 * encoder and heads (predictRaw, the streaming predictor, training's evaluateSplit behind calibrate /
 * evaluate / lso) runs the ensemble unchanged.
 *
 * - The ensemble encoder's output is the members' embeddings side by side, [N, M x D].
 * - Each ensemble head applies member m's head to columns [m x D, (m+1) x D) and combines the M raw
 *   outputs per task kind (ensembleRule):
 *   - 'softmax-mean' (softmax classifiers): log of the mean member probability, log (1/M) sum_m softmax(z_m)
 *     (deep-ensemble averaging; its softmax is the mean probability);
 *   - 'sigmoid-mean' (one-logit classifiers): the logit of the mean member probability;
 *   - 'gaussian-mixture' (heads of (mean, log-std)): the moment-matched mixture, mean = mean of means,
 *     variance = mean of variances + variance of means, returned as (mean, log-std);
 *   - 'mean' (point regression, e.g. the volatility head's log-vol): the mean of the members.
 */
import { ConfigError } from '@task-agnostic/core';
import { tf } from '@task-agnostic/tf';
import type { Encoder, Head, Task } from './contracts.js';

export type EnsembleRule = 'softmax-mean' | 'sigmoid-mean' | 'gaussian-mixture' | 'mean';

/** One member of a model: its seed, encoder and heads (by task id). */
export interface ModelMember {
  readonly seed: number;
  readonly encoder: Encoder;
  readonly heads: ReadonlyMap<string, Head>;
}

/** How an ensemble combines the members' raw outputs of `task` (see the file comment). */
export function ensembleRule(task: Pick<Task, 'id' | 'kind' | 'outputDim' | 'calibrationForm'>): EnsembleRule {
  if (task.kind === 'classification') return task.outputDim === 1 ? 'sigmoid-mean' : 'softmax-mean';
  if (task.calibrationForm === 'gaussian') {
    if (task.outputDim !== 2) throw new ConfigError(`task '${task.id}' is a Gaussian head with ${task.outputDim} outputs; an ensemble combines (mean, log-std) pairs`, `tasks.${task.id}`);
    return 'gaussian-mixture';
  }
  return 'mean';
}

/** Combines the members' raw outputs (each [N, d]) by `rule` into one [N, d] (a new tensor; the inputs are not disposed). */
export function combineMemberOutputs(rule: EnsembleRule, outputs: readonly tf.Tensor2D[]): tf.Tensor2D {
  if (outputs.length === 0) throw new ConfigError('an ensemble needs at least one member', 'members');
  return tf.tidy(() => {
    const M = outputs.length;
    const logM = Math.log(M);
    switch (rule) {
      case 'softmax-mean':
        return tf.sub(tf.logSumExp(tf.stack(outputs.map((o) => tf.logSoftmax(o))), 0), logM) as tf.Tensor2D;
      case 'sigmoid-mean': {
        // logit(p) = log p - log(1 - p), both as log-mean-exp of the members' log-sigmoids (1/M cancels)
        const logP = tf.logSumExp(tf.stack(outputs.map((o) => tf.logSigmoid(o))), 0);
        const logQ = tf.logSumExp(tf.stack(outputs.map((o) => tf.logSigmoid(tf.neg(o)))), 0);
        return tf.sub(logP, logQ) as tf.Tensor2D;
      }
      case 'gaussian-mixture': {
        const mus = tf.stack(outputs.map((o) => tf.slice(o, [0, 0], [-1, 1])));
        const logStd = tf.stack(outputs.map((o) => tf.slice(o, [0, 1], [-1, 1])));
        const mu = tf.mean(mus, 0);
        const variance = tf.add(tf.mean(tf.exp(tf.mul(logStd, 2)), 0), tf.mean(tf.square(tf.sub(mus, mu)), 0));
        return tf.concat([mu, tf.mul(tf.log(variance), 0.5)], 1) as tf.Tensor2D;
      }
      case 'mean':
        return tf.mean(tf.stack([...outputs]), 0) as tf.Tensor2D;
    }
  });
}

/** The members' encoders as one: [N, T, F] -> the embeddings side by side, [N, M x D]. */
export function ensembleEncoder(members: readonly ModelMember[]): Encoder & { readonly members: readonly Encoder[] } {
  const encoders = members.map((m) => m.encoder);
  const first = encoders[0]!;
  const variables = encoders.flatMap((e) => [...e.variables]);
  return {
    members: encoders,
    config: first.config,
    inputShape: first.inputShape,
    outputDim: encoders.reduce((a, e) => a + e.outputDim, 0),
    variables,
    // what training's parts read (an ensemble is evaluated, not trained: a frozen-encoder head on it trains on all M embeddings)
    trainableVariables: encoders.flatMap((e) => [...(e.trainableVariables ?? e.variables)]),
    lastSharedWeights: first.lastSharedWeights,
    auxLoss: () => {
      const losses = encoders.map((e) => e.auxLoss?.() ?? null).filter((l): l is tf.Scalar => l !== null);
      return losses.length ? (tf.addN(losses) as tf.Scalar) : null;
    },
    apply(x: tf.Tensor3D, options?: { training?: boolean }): tf.Tensor2D {
      return tf.tidy(() => tf.concat(encoders.map((e) => e.apply(x, options)), 1));
    },
    paramCount: () => encoders.reduce((a, e) => a + e.paramCount(), 0),
    dispose: () => encoders.forEach((e) => e.dispose()),
  };
}

/** Member m's columns of the ensemble encoder's [N, M x D] embedding: [offsets[m], offsets[m] + dims[m]); `width` = sum of dims. */
export function memberColumns(members: readonly ModelMember[]): { readonly dims: readonly number[]; readonly offsets: readonly number[]; readonly width: number } {
  const dims = members.map((m) => m.encoder.outputDim);
  const offsets: number[] = [];
  let width = 0;
  for (const d of dims) {
    offsets.push(width);
    width += d;
  }
  return { dims, offsets, width };
}

/** The members' heads of `task` as one head over the ensemble encoder's [N, M x D] embedding, combined by ensembleRule(task). */
export function ensembleHead(task: Pick<Task, 'id' | 'kind' | 'outputDim' | 'calibrationForm'>, members: readonly ModelMember[]): Head {
  const rule = ensembleRule(task);
  const heads = members.map((m) => m.heads.get(task.id)!);
  const { dims, offsets } = memberColumns(members);
  return {
    variables: heads.flatMap((h) => [...h.variables]),
    apply(embedding: tf.Tensor2D, options?: { training?: boolean }): tf.Tensor2D {
      return tf.tidy(() => combineMemberOutputs(rule, heads.map((h, k) => h.apply(tf.slice(embedding, [0, offsets[k]!], [-1, dims[k]!]), options))));
    },
    dispose: () => heads.forEach((h) => h.dispose()),
  };
}
