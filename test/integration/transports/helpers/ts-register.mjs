// Lets a child process run the project's TypeScript directly: `node --import <this file> some.ts`.
// Tests use it to run firmware-side code (SimGpioDevice) in a real second process.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
