import type { Command } from '../command.js';
import { runUntilSignalled } from './run.js';

export const demoCommand: Command = {
  path: ['demo'],
  summary: 'Run the demo: the gateway with simulated devices and an embedded MQTT broker (what npm start runs)',
  usage: '   (PORTIER_DEMO_DIR sets where its state lives; default .portier/demo)',
  async run(_args, io) {
    const { runDemo } = await import('../../demo/run-demo.js');
    return runDemo(io, runUntilSignalled);
  },
};
