/** Small HTTP helpers shared by the sandbox's servers. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { FaultInjector } from './faults.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void> | void;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length, ...headers });
  res.end(body);
}

/** Holds the end of `res` for `ms` after the handler ends it: the answer is written, then travels. */
function holdAnswer(res: ServerResponse, ms: number): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  (res as unknown as { end: (...args: unknown[]) => ServerResponse }).end = (...args: unknown[]) => {
    setTimeout(() => end(...args), ms);
    return res;
  };
}

export interface StartedServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * Starts a loopback server. `routeOf` names each request for fault injection; a matching fault
 * delays it, answers with an error, or drops the connection before `handler` sees it.
 */
export async function startServer(
  handler: Handler,
  faults: FaultInjector,
  routeOf: (req: IncomingMessage, body: Buffer) => string,
  onFault: (
    req: IncomingMessage,
    res: ServerResponse,
    fault: NonNullable<ReturnType<FaultInjector['take']>['failure']>,
  ) => void,
  port = 0,
): Promise<StartedServer> {
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const body = await readBody(req);
        const { latencyMs, answerLatencyMs, failure } = faults.take(routeOf(req, body));
        if (latencyMs > 0) await delay(latencyMs);
        if (answerLatencyMs > 0) holdAnswer(res, answerLatencyMs);
        if (failure?.drop && failure.afterActing) {
          // The service acts; its answer never reaches the caller.
          const sink = res as unknown as Record<string, unknown>;
          sink.writeHead = () => res;
          sink.write = () => true;
          sink.end = () => {
            req.socket.destroy();
            return res;
          };
          await handler(req, res, body);
          return;
        }
        if (failure?.drop) {
          req.socket.destroy();
          return;
        }
        if (failure) {
          onFault(req, res, failure);
          return;
        }
        await handler(req, res, body);
      } catch (error) {
        if (!res.headersSent) sendJson(res, 500, { message: `sandbox error: ${(error as Error).message}` });
        else res.destroy();
      }
    })();
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
