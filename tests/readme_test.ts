import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadBuiltins, parseConfigText } from "../mod.ts";

const README = fileURLToPath(new URL("../README.md", import.meta.url));
const text = await Deno.readTextFile(README);

/** Every fenced ```yaml block with the line it starts on. */
function yamlBlocks(markdown: string): { line: number; body: string }[] {
  const blocks: { line: number; body: string }[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ya?ml\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== "```") end++;
    blocks.push({ line: start + 1, body: lines.slice(start, end).join("\n") + "\n" });
    i = end;
  }
  return blocks;
}

const blocks = yamlBlocks(text);
const builtins = await loadBuiltins();
const env = {
  SLUICE_TOKEN: "readme-token-0123456",
  SLUICE_LOG_KEYS: "readme-keys",
  NATS_TOKEN: "readme-nats",
  DATABASE_URL: "postgres://sluice:pw@127.0.0.1:5432/logs",
};

Deno.test("README has YAML examples", () => {
  assert.ok(blocks.length >= 10, `found ${blocks.length} yaml blocks`);
});

for (const block of blocks) {
  Deno.test(`README yaml example at line ${block.line} loads through the config loader`, async () => {
    // Validated as if it were a file next to README.md; nothing is opened or started.
    const loaded = await parseConfigText(block.body, `${README}:${block.line}`, { env });
    const { config } = loaded;
    const components = Object.keys(config.sources).length +
      Object.keys(config.processors).length + Object.keys(config.sinks).length;
    assert.ok(components > 0, "the example declares components");
  });
}

const HEADINGS = {
  source: "Sources",
  processor: "Processors",
  formatter: "Formatters",
  sink: "Sinks",
} as const;

/** `kind type` of every component and formatter the examples use. */
async function usedPlugins(): Promise<Set<string>> {
  const used = new Set<string>();
  const walkFormats = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walkFormats);
    else if (value !== null && typeof value === "object") {
      const spec = value as { type?: unknown; options?: unknown };
      if (typeof spec.type === "string" && spec.options && typeof spec.options === "object") {
        used.add(`formatter ${spec.type}`);
      }
      Object.values(value).forEach(walkFormats);
    }
  };
  for (const block of blocks) {
    const { config } = await parseConfigText(block.body, README, { env });
    for (const section of [config.sources, config.processors, config.sinks]) {
      for (const component of Object.values(section)) {
        used.add(`${component.definition.kind} ${component.type}`);
        walkFormats(component.options);
      }
    }
  }
  return used;
}

Deno.test("every built-in plugin has a row in the README's plugin table and a YAML example", async () => {
  const plugins = text.slice(text.indexOf("\n## Plugins"), text.indexOf("\n## Results"));
  assert.ok(plugins.length > 100, "the README has a Plugins section before Results");
  const used = await usedPlugins();
  const missing: string[] = [];
  for (const plugin of builtins) {
    const start = plugins.indexOf(`\n### ${HEADINGS[plugin.kind]}\n`);
    const end = plugins.indexOf("\n### ", start + 1);
    const table = plugins.slice(start, end < 0 ? undefined : end);
    const row = new RegExp(`^\\| \`${plugin.type}\` +\\|`, "m");
    if (start < 0 || !row.test(table)) missing.push(`${plugin.kind} ${plugin.type}: no table row`);
    if (!used.has(`${plugin.kind} ${plugin.type}`)) {
      missing.push(`${plugin.kind} ${plugin.type}: no yaml example`);
    }
  }
  assert.deepEqual(missing, [], "add a table row and a ```yaml example for each");
});
