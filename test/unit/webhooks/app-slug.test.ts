import { AppSlug } from "../../../src/webhooks/app-slug";
import { MemoryStore } from "../../../src/store/memory-store";

const APP_ID = 4242;
const quiet = { warn: () => undefined, info: () => undefined };

/** A Probot whose GET /app answers what `answer` says, counting the asks. */
function probotAnswering(answer: () => Promise<unknown>) {
  const asks = { count: 0 };
  const probot = {
    auth: async () => ({
      request: async () => {
        asks.count += 1;
        return { data: await answer() };
      },
    }),
  } as unknown as ConstructorParameters<typeof AppSlug>[0]["probot"];
  return { probot, asks };
}

const settle = () => new Promise((done) => setImmediate(done));

describe("AppSlug", () => {
  it("answers null at once while GitHub has not answered, then the slug, and shares it in the store", async () => {
    let release: (value: unknown) => void = () => undefined;
    const { probot } = probotAnswering(() => new Promise((resolve) => (release = resolve)));
    const store = new MemoryStore();
    const slug = new AppSlug({ probot, store, log: quiet, appId: APP_ID });

    expect(await slug.current()).toBeNull();
    release({ slug: "ci-relay" });
    await settle();
    expect(await slug.current()).toBe("ci-relay");
    expect(
      await new AppSlug({
        probot: probotAnswering(() => new Promise(() => undefined)).probot,
        store,
        log: quiet,
        appId: APP_ID,
      }).current(),
    ).toBe("ci-relay");
  });

  it("backs off after a failed ask instead of asking on every webhook", async () => {
    let now = 0;
    const { probot, asks } = probotAnswering(async () => {
      throw new Error("GitHub unreachable");
    });
    const slug = new AppSlug({ probot, store: new MemoryStore(), log: quiet, appId: APP_ID, now: () => now });

    await slug.current();
    await settle();
    await slug.current();
    await slug.current();
    expect(asks.count).toBe(1);
    now += 1_000;
    await slug.current();
    expect(asks.count).toBe(2);
  });

  it("learns the slug from a check run of its own app id, and not from another app's", async () => {
    const { probot } = probotAnswering(() => new Promise(() => undefined));
    const slug = new AppSlug({ probot, store: new MemoryStore(), log: quiet, appId: APP_ID });

    expect(await slug.current({ check_run: { app: { id: 1, slug: "someone-else" } } })).toBeNull();
    expect(await slug.current({ check_suite: { app: { id: APP_ID, slug: "ci-relay" } } })).toBe("ci-relay");
  });
});
