import { approximateTokens, outputLength, sseEvent, streamGeneration, type MockContext } from "../generation.ts";
import type { HttpMockProtocol } from "./protocol.ts";
import { readTgiRequest, tgiDetails, tgiError } from "./tgi.ts";

/**
 * amsv2, as the simulator guesses it (its exact format is not public): a TGI-style request; each
 * line `data:{"generated_text": <piece>, "details": null}` with no blank line between events; the
 * last one carries the details. Like TGI, it has no ignore-eos.
 */
async function generateStream(request: Request, context: MockContext): Promise<Response> {
  const tgi = await readTgiRequest(request);
  if (tgi instanceof Response) return tgi;
  const promptTokens = approximateTokens(tgi.inputs);
  const outputTokens = outputLength(context, tgi.inputs, tgi.maxTokens, 0, false);
  const line = (value: unknown) => sseEvent(value, false).slice(0, -1);
  return streamGeneration(context, request, tgi.inputs, outputTokens, {
    tokens(texts, _first, finished) {
      return texts
        .map((text, i) => {
          const last = finished && i === texts.length - 1;
          return line({ generated_text: text, details: last && tgi.details ? tgiDetails(tgi, promptTokens, outputTokens) : null });
        })
        .join("");
    },
    end: () => "",
    error: (message) => line({ error: message, error_type: "generation" }),
  });
}

export const amsv2Protocol: HttpMockProtocol = {
  kind: "http",
  name: "amsv2",
  routes: { "POST /text-generation/generate_stream": generateStream },
  error: tgiError,
};
