import type { MeasuredEvents } from "../metrics/request-latency.ts";
import type { MeasuredRecord } from "./record.ts";

const EVENTS_MARK = "\u0000events\u0000";
/** With its key and raw quotes, which a JSON string value cannot hold unescaped: found only where the events are. */
const MARKED = `"events":${JSON.stringify(EVENTS_MARK)}`;
const EVENTS_KEY = `"events":`;

const OPEN = 0x5b;
const CLOSE = 0x5d;
const COMMA = 0x2c;
const DOT = 0x2e;
const ZERO = 0x30;
const NEWLINE = 0x0a;
/** The most bytes one event takes: `[` offset `,` tokens `],` with each number at most 24 characters (JSON's longest). */
const EVENT_BYTES = 2 * 24 + 4;

const encoder = new TextEncoder();
const identity = (text: string): string => text;

/**
 * A record's JSON line, encoded straight into one buffer kept for every line: exactly as
 * JSON.stringify writes a RequestRecord (the same keys in the same order, its events as
 * `[[offset, tokens], …]`, every number as JSON writes it), but its events' digits written byte
 * by byte, without a string per record. A point's last seconds finish thousands of requests at
 * once; a string (and its intermediates) per record was ~20 KB of garbage each, and at 10,000
 * streams the end of a point then held tens of MB more than the streaming itself.
 */
export class RecordLineEncoder {
  private bytes = Buffer.allocUnsafe(64 * 1024);
  private at = 0;

  /**
   * The line and its newline as UTF-8, a view of this encoder's buffer valid until its next call.
   * `clean` is applied to every part that is text (not to the events' numbers): secrets' scrubbing.
   */
  encodeLine(record: MeasuredRecord, tags?: Record<string, unknown>, clean: (text: string) => string = identity): Uint8Array {
    const json = JSON.stringify({ ...record, events: EVENTS_MARK, ...tags });
    const mark = json.indexOf(MARKED);
    const head = clean(json.slice(0, mark));
    const tail = clean(json.slice(mark + MARKED.length));
    const events = record.events.offsets.length;
    // UTF-8: at most 3 bytes per UTF-16 unit
    this.reserve(3 * (head.length + tail.length + EVENTS_KEY.length) + EVENT_BYTES * events + 3);
    this.at = 0;
    this.text(head);
    this.text(EVENTS_KEY);
    this.events(record.events);
    this.text(tail);
    this.bytes[this.at++] = NEWLINE;
    return this.bytes.subarray(0, this.at);
  }

  /** Any JSON text as a line (JsonlWriter's other lines), in the same buffer. */
  encodeJsonLine(json: string): Uint8Array {
    this.reserve(3 * json.length + 1);
    this.at = 0;
    this.text(json);
    this.bytes[this.at++] = NEWLINE;
    return this.bytes.subarray(0, this.at);
  }

  private reserve(size: number): void {
    if (size > this.bytes.length) this.bytes = Buffer.allocUnsafe(Math.max(size, 2 * this.bytes.length));
  }

  private text(text: string): void {
    this.at += encoder.encodeInto(text, this.bytes.subarray(this.at)).written;
  }

  private events({ offsets, tokens }: MeasuredEvents): void {
    const bytes = this.bytes;
    bytes[this.at++] = OPEN;
    for (let i = 0; i < offsets.length; i++) {
      if (i > 0) bytes[this.at++] = COMMA;
      bytes[this.at++] = OPEN;
      this.number(offsets[i]!);
      bytes[this.at++] = COMMA;
      if (tokens === null) bytes[this.at++] = ZERO + 1;
      else this.number(tokens[i]!);
      bytes[this.at++] = CLOSE;
    }
    bytes[this.at++] = CLOSE;
  }

  /**
   * A number as JSON.stringify writes it. Written digit by digit when it is a whole number of
   * nanoseconds (nanos(ms) === ms, as measureRequest keeps every offset) below 10^9 ms: such a
   * number's shortest round-trip form is its decimal with at most six places, since a double
   * there is finer than 10^-6 (distinct six-place decimals are distinct doubles). Anything else
   * goes through JSON.stringify.
   */
  private number(value: number): void {
    const scaled = Math.round(value * 1e6);
    if (!(value >= 0 && value < 1e9) || scaled / 1e6 !== value) {
      this.text(JSON.stringify(value));
      return;
    }
    const whole = Math.floor(scaled / 1e6);
    let fraction = scaled - whole * 1e6;
    this.digits(whole);
    if (fraction === 0) return;
    const bytes = this.bytes;
    bytes[this.at++] = DOT;
    let places = 6;
    while (fraction % 10 === 0) {
      fraction /= 10;
      places--;
    }
    for (let place = places - 1; place >= 0; place--) {
      bytes[this.at + place] = ZERO + (fraction % 10);
      fraction = Math.floor(fraction / 10);
    }
    this.at += places;
  }

  /** A whole number below 10^9, in decimal. */
  private digits(whole: number): void {
    let length = 1;
    for (let bound = 10; bound <= whole; bound *= 10) length++;
    const bytes = this.bytes;
    for (let place = length - 1; place >= 0; place--) {
      bytes[this.at + place] = ZERO + (whole % 10);
      whole = Math.floor(whole / 10);
    }
    this.at += length;
  }
}

/** ms rounded to the nanosecond: far finer than any clock a client or server reads, and written without a string per number (RecordLineEncoder). */
export function nanos(ms: number): number {
  return Math.round(ms * 1e6) / 1e6;
}

const decoder = new TextDecoder();

/** The record's JSON line (without the newline), as a string: RecordLineEncoder's bytes. */
export function recordJson(record: MeasuredRecord, tags?: Record<string, unknown>): string {
  const line = new RecordLineEncoder().encodeLine(record, tags);
  return decoder.decode(line.subarray(0, line.length - 1));
}
