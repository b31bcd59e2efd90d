/**
 * An OTLP/HTTP JSON logs receiver that parses like a real collector: every request body is
 * read as an `ExportLogsServiceRequest` against the official opentelemetry-proto definitions
 * (tests/fixtures/opentelemetry-proto, v1.9.0) by a conformance-tested protobuf JSON parser
 * that rejects unknown keys, out-of-range integers, ill-formed strings and a oneof set twice.
 * A request that does not parse is answered 400 and dropped whole, as the collector does.
 *
 * protobufjs reads the .proto files; @bufbuild/protobuf does the strict JSON parsing (from the
 * descriptors protobufjs builds). Both are test-only: deno.json maps them for tests/ alone
 * (`scopes`), so no user of the package resolves them.
 *
 * @module
 */

import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";
import {
  createFileRegistry,
  type DescMessage,
  fromBinary,
  fromJson,
  type JsonValue,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { fileURLToPath } from "node:url";

const PROTO_DIR = fileURLToPath(new URL("../fixtures/opentelemetry-proto/", import.meta.url));

interface FieldDescriptor {
  name: string;
  jsonName?: string;
  typeName?: string;
}
interface FileDescriptor {
  name: string;
  package: string;
  dependency: string[];
  messageType: { name: string; field: FieldDescriptor[] }[];
}

let request: DescMessage | undefined;

/** The `ExportLogsServiceRequest` message type, built once from the .proto files. */
export function exportLogsServiceRequest(): DescMessage {
  if (request) return request;
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string) => PROTO_DIR + target;
  root.loadSync("opentelemetry/proto/collector/logs/v1/logs_service.proto", { keepCase: true });
  root.resolveAll();
  const set = (root as unknown as { toDescriptor(syntax: string): { file: FileDescriptor[] } })
    .toDescriptor("proto3");
  // protobufjs writes type names relative to the file and no dependencies; the registry wants
  // fully qualified names, JSON names, and each file after the ones it uses.
  for (const file of set.file) {
    for (const message of file.messageType) {
      const type = root.lookupType(file.package + "." + message.name);
      for (const field of message.field) {
        field.jsonName = field.name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
        if (field.typeName) {
          const resolved = type.fields[field.name]!.resolvedType!;
          field.typeName = "." + resolved.fullName.replace(/^\./, "");
        }
      }
    }
  }
  const order = ["common_v1", "resource_v1", "proto_logs_v1", "collector_logs_v1"];
  const rank = (file: FileDescriptor) => order.findIndex((part) => file.name.includes(part));
  set.file.sort((a, b) => rank(a) - rank(b));
  set.file.forEach((file, i) => file.dependency = set.file.slice(0, i).map((f) => f.name));
  const bytes = (descriptor as unknown as {
    FileDescriptorSet: { encode(set: unknown): { finish(): Uint8Array } };
  }).FileDescriptorSet.encode(set).finish();
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
  request = registry.getMessage("opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest")!;
  return request;
}

/**
 * Parses an OTLP/HTTP JSON body strictly and returns it as the collector sees it (protobuf
 * JSON, ids as the hex the OTLP JSON encoding uses), or throws saying why it was refused.
 * OTLP JSON writes `traceId`/`spanId` as hex where protobuf JSON has base64; they are
 * converted first, and must be hex of the right length.
 */
export function parseExportLogsRequest(text: string): ExportLogsRequest {
  const schema = exportLogsServiceRequest();
  const json = JSON.parse(text) as JsonValue;
  for (const resource of asArray((json as Json)?.resourceLogs)) {
    for (const scope of asArray((resource as Json)?.scopeLogs)) {
      for (const log of asArray((scope as Json)?.logRecords)) {
        hexToBase64(log as Json, "traceId", 16);
        hexToBase64(log as Json, "spanId", 8);
      }
    }
  }
  const message = fromJson(schema, json);
  // Through the wire format and back: what a collector stores.
  const decoded = fromBinary(schema, toBinary(schema, message));
  const out = toJson(schema, decoded) as unknown as ExportLogsRequest;
  for (const resource of out.resourceLogs ?? []) {
    for (const scope of resource.scopeLogs ?? []) {
      for (const log of scope.logRecords ?? []) {
        if (log.traceId !== undefined) log.traceId = base64ToHex(log.traceId);
        if (log.spanId !== undefined) log.spanId = base64ToHex(log.spanId);
      }
    }
  }
  return out;
}

/** An OTLP `AnyValue` as protobuf JSON writes it back. */
export type AnyValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: { key: string; value?: AnyValue }[] };
  bytesValue?: string;
};

/** One parsed log record. */
export interface OtlpLogRecord {
  timeUnixNano?: string;
  observedTimeUnixNano?: string;
  severityNumber?: string;
  severityText?: string;
  body?: AnyValue;
  attributes?: { key: string; value?: AnyValue }[];
  flags?: number;
  traceId?: string;
  spanId?: string;
}

/** A parsed request. */
export interface ExportLogsRequest {
  resourceLogs?: {
    resource?: { attributes?: { key: string; value?: AnyValue }[] };
    scopeLogs?: { scope?: { name?: string }; logRecords?: OtlpLogRecord[] }[];
  }[];
}

/** Every log record of a parsed request, in order. */
export function logRecordsOf(request: ExportLogsRequest): OtlpLogRecord[] {
  return (request.resourceLogs ?? []).flatMap((r) =>
    (r.scopeLogs ?? []).flatMap((s) => s.logRecords ?? [])
  );
}

/** The attributes of a parsed record as a plain map of values. */
export function attributesOf(log: OtlpLogRecord): Record<string, AnyValue | undefined> {
  return Object.fromEntries((log.attributes ?? []).map((a) => [a.key, a.value]));
}

/** A running strict receiver on 127.0.0.1. */
export interface OtlpCollector extends AsyncDisposable {
  /** The `/v1/logs` URL. */
  url: string;
  /** Records accepted so far, in order. */
  accepted: OtlpLogRecord[];
  /** Why each refused request was refused. */
  refused: string[];
  /** Sets what a 200 answer's body says (default: `{}`). */
  answer: (body: (records: OtlpLogRecord[]) => unknown) => void;
}

/** Starts a strict OTLP/HTTP JSON receiver on an ephemeral port. */
export function startOtlpCollector(): OtlpCollector {
  const accepted: OtlpLogRecord[] = [];
  const refused: string[] = [];
  let reply: (records: OtlpLogRecord[]) => unknown = () => ({});
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const text = await req.text();
      let records: OtlpLogRecord[];
      try {
        records = logRecordsOf(parseExportLogsRequest(text));
      } catch (error) {
        refused.push((error as Error).message);
        return Response.json({ code: 3, message: (error as Error).message }, { status: 400 });
      }
      accepted.push(...records);
      return Response.json(reply(records));
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1/logs`,
    accepted,
    refused,
    answer: (body) => reply = body,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

type Json = Record<string, JsonValue> | undefined;

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function hexToBase64(log: Json, key: string, bytes: number): void {
  const value = log?.[key];
  if (value === undefined || !log) return;
  if (typeof value !== "string" || !new RegExp(`^([0-9a-fA-F]{${bytes * 2}})?$`).test(value)) {
    throw new Error(`invalid ${key}: ${JSON.stringify(value)}`);
  }
  const raw = new Uint8Array(value.length / 2);
  for (let i = 0; i < raw.length; i++) raw[i] = parseInt(value.slice(i * 2, i * 2 + 2), 16);
  log[key] = btoa(String.fromCharCode(...raw));
}

function base64ToHex(value: string): string {
  return [...atob(value)].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
}
