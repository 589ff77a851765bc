import { UsageError } from "../common/usage-error.ts";

/**
 * Reading the fields of a config object, collecting every problem (the field's path, what was
 * expected, what was there) instead of stopping at the first, so one run of llmbench lists them all.
 */

export type Fields = Record<string, unknown>;

export class FieldProblems {
  readonly list: string[] = [];

  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }

  expected(path: string, expected: string, got: unknown): void {
    this.add(path, `expected ${expected}, got ${describeValue(got)}`);
  }
}

export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "function") return "a function";
  if (typeof value === "string") return JSON.stringify(value);
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return String(value);
  }
}

export function isPlainObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reports fields the type does not have, with the nearest known name when there is an obvious one. */
export function checkKnownFields(problems: FieldProblems, path: string, object: Fields, known: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const near = nearestName(key, known);
    problems.add(join(path, key), `unknown field${near ? ` (did you mean ${near}?)` : ""}; known fields: ${known.join(", ")}`);
  }
}

/** The known name a mistyped one most likely meant: one is a prefix of the other, or a few edits apart; null when none is obvious. */
export function nearestName(typed: string, known: readonly string[]): string | null {
  const key = typed.toLowerCase();
  const completed = known.find((name) => name.toLowerCase().startsWith(key));
  if (completed !== undefined) return completed;
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(key.length / 4)) + 1;
  for (const name of known) {
    const distance = editDistance(key, name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best ?? known.find((name) => key.startsWith(name.toLowerCase())) ?? null;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

export function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** Each reader returns the value when it is valid, `fallback` when absent, and undefined (with a problem noted) when wrong. */
export class FieldReader {
  constructor(
    readonly problems: FieldProblems,
    readonly object: Fields,
    readonly path: string,
  ) {}

  at(key: string): string {
    return join(this.path, key);
  }

  has(key: string): boolean {
    return this.object[key] !== undefined;
  }

  section(key: string, required: boolean): FieldReader | undefined {
    const value = this.object[key];
    if (value === undefined) {
      if (required) this.problems.add(this.at(key), "is required (an object)");
      return undefined;
    }
    if (!isPlainObject(value)) {
      this.problems.expected(this.at(key), "an object", value);
      return undefined;
    }
    return new FieldReader(this.problems, value, this.at(key));
  }

  text(key: string): string | undefined;
  text(key: string, fallback: string): string;
  text(key: string, fallback?: string): string | undefined {
    const value = this.object[key];
    if (value === undefined) {
      if (fallback === undefined) this.problems.add(this.at(key), "is required (a string)");
      return fallback;
    }
    if (typeof value !== "string" || (fallback === undefined && value.trim() === "")) {
      this.problems.expected(this.at(key), "a non-empty string", value);
      return undefined;
    }
    return value;
  }

  optionalText(key: string): string | null | undefined {
    const value = this.object[key];
    if (value === undefined) return null;
    if (typeof value !== "string" || value.trim() === "") {
      this.problems.expected(this.at(key), "a non-empty string", value);
      return undefined;
    }
    return value;
  }

  number(key: string, rule: NumberRule, fallback: number | null): number | null | undefined {
    const value = this.object[key];
    if (value === undefined) return fallback;
    return checkNumber(this.problems, this.at(key), value, rule);
  }

  boolean(key: string, fallback: boolean): boolean | undefined {
    const value = this.object[key];
    if (value === undefined) return fallback;
    if (typeof value !== "boolean") {
      this.problems.expected(this.at(key), "true or false", value);
      return undefined;
    }
    return value;
  }

  numberList(key: string, rule: NumberRule): number[] | undefined {
    const value = this.object[key];
    if (!Array.isArray(value) || value.length === 0) {
      this.problems.expected(this.at(key), `a non-empty list of ${RULE_TEXT[rule]}s`, value);
      return undefined;
    }
    const numbers = value.map((item, index) => checkNumber(this.problems, join(this.at(key), index), item, rule));
    return numbers.every((n) => n !== undefined) ? (numbers as number[]) : undefined;
  }

  stringRecord(key: string): Record<string, string> | undefined {
    const value = this.object[key];
    if (value === undefined) return {};
    if (!isPlainObject(value)) {
      this.problems.expected(this.at(key), "an object of strings", value);
      return undefined;
    }
    let valid = true;
    for (const [name, item] of Object.entries(value)) {
      if (typeof item !== "string") {
        this.problems.expected(join(this.at(key), name), "a string", item);
        valid = false;
      }
    }
    return valid ? (value as Record<string, string>) : undefined;
  }

  known(names: readonly string[]): void {
    checkKnownFields(this.problems, this.path, this.object, names);
  }
}

export type NumberRule = "positive integer" | "non-negative integer" | "positive number" | "non-negative number";

const RULE_TEXT: Record<NumberRule, string> = {
  "positive integer": "positive integer",
  "non-negative integer": "non-negative integer",
  "positive number": "number > 0",
  "non-negative number": "number ≥ 0",
};

export function checkNumber(problems: FieldProblems, path: string, value: unknown, rule: NumberRule): number | undefined {
  const valid =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (rule.includes("integer") ? Number.isInteger(value) : true) &&
    (rule.startsWith("positive") ? value > 0 : value >= 0);
  if (!valid) {
    problems.expected(path, `a ${RULE_TEXT[rule]}`, value);
    return undefined;
  }
  return value as number;
}

/** A knob read by the flags' own parser: its UsageError (which names the field) becomes one of the config's problems. */
export function knob<T>(problems: FieldProblems, read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    problems.list.push(error.message);
    return undefined;
  }
}
