/**
 * The library describes the part of each npm package's API it uses in its own types
 * (src/config/yaml_api.ts, src/nats/nats_api.ts, plugins/sinks/postgres/postgres_api.ts)
 * instead of importing the package's: a type-only import would put the package in mod.ts's
 * module graph. Here the real packages are checked against those types (by the type checker:
 * each module is assigned to its description) and the string values the library writes in
 * place of the packages' enums against the enums.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as yaml from "yaml";
import * as transport from "@nats-io/transport-node";
import * as js from "@nats-io/jetstream";
import postgres from "postgres";
import type { YamlModule } from "../../src/config/yaml_api.ts";
import type { JetStreamModule, NatsTransportModule } from "../../src/nats/nats_api.ts";
import type { PostgresModule } from "../../plugins/sinks/postgres/postgres_api.ts";

/** Every name a description has (the type checker makes the list complete). */
function namesOf<T>(names: Record<keyof T, true>): string[] {
  return Object.keys(names);
}

Deno.test("the real npm packages have the APIs the library describes", () => {
  // Type checked: each real module is assignable to its description.
  const described: [YamlModule, NatsTransportModule, JetStreamModule, PostgresModule] = [
    yaml,
    transport,
    js,
    { default: postgres },
  ];
  const names = [
    namesOf<YamlModule>({
      LineCounter: true,
      parseDocument: true,
      visit: true,
      isAlias: true,
      isMap: true,
      isScalar: true,
      isSeq: true,
    }),
    namesOf<NatsTransportModule>({
      connect: true,
      credsAuthenticator: true,
      nkeyAuthenticator: true,
    }),
    namesOf<JetStreamModule>({ jetstream: true, jetstreamManager: true, JetStreamApiError: true }),
    namesOf<PostgresModule>({ default: true }),
  ];
  described.forEach((module, i) => {
    for (const name of names[i]!) {
      assert.equal(typeof (module as unknown as Record<string, unknown>)[name], "function", name);
    }
  });
});

Deno.test("the policy names the nats plugins write are the jetstream package's enum values", () => {
  assert.equal(js.AckPolicy.Explicit, "explicit");
  assert.equal(js.DeliverPolicy.All, "all");
  assert.deepEqual(
    [js.RetentionPolicy.Limits, js.RetentionPolicy.Workqueue, js.RetentionPolicy.Interest],
    ["limits", "workqueue", "interest"],
  );
});
