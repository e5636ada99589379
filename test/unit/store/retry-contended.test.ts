import { LOST_RACE, retryContended } from "../../../src/store/retry-contended";

describe("retryContended", () => {
  it("answers the first attempt that settles, after the lost ones", async () => {
    const seen: number[] = [];
    const answer = await retryContended("record x", 5, async (index) => {
      seen.push(index);
      return index < 2 ? LOST_RACE : `settled at ${index}`;
    });
    expect({ answer, seen }).toEqual({ answer: "settled at 2", seen: [0, 1, 2] });
  });

  it("answers a settled null or undefined too: only LOST_RACE means try again", async () => {
    await expect(retryContended("record x", 3, async () => null)).resolves.toBeNull();
  });

  it("gives up after the attempts it was given, naming what stayed contended", async () => {
    let tries = 0;
    const lost = retryContended("job state relay:job:1", 4, async () => {
      tries += 1;
      return LOST_RACE;
    });
    await expect(lost).rejects.toThrow("job state relay:job:1 stayed contended for 4 attempts");
    expect(tries).toBe(4);
  });
});
