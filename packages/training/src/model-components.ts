/** The real parts (features, encoders, heads) as the model package wires them. */
export { defaultComponents } from '@task-agnostic/model';
