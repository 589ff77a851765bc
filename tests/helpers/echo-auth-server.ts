/**
 * A gateway that echoes secrets, for the scrubber's sweep test: /health answers 200; every other
 * request gets a 401 whose body quotes the request's Authorization header and the HF_TOKEN of
 * its own environment (as a misconfigured proxy might). Usage: bun echo-auth-server.ts PORT
 */
Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.argv[2]),
  fetch(request) {
    if (new URL(request.url).pathname === "/health") return new Response("ok");
    const auth = request.headers.get("authorization") ?? "";
    return Response.json({ error: "unauthorized", you_sent: auth, upstream_token: process.env.HF_TOKEN ?? "" }, { status: 401 });
  },
});
console.log("echo server listening"); // never the secrets: the server's own log is not llmbench's to scrub
