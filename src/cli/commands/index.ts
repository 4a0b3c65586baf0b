import type { Command } from '../command.js';
import { configCommands } from './config.js';

/** Every `portier` command, listed explicitly. Append new groups here. */
export const COMMANDS: readonly Command[] = [...configCommands];
