import assert from "node:assert/strict";
import { BadRequest, parseHead } from "../../src/server/http1_request_head.ts";

const conn = { localAddr: { transport: "tcp", hostname: "127.0.0.1", port: 9600 } } as Deno.Conn;

Deno.test("parseHead: the fields in order for the Request, and those the server reads combined as Headers.get combines them", () => {
  const head = parseHead(
    [
      "POST /ingest?x=1 HTTP/1.1",
      "Host: example.test:9600",
      "Content-Type:  application/x-ndjson \t",
      "Connection: keep-alive",
      "connection: Close",
      "X-Empty:",
      "Content-Length: 12",
    ].join("\r\n"),
    conn,
  );
  assert.equal(head.url, "http://example.test:9600/ingest?x=1");
  assert.deepEqual(head.headers, [
    ["Host", "example.test:9600"],
    ["Content-Type", "application/x-ndjson"],
    ["Connection", "keep-alive"],
    ["connection", "Close"],
    ["X-Empty", ""],
    ["Content-Length", "12"],
  ]);
  // "keep-alive, Close": the close wins, as it did with a Headers object.
  assert.equal(head.keepAlive, false);
  assert.equal(head.length, 12);
  const request = new Request(head.url, { method: head.method, headers: head.headers });
  assert.equal(request.headers.get("connection"), "keep-alive, Close");
  assert.equal(request.headers.get("x-empty"), "");
});

Deno.test("parseHead: a malformed header name or value is a 400 bad_header", () => {
  for (const field of ["Bad Name: x", ": x", "X-Nul: a\0b", "X-Lf: a\nb", "X-Cr: a\rb"]) {
    assert.throws(
      () => parseHead(`GET / HTTP/1.1\r\nHost: a\r\n${field}`, conn),
      (error: unknown) =>
        error instanceof BadRequest && error.status === 400 && error.reason === "bad_header",
      JSON.stringify(field),
    );
  }
});

Deno.test("parseHead: no usable Host takes the connection's own address", () => {
  const head = parseHead("GET /health HTTP/1.0\r\nHost: bad host", conn);
  assert.equal(head.url, "http://127.0.0.1:9600/health");
  assert.equal(head.keepAlive, false);
});
