/**
 * The one redaction step at llmbench's output boundary. A server, proxy or gateway may echo the
 * request's Authorization header (or a launch secret) in an error body; every text that reaches a
 * record, summary, history entry, log line or the console passes through `scrub`, which replaces
 * each registered secret, in every form a server is likely to echo it, with `<redacted>`.
 *
 * Secrets are registered where they are read (the API key from its environment variable, the
 * launch config's secret env values and arguments), never stored anywhere else.
 */

export const SCRUBBED = "<redacted>";

/**
 * Length of a secret's head that marks an occurrence cut short (error bodies are kept to their
 * first 300 characters): the match then extends as far as the text follows the secret, and the
 * visible part goes too. Long enough that a key's constant prefix ("sk-proj-", a tool's name)
 * found in ordinary text is not taken for it; a cut within the first characters leaves at most
 * that prefix.
 */
const HEAD = 12;
/** Shorter values are too likely to occur by chance in other text to be scrubbed as bare strings. */
const MIN_BARE = 4;

export class Scrubber {
  /** Every form of every secret, longest first (so a form containing another is replaced whole). */
  private forms: string[] = [];
  /** Short secrets: scrubbed only after "Bearer " / "Basic ". */
  private shortForms: string[] = [];

  add(secret: string | null | undefined): void {
    if (!secret) return;
    const trimmed = secret.trim();
    if (trimmed === "") return;
    const target = trimmed.length >= MIN_BARE ? this.forms : this.shortForms;
    for (const form of formsOf(trimmed)) if (!target.includes(form)) target.push(form);
    target.sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.forms.length + this.shortForms.length;
  }

  /** The text with every (possibly cut-short) occurrence of a secret replaced. */
  scrub(text: string): string {
    if (this.size === 0 || text === "") return text;
    let result = text;
    // Whole occurrences first (of every form), then what is left of an echo cut short.
    for (const form of this.forms) result = result.replaceAll(form, SCRUBBED);
    for (const form of this.forms) result = replaceCutShort(result, form);
    for (const form of this.shortForms) {
      result = result.replace(new RegExp(`((?:Bearer|Basic|Token)\\s+)${escapeRegExp(form)}(?![\\w-])`, "gi"), `$1${SCRUBBED}`);
    }
    return result;
  }

  /** A JSON-able value with every string in it (keys included) scrubbed. */
  scrubValue<T>(value: T): T {
    if (this.size === 0) return value;
    return scrubDeep(value, this) as T;
  }
}

/** The bare value, and as it reads URL-encoded, JSON-escaped and base64-encoded (Basic auth, some gateways). */
function formsOf(secret: string): string[] {
  const forms = new Set<string>([secret]);
  forms.add(encodeURIComponent(secret));
  forms.add(JSON.stringify(secret).slice(1, -1));
  forms.add(JSON.stringify(JSON.stringify(secret).slice(1, -1)).slice(1, -1)); // escaped twice: an echo inside a JSON string inside JSON
  if (secret.length >= MIN_BARE) forms.add(Buffer.from(secret).toString("base64").replace(/=+$/, ""));
  return [...forms];
}

/** The secret's head, extended as far as the text follows it, where the text then stops following it at a cut (not inside a longer word). */
function replaceCutShort(text: string, form: string): string {
  if (form.length <= HEAD) return text;
  const head = form.slice(0, HEAD);
  let at = text.indexOf(head);
  if (at === -1) return text;
  let out = "";
  let from = 0;
  while (at !== -1) {
    let end = at + head.length;
    while (end - at < form.length && end < text.length && text[end] === form[end - at]) end++;
    if (end === text.length || !/[A-Za-z0-9_-]/.test(text[end]!)) {
      out += text.slice(from, at) + SCRUBBED;
      from = end;
    }
    at = text.indexOf(head, Math.max(end, at + 1));
  }
  return out + text.slice(from);
}

function scrubDeep(value: unknown, scrubber: Scrubber): unknown {
  if (typeof value === "string") return scrubber.scrub(value);
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, scrubber));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [scrubber.scrub(key), scrubDeep(item, scrubber)]));
  }
  return value;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The process's scrubber: every output boundary uses this one. */
export const secrets = new Scrubber();

export function registerSecret(secret: string | null | undefined): void {
  secrets.add(secret);
}

export function scrub(text: string): string {
  return secrets.scrub(text);
}

let consoleGuarded = false;

/**
 * Routes console.log/info/warn/error and direct writes to stdout/stderr through `scrub`, so that no
 * printer anywhere (error messages, probe output, summaries, log tails) can show a secret.
 */
export function guardConsole(): void {
  if (consoleGuarded) return;
  consoleGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (secrets.size > 0) {
        if (typeof chunk === "string") chunk = scrub(chunk);
        else if (chunk instanceof Uint8Array) chunk = scrub(Buffer.from(chunk).toString("utf8"));
      }
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
  for (const method of ["log", "info", "warn", "error"] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      if (secrets.size === 0) return original(...args);
      original(...args.map((arg) => (typeof arg === "string" ? scrub(arg) : typeof arg === "object" && arg !== null ? scrub(Bun.inspect(arg)) : arg)));
    };
  }
}
