import { getText } from "./http.ts";

/** Ready when one of `urls` answers 200 (tried in order); otherwise throws naming what each answered. */
export async function expectHttpOk(urls: URL[], signal: AbortSignal, headers: Record<string, string>, insecure: boolean): Promise<void> {
  const answers: string[] = [];
  for (const url of urls) {
    const answer = await getText(url, signal, headers, insecure);
    if (answer.status === 200) return;
    answers.push(`${url.pathname} answered HTTP ${answer.status}`);
  }
  throw new Error(answers.join(" and "));
}
