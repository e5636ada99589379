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
  let lastAnswer = started;
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
        onResponse: () => {
          lastAnswer = performance.now();
        },
      },
    ],
  });
  // Up to the last answer: autocannon notices that a fixed amount is done only on its next 1 s tick,
  // so its own duration, and the wall clock around it, count whole seconds — rates of N/4 s or N/5 s
  // for a run of a few thousand requests.
  const seconds = (lastAnswer - started) / 1000;
  return {
    requests: result.requests.total,
    perSecond: result.requests.total / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
