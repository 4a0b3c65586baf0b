import { createServer } from 'node:http';
import { ErrorCode, PortierError, reasonOf } from '../core/errors.js';
import type { HttpRequest, HttpResponse, HttpServeOptions, HttpServer } from '../core/links.js';

/**
 * A plain node:http server for a driver that serves pages and answers requests itself (the pass reader), with the
 * limits every such server needs: slow or idle clients cannot hold sockets, headers are bounded.
 */
export async function serveHttp(
  opts: HttpServeOptions,
  handler: (req: HttpRequest, res: HttpResponse) => void,
): Promise<HttpServer> {
  const s = createServer(handler);
  s.requestTimeout = 10_000;
  s.headersTimeout = 5_000;
  s.keepAliveTimeout = 5_000;
  s.maxHeadersCount = 50;
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(opts.port, opts.host, () => {
        s.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new PortierError(
      ErrorCode.TransportOpenFailed,
      `HTTP ${opts.host}:${opts.port}: ${reasonOf(err)}`,
      {},
      {
        cause: err,
      },
    );
  }
  const addr = s.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : opts.port,
    onError: (listener) => s.on('error', listener),
    close: async () => {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}
