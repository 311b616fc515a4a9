/**
 * The one place the TensorFlow.js engine is imported. Only tfjs-core (ops, autodiff, optimisers)
 * and the pure-JS cpu backend are bundled in; nothing here uses layers, data or the converter, so
 * the 200+ MB `@tensorflow/tfjs` umbrella is not needed. The umbrella registers the gradients and
 * chained ops as side effects; importing tfjs-core directly needs the same two registrations.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import '@tensorflow/tfjs-backend-cpu';

export { tf };
