import type { Command } from '../command.js';
import { backupCommands } from './backup.js';
import { configCommands } from './config.js';
import { decodeCommands } from './decode.js';
import { demoCommand } from './demo.js';
import { deviceCommands } from './device.js';
import { doctorCommand } from './doctor.js';
import { eventsCommands } from './events.js';
import { issuerCommands } from './issuer.js';
import { keysCommands } from './keys.js';
import { outboxCommands } from './outbox.js';
import { pinCommands } from './pin.js';
import { revokeCommands } from './revoke.js';
import { runCommand } from './run.js';
import { timeCommands } from './time.js';
import { tokenCommands } from './token.js';

/** Every `portier` command, listed explicitly. Append new groups here. */
export const COMMANDS: readonly Command[] = [
  runCommand,
  demoCommand,
  ...configCommands,
  ...keysCommands,
  ...tokenCommands,
  ...pinCommands,
  ...revokeCommands,
  ...decodeCommands,
  ...outboxCommands,
  ...deviceCommands,
  ...eventsCommands,
  ...timeCommands,
  ...backupCommands,
  doctorCommand,
  ...issuerCommands,
];
