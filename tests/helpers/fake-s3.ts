/**
 * A small S3-compatible store of our own on 127.0.0.1, for the upload test: it takes PUT
 * /bucket/key (path style, as a client with an endpoint sends) and the multipart upload a client
 * uses for a large file (POST ?uploads, PUT ?partNumber&uploadId, POST ?uploadId), keeps what was
 * stored, and refuses a request without an AWS Signature V4 Authorization header for the expected
 * access key.
 */

export interface StoredObject {
  bucket: string;
  key: string;
  body: Uint8Array;
  authorization: string;
}

export interface FakeS3 {
  url: string;
  objects: StoredObject[];
  /** Requests refused (no or wrong Authorization header). */
  refused: string[];
  stop(): void;
}

export function startFakeS3(accessKeyId: string): FakeS3 {
  const objects: StoredObject[] = [];
  const refused: string[] = [];
  const uploads = new Map<string, Map<number, Uint8Array>>();
  const xml = (body: string) => new Response(`<?xml version="1.0" encoding="UTF-8"?>${body}`, { headers: { "content-type": "application/xml" } });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const authorization = request.headers.get("authorization") ?? "";
      if (!authorization.startsWith(`AWS4-HMAC-SHA256 Credential=${accessKeyId}/`) || !authorization.includes("Signature=")) {
        refused.push(`${request.method} ${url.pathname}`);
        return new Response(`<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>no SigV4 signature</Message></Error>`, { status: 403, headers: { "content-type": "application/xml" } });
      }
      const [, bucket, ...rest] = decodeURIComponent(url.pathname).split("/");
      const key = rest.join("/");
      const body = new Uint8Array(await request.arrayBuffer());
      const uploadId = url.searchParams.get("uploadId");
      if (request.method === "POST" && url.searchParams.has("uploads")) {
        const id = `upload-${uploads.size + 1}`;
        uploads.set(id, new Map());
        return xml(`<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
      }
      if (request.method === "PUT" && uploadId !== null) {
        uploads.get(uploadId)?.set(Number(url.searchParams.get("partNumber")), body);
        return new Response(null, { status: 200, headers: { etag: `"part-${url.searchParams.get("partNumber")}"` } });
      }
      if (request.method === "POST" && uploadId !== null) {
        const parts = [...(uploads.get(uploadId) ?? new Map<number, Uint8Array>())].sort((a, b) => a[0] - b[0]).map(([, part]) => part);
        const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
        let at = 0;
        for (const part of parts) {
          whole.set(part, at);
          at += part.length;
        }
        objects.push({ bucket: bucket!, key, body: whole, authorization });
        return xml(`<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>"whole"</ETag></CompleteMultipartUploadResult>`);
      }
      if (request.method !== "PUT") return new Response("not handled here", { status: 501 });
      objects.push({ bucket: bucket!, key, body, authorization });
      return new Response(null, { status: 200, headers: { etag: `"${Bun.hash(body).toString(16)}"` } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, objects, refused, stop: () => server.stop(true) };
}
