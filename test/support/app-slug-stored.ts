import { readAppSlug } from "../../src/records/app-slug";
import { RedisStore } from "../../src/store/redis-store";
import { TEST_APP_SLUG } from "./app-key";
import { testRedisUrl } from "./redis-prefix";

/** Polls the store until a process has shared the slug it learnt (the relay has then taken it in). */
export async function slugStored(redisPrefix: string): Promise<void> {
  const store = new RedisStore(testRedisUrl(), redisPrefix);
  try {
    const deadline = Date.now() + 30_000;
    while ((await readAppSlug(store)) !== TEST_APP_SLUG) {
      if (Date.now() > deadline) throw new Error("no process shared the app's slug within 30 s");
      await new Promise((done) => setTimeout(done, 100));
    }
  } finally {
    await store.close();
  }
}
