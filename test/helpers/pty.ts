/** The same pty pairs the demo uses: tests and demo share one implementation. */
export { createPtyPair, type PtyPair } from '../../firmware-stubs/pty-pair.js';
