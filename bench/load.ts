import autocannon from "autocannon";

export interface LoadRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/**
 * POSTs `next()`'s requests to `baseUrl` over `connections` keep-alive connections, for `seconds`
 * or until `amount` requests were sent, whichever is given; each request is built just before it is
 * sent, so every one may be a different delivery or callback.
 */
export async function load(
  baseUrl: string,
  next: () => LoadRequest,
  options: { connections: number; seconds?: number; amount?: number },
): Promise<LoadResult> {
  const started = performance.now();
  const result = await autocannon({
    url: baseUrl,
    connections: options.connections,
    ...(options.amount === undefined ? { duration: options.seconds ?? 10 } : { amount: options.amount }),
    requests: [
      {
        method: "POST",
        setupRequest: (request) => {
          const { path, headers, body } = next();
          return { ...request, method: "POST", path, headers, body };
        },
      },
    ],
  });
  // autocannon's own duration counts whole 1 s ticks, too coarse for a run of a few thousand requests.
  const seconds = (performance.now() - started) / 1000;
  return {
    requests: result.requests.total,
    perSecond: result.requests.total / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
