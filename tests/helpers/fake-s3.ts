/**
 * A small S3-compatible store of our own on 127.0.0.1, for the upload and merge tests. It takes
 * PUT /bucket/key (path style, as a client with an endpoint sends) and the multipart upload a
 * client uses for a large file (POST ?uploads, PUT ?partNumber&uploadId, POST ?uploadId); it
 * answers GET and HEAD of an object (404 NoSuchKey when absent) and ListObjectsV2 (GET
 * /bucket?list-type=2 with prefix, delimiter, max-keys and continuation-token), keeps what was
 * stored, and refuses a request without an AWS Signature V4 Authorization header for the expected
 * access key, or to a key under a denied prefix. A refusal echoes the request's headers (the session
 * token among them) and `echo`, as a careless gateway would, so the tests can check that the client
 * never shows them.
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
  /** Requests refused (no or wrong Authorization header, or a denied key). */
  refused: string[];
  /** Keys ("bucket/key") that were read (GET). */
  reads: string[];
  /** "bucket/prefix": every request for a key under it is refused with AccessDenied. */
  denied: string[];
  /** Text put into every refusal's message (a secret a gateway echoes). */
  echo: string;
  stop(): void;
}

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function startFakeS3(accessKeyId: string): FakeS3 {
  const objects: StoredObject[] = [];
  const refused: string[] = [];
  const reads: string[] = [];
  const store: FakeS3 = { url: "", objects, refused, reads, denied: [], echo: "", stop: () => {} };
  const uploads = new Map<string, Map<number, Uint8Array>>();
  const xml = (body: string, status = 200) => new Response(`<?xml version="1.0" encoding="UTF-8"?>${body}`, { status, headers: { "content-type": "application/xml" } });
  const latest = (bucket: string, key: string) => objects.findLast((object) => object.bucket === bucket && object.key === key);
  const refuse = (request: Request, path: string, why: string) => {
    refused.push(`${request.method} ${path}`);
    const headers = [...request.headers].map(([name, value]) => `${name}=${value}`).join("; ");
    const token = request.headers.get("x-amz-security-token");
    return xml(`<Error><Code>AccessDenied</Code><Message>${escapeXml(`${why}${store.echo ? ` ${store.echo}` : ""}${token ? ` token=${token}` : ""} (${headers})`)}</Message></Error>`, 403);
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const authorization = request.headers.get("authorization") ?? "";
      const [, bucket = "", ...rest] = decodeURIComponent(url.pathname).split("/");
      const key = rest.join("/");
      if (!authorization.startsWith(`AWS4-HMAC-SHA256 Credential=${accessKeyId}/`) || !authorization.includes("Signature=")) {
        return refuse(request, url.pathname, "no SigV4 signature of the expected key");
      }
      const listPrefix = url.searchParams.get("prefix") ?? "";
      const target = `${bucket}/${key || listPrefix}`;
      if (store.denied.some((prefix) => target.startsWith(prefix))) return refuse(request, url.pathname, "denied by the bucket policy");
      if (request.method === "GET" && key === "" && url.searchParams.get("list-type") === "2") return list(bucket, url.searchParams);
      if (request.method === "GET" || request.method === "HEAD") {
        const object = latest(bucket, key);
        if (!object) return xml(`<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${escapeXml(key)}</Key></Error>`, 404);
        if (request.method === "GET") reads.push(`${bucket}/${key}`);
        return new Response(request.method === "GET" ? object.body : null, { headers: { "content-length": String(object.body.length), etag: `"${Bun.hash(object.body).toString(16)}"` } });
      }
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
        objects.push({ bucket, key, body: whole, authorization });
        return xml(`<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>"whole"</ETag></CompleteMultipartUploadResult>`);
      }
      if (request.method !== "PUT") return new Response("not handled here", { status: 501 });
      objects.push({ bucket, key, body, authorization });
      return new Response(null, { status: 200, headers: { etag: `"${Bun.hash(body).toString(16)}"` } });
    },
  });

  /** ListObjectsV2: the keys under the prefix in order, rolled up at the delimiter, a page of max-keys at a time. */
  function list(bucket: string, params: URLSearchParams): Response {
    const prefix = params.get("prefix") ?? "";
    const delimiter = params.get("delimiter") ?? "";
    const maxKeys = Number(params.get("max-keys") ?? 1000);
    const after = params.get("continuation-token") ?? params.get("start-after") ?? "";
    const keys = [...new Set(objects.filter((object) => object.bucket === bucket && object.key.startsWith(prefix)).map((object) => object.key))].sort();
    const entries: { kind: "key" | "prefix"; name: string }[] = [];
    for (const key of keys) {
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      const entry = cut === -1 ? { kind: "key" as const, name: key } : { kind: "prefix" as const, name: key.slice(0, cut + delimiter.length) };
      if (entries.at(-1)?.name !== entry.name) entries.push(entry);
    }
    const rest = entries.filter((entry) => entry.name > after);
    const page = rest.slice(0, maxKeys);
    const truncated = rest.length > page.length;
    const contents = page.filter((entry) => entry.kind === "key").map((entry) => `<Contents><Key>${escapeXml(entry.name)}</Key><Size>${latest(bucket, entry.name)!.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
    const common = page.filter((entry) => entry.kind === "prefix").map((entry) => `<CommonPrefixes><Prefix>${escapeXml(entry.name)}</Prefix></CommonPrefixes>`);
    return xml(
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${escapeXml(prefix)}</Prefix>${delimiter ? `<Delimiter>${escapeXml(delimiter)}</Delimiter>` : ""}<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
        `${truncated ? `<NextContinuationToken>${escapeXml(page.at(-1)!.name)}</NextContinuationToken>` : ""}${contents.join("")}${common.join("")}</ListBucketResult>`,
    );
  }

  store.url = `http://127.0.0.1:${server.port}`;
  store.stop = () => server.stop(true);
  return store;
}
