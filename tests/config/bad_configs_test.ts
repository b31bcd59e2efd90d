// Every invalid config under tests/fixtures/bad_configs/ fails with exactly the message in its
// sibling `.expected` file: every problem, one a line, `file:line:col: key.path: message (hint)`.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ConfigError, parseConfigText } from "../../mod.ts";

const DIR = fileURLToPath(new URL("../fixtures/bad_configs/", import.meta.url));
const MIN_FIXTURES = 25;
// Fixtures see only these variables, whatever the environment of the test run.
const ENV = { HOSTNAME_TAG: "web-1" };

const names = [...Deno.readDirSync(DIR)]
  .filter((entry) => entry.isFile && entry.name.endsWith(".yaml"))
  .map((entry) => entry.name)
  .sort();

Deno.test(`bad_configs: at least ${MIN_FIXTURES} fixtures, each a numbered YAML with its .expected`, () => {
  assert.ok(
    names.length >= MIN_FIXTURES,
    `only ${names.length} fixtures in ${DIR}; at least ${MIN_FIXTURES} are required`,
  );
  const files = new Set([...Deno.readDirSync(DIR)].map((entry) => entry.name));
  for (const name of names) {
    assert.match(name, /^\d\d_[a-z0-9_]+\.yaml$/, `fixture name ${name}`);
    assert.ok(files.has(name.replace(/\.yaml$/, ".expected")), `${name} has no .expected file`);
  }
  for (const name of files) {
    if (name.endsWith(".expected")) {
      assert.ok(files.has(name.replace(/\.expected$/, ".yaml")), `${name} has no .yaml file`);
    }
  }
});

for (const name of names) {
  Deno.test(`bad_configs: ${name} fails with its exact message`, async () => {
    const text = await Deno.readTextFile(DIR + name);
    const expected = (await Deno.readTextFile(DIR + name.replace(/\.yaml$/, ".expected")))
      .replace(/\n$/, "");
    const error = await parseConfigText(text, name, { env: ENV, baseDir: DIR }).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(error instanceof ConfigError, `${name} was accepted, or failed with ${error}`);
    assert.equal(error.message, expected);
    // One problem per line, each positioned in this file, and never a stack trace.
    assert.equal(error.problems.length, expected.split("\n").length);
    for (const problem of error.problems) {
      assert.equal(problem.file, name);
      assert.ok(problem.line !== undefined && problem.col !== undefined, problem.message);
    }
    assert.doesNotMatch(error.message, /^\s+at /m);
  });
}
