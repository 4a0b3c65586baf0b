import { type AdminTarget, adminRequest, followEventStream } from '../../admin/client.js';
import { EVENT_TYPES } from '../../core/events.js';
import { type CliIo, type Command, type ParsedArgs, str, UsageError } from '../command.js';
import { viaApi } from './device.js';

interface EventLine {
  seq: number;
  ts: string;
  dev: string;
  type: string;
  tq: string;
  data: Record<string, unknown>;
}

function print(io: CliIo, args: ParsedArgs, e: EventLine): void {
  if (args.values.json) io.out(JSON.stringify(e));
  else
    io.out(`${e.ts} ${String(e.seq).padStart(8)} ${e.dev.padEnd(16)} ${e.type.padEnd(19)} ${JSON.stringify(e.data)}`);
}

const tail: Command = viaApi({
  path: ['events', 'tail'],
  summary: 'The latest events of the running daemon, and with --follow every new one as it is committed',
  usage: '[--limit N] [--dev ID] [--type TYPE] [--follow] [--json (one event per line)]',
  options: {
    limit: { type: 'string', short: 'n', arg: 'N', description: 'how many of the latest events', default: '20' },
    dev: { type: 'string', arg: 'ID', description: "only this device's events" },
    type: { type: 'string', arg: 'TYPE', description: 'only events of this type (access.decision, alarm, ...)' },
    follow: { type: 'boolean', short: 'f', description: 'keep printing new events as they are committed' },
  },
  async run(args, io, target) {
    const type = str(args, 'type');
    if (type !== undefined && !(EVENT_TYPES as readonly string[]).includes(type)) {
      throw new UsageError(`--type: expected one of ${EVENT_TYPES.join(', ')}`);
    }
    // Ctrl+C or SIGTERM ends --follow cleanly (exit 0), also while the tail is still being read.
    const ctrl = new AbortController();
    const stop = () => ctrl.abort();
    if (args.values.follow) {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
    try {
      return await tailAndFollow(args, io, target, type, ctrl.signal);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
});

async function tailAndFollow(
  args: ParsedArgs,
  io: CliIo,
  target: AdminTarget,
  type: string | undefined,
  signal: AbortSignal,
): Promise<number> {
  const q = new URLSearchParams({ limit: str(args, 'limit') ?? '20' });
  const dev = str(args, 'dev');
  if (dev) q.set('dev', dev);
  if (type) q.set('type', type);
  const res = (await adminRequest(target, 'GET', `/api/events?${q}`)) as { events: EventLine[]; last_seq: number };
  for (const e of res.events) print(io, args, e);
  if (!args.values.follow || signal.aborted) return 0;
  // Resume the stream right after what was printed: nothing missed between the two requests, nothing twice.
  const filter = new URLSearchParams();
  if (dev) filter.set('dev', dev);
  if (type) filter.set('type', type);
  await followEventStream(target, { query: filter.size ? `?${filter}` : '', lastEventId: res.last_seq, signal }, (e) =>
    print(io, args, e as EventLine),
  );
  return 0;
}

export const eventsCommands: readonly Command[] = [tail];
