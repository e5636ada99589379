import { parseBlobUrl, parseGithubConfigRef, resolveConfigLocation } from "../../../src/config/config-location";

describe("parseGithubConfigRef", () => {
  test("reads owner, repo, path and an optional ref", () => {
    expect(parseGithubConfigRef("github:pytorch/pytorch/.github/relay.yml@release/2.5")).toEqual({
      owner: "pytorch",
      repo: "pytorch",
      path: ".github/relay.yml",
      ref: "release/2.5",
    });
    expect(parseGithubConfigRef("github:pytorch/pytorch/relay.yml")).toEqual({
      owner: "pytorch",
      repo: "pytorch",
      path: "relay.yml",
    });
  });

  test.each([
    "github:pytorch",
    "github:pytorch/pytorch",
    "github:pytorch/pytorch/relay.yml@",
    "github:o/r/../secrets.yml",
    "relay.yml",
  ])("%s is refused", (value) => {
    expect(parseGithubConfigRef(value)).toBeNull();
  });
});

describe("parseBlobUrl", () => {
  test("a GitHub blob URL names the file and its ref", () => {
    expect(parseBlobUrl("https://github.com/pytorch/pytorch/blob/main/.github/allowlist.yml")).toEqual({
      owner: "pytorch",
      repo: "pytorch",
      path: ".github/allowlist.yml",
      ref: "main",
    });
  });

  test.each([
    "https://github.com/pytorch/pytorch/tree/main/a.yml",
    "https://github.com/pytorch/pytorch/blob/main",
    "ftp://github.com/o/r/blob/main/a.yml",
    "not a url",
  ])("%s is refused", (value) => {
    expect(parseBlobUrl(value)).toBeNull();
  });
});

describe("resolveConfigLocation", () => {
  test("a relative RELAY_CONFIG path is resolved in the working directory", () => {
    expect(resolveConfigLocation({ relayConfig: "conf/relay.yml" }, "/srv/relay")).toEqual({
      kind: "local",
      path: "/srv/relay/conf/relay.yml",
      display: "conf/relay.yml",
      via: "RELAY_CONFIG",
    });
  });

  test("with nothing set it is ./relay.yml", () => {
    expect(resolveConfigLocation({}, "/srv/relay")).toMatchObject({
      kind: "local",
      path: "/srv/relay/relay.yml",
      via: "default",
    });
  });
});
