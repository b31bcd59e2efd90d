import assert from "node:assert/strict";
import { JsonFieldsRecord } from "../../src/core/json_fields_record.ts";
import { estimateRecordBytes } from "../../src/pipeline/record_bytes.ts";

// A JsonFieldsRecord's fields must behave as a plain object under every operation a
// processor, sink or user plugin may use, and the kept text must be given out only while
// nothing can have changed the fields.

const make = () => new JsonFieldsRecord(1, 20, "app", "hi", '"id":1,"user":"ada","tags":["a"]');
const FIELDS = { id: 1, user: "ada", tags: ["a"] };

Deno.test("JsonFieldsRecord: every way of reading the fields sees them", () => {
  const reads: ((r: JsonFieldsRecord) => unknown)[] = [
    (r) => r.fields.id,
    (r) => "user" in r.fields,
    (r) => Object.keys(r.fields),
    (r) => JSON.stringify(r.fields),
    (r) => ({ ...r.fields }),
    (r) => Object.entries(r.fields),
    (r) => {
      const keys: string[] = [];
      for (const key in r.fields) keys.push(key);
      return keys;
    },
  ];
  const expected = [
    1,
    true,
    ["id", "user", "tags"],
    JSON.stringify(FIELDS),
    FIELDS,
    Object.entries(FIELDS),
    ["id", "user", "tags"],
  ];
  reads.forEach((read, i) => {
    const record = make();
    assert.deepEqual(read(record), expected[i], `read ${i}`);
    assert.equal(JsonFieldsRecord.fieldsJson(record), undefined, `read ${i} left the text`);
    assert.deepEqual({ ...record.fields }, FIELDS);
  });
});

Deno.test("JsonFieldsRecord: a spread, JSON and structured clone of the record carry the fields", () => {
  assert.deepEqual({ ...make() }, {
    time: 1,
    level: 20,
    logger: "app",
    message: "hi",
    fields: FIELDS,
  });
  assert.deepEqual(JSON.parse(JSON.stringify(make())).fields, FIELDS);
  // Structured clone refuses a Proxy: it works once the fields were touched (documented).
  const cloned = make();
  assert.throws(() => structuredClone(cloned), DOMException);
  assert.equal(cloned.fields.id, 1);
  assert.deepEqual(structuredClone(cloned).fields, FIELDS);
  // A copy made before anything read the fields shares them and its text is not kept.
  const record = make();
  const copy = { ...record, message: "changed" };
  assert.equal(JsonFieldsRecord.fieldsJson(copy), undefined);
  assert.deepEqual(copy.fields, FIELDS);
});

Deno.test("JsonFieldsRecord: changes are kept and drop the text", () => {
  const set = make();
  set.fields.extra = true;
  assert.equal(JsonFieldsRecord.fieldsJson(set), undefined);
  assert.deepEqual(set.fields, { ...FIELDS, extra: true });

  const removed = make();
  delete removed.fields.user;
  assert.deepEqual(Object.keys(removed.fields), ["id", "tags"]);

  const replaced = make();
  replaced.fields = { other: 2 };
  assert.equal(JsonFieldsRecord.fieldsJson(replaced), undefined);
  assert.deepEqual(replaced.fields, { other: 2 });

  const frozen = make();
  Object.freeze(frozen.fields);
  assert.ok(Object.isFrozen(frozen.fields));
  assert.equal(frozen.fields.id, 1);

  const defined = make();
  Object.defineProperty(defined.fields, "fixed", { value: 3, enumerable: true });
  assert.equal(defined.fields.fixed, 3);
  assert.equal(defined.fields.id, 1);
});

Deno.test("JsonFieldsRecord: the sink queue charges the kept text without parsing it", () => {
  const record = make();
  const size = estimateRecordBytes(record);
  assert.ok(size >= '"id":1,"user":"ada","tags":["a"]'.length);
  assert.notEqual(JsonFieldsRecord.fieldsJson(record), undefined);
  const empty = new JsonFieldsRecord(1, 20, "", "", "");
  assert.deepEqual({ ...empty.fields }, {});
});

Deno.test("JsonFieldsRecord.settle: the fields become a plain object, other records pass as they are", () => {
  const record = make();
  const proxy = record.fields;
  assert.equal(JsonFieldsRecord.settle(record), record);
  assert.notEqual(record.fields, proxy);
  assert.deepEqual(record.fields, FIELDS);
  assert.equal(JsonFieldsRecord.fieldsJson(record), undefined);
  assert.deepEqual(structuredClone(record).fields, FIELDS);
  // The Proxy others may hold sees the same object.
  assert.equal(proxy.user, "ada");
  const other = { time: 0, level: 20, logger: "", message: "", fields: {} };
  assert.equal(JsonFieldsRecord.settle(other), other);
});

Deno.test("JsonFieldsRecord: shown with its fields, and readable once frozen", () => {
  const record = new JsonFieldsRecord(0, 20, "app", "hi", '"id":1,"user":"ada"');
  assert.match(Deno.inspect(record), /fields: \{ id: 1, user: "ada" \}/);
  const frozen = Object.freeze(new JsonFieldsRecord(0, 20, "app", "hi", '"id":2'));
  assert.equal(frozen.fields.id, 2);
  assert.deepEqual({ ...frozen.fields }, { id: 2 });
});
