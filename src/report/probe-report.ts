import pc from "picocolors";
import type { ProbeResult, ProbeToken, RawEvent } from "../runner/probe.ts";
import type { ReadinessCheck } from "../runner/target.ts";

const ms = (value: number) => `${value.toFixed(1)} ms`;
const RAW_LIMIT = 600;

export function formatReadiness(check: ReadinessCheck): string {
  if (check.failure === null) return pc.dim(`  health check passed in ${ms(check.ms)}; sending the request`);
  return pc.yellow(`  health check failed after ${ms(check.ms)}: ${check.failure}; sending the request anyway`);
}

/**
 * One line per stream event as it arrives: time since send, tokens carried, the text; thinking is
 * marked `think` (dimmed), and an event carrying both shows both parts with their token counts.
 */
export function formatProbeEvent(event: ProbeToken, tokensSoFar: number): string {
  const time = `+${event.offsetMs.toFixed(1).padStart(8)} ms`;
  const count = event.tokens === 1 ? "1 token " : `${event.tokens} tokens`;
  const answerTokens = event.tokens - event.thinkingTokens;
  const thinking = event.thinkingTokens > 0 || event.thinkingText.length > 0;
  const answer = answerTokens > 0 || event.text.length > 0 || !thinking;
  const parts: string[] = [];
  if (thinking) parts.push(pc.dim(`think ${thinking && answer ? `(${event.thinkingTokens}) ` : ""}${JSON.stringify(event.thinkingText)}`));
  // the content only: a tool call's or refusal's token shows "" here (and in full in the raw events)
  if (answer) parts.push(`${thinking ? `answer (${answerTokens}) ` : ""}${JSON.stringify(event.text)}`);
  return `  ${time}  #${String(tokensSoFar).padEnd(4)} ${count.padEnd(9)} ${parts.join("  ")}`;
}

/** What a probe found: latencies, counts, finish reason, and the raw first and last events. */
export function formatProbeResult(result: ProbeResult, askedTokens: number): string {
  const { outcome, latency } = result;
  const lines: string[] = [];
  if (outcome.error !== null) lines.push(pc.red(`  failed: ${outcome.error}`));
  if (latency !== null) {
    const tpot = latency.tpot === null ? "— (one token)" : ms(latency.tpot);
    lines.push(pc.bold(`  TTFT ${ms(latency.ttft)}   TPOT ${tpot}   E2E ${ms(latency.e2e)}`));
  }
  const { thinking } = result;
  if (latency !== null && thinking.reasoningTokens > 0) {
    const answerAt = thinking.ttftContent === null ? "no answer token came" : ms(thinking.ttftContent);
    const served = outcome.serverReasoningTokens === null ? "counted from the stream" : `the server counted ${outcome.serverReasoningTokens}`;
    lines.push(`  thinking       ${thinking.reasoningTokens} tokens (${served}) in ${thinking.thinkingMs === null ? "—" : ms(thinking.thinkingMs)}`);
    lines.push(`  answer         ${thinking.answerTokens} tokens, the first at ${answerAt} (TTFT answer)`);
  }
  const server = outcome.serverOutTokens === null ? "the server gave no count" : `the server counted ${outcome.serverOutTokens}`;
  const short = result.outTokens < askedTokens ? pc.yellow(" (short)") : "";
  lines.push(`  output tokens  ${result.outTokens} of ${askedTokens} asked${short}: ${result.streamedTokens} streamed in ${result.events.length} token events; ${server}`);
  lines.push(`  prompt tokens  ${outcome.serverPromptTokens ?? "not reported by the server"}`);
  lines.push(`  finish reason  ${outcome.finishReason ?? "not reported"}`);
  lines.push(`  raw events     ${result.rawEventCount}`);
  lines.push(`  first raw event ${rawLine(result.firstRaw)}`);
  lines.push(`  last raw event  ${rawLine(result.lastRaw)}`);
  return lines.join("\n");
}

function rawLine(event: RawEvent | null): string {
  if (event === null) return "—";
  const raw = event.raw.length > RAW_LIMIT ? `${event.raw.slice(0, RAW_LIMIT)}… (${event.raw.length} chars)` : event.raw;
  return `(+${ms(event.offsetMs)}): ${raw}`;
}
