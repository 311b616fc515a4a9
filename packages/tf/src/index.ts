export { initBackend, currentBackend, parseBackendPreference, tf } from './backend.js';
export type { BackendName, BackendPreference, BackendInfo, InitBackendOptions } from './backend.js';
