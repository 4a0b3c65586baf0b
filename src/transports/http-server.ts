import { createServer } from 'node:http';
import { ErrorCode, PortierError, reasonOf } from '../core/errors.js';
import type { HttpRequest, HttpResponse, HttpServeOptions, HttpServer } from '../core/links.js';

/** ms a client may take to send its request headers */
export const HEADERS_TIMEOUT_MS = 5_000;
/** ms a client may take to send its whole request, body included */
export const REQUEST_TIMEOUT_MS = 10_000;
/** ms an idle kept-alive connection stays open */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** ms between Node's checks of the two timeouts above: they hold to within this */
const TIMEOUT_CHECK_MS = 500;

/**
 * A plain node:http server for a driver that serves pages and answers requests itself (the pass reader), with the
 * limits every such server needs: slow or idle clients cannot hold sockets, headers are bounded. Node checks the
 * header and request timeouts only every connectionsCheckingInterval (30 s by default, which made both 30 s in
 * practice); it can be set only at creation.
 */
export async function serveHttp(
  opts: HttpServeOptions,
  handler: (req: HttpRequest, res: HttpResponse) => void,
): Promise<HttpServer> {
  const s = createServer(
    {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    },
    handler,
  );
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
