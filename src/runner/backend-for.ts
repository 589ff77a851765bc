import type { Backend } from "../backends/backend.ts";
import { createBackend } from "../backends/registry.ts";
import { readApiKey } from "../common/api-key.ts";
import type { TargetSettings } from "../config/run-settings.ts";

/** What picks and reaches a server, of a point's settings. */
export type BackendSettings = Pick<TargetSettings, "backend" | "baseUrl" | "model" | "apiKeyEnv" | "insecure" | "pplProto" | "thinkTags" | "extraBody" | "headers">;

/**
 * The one place a backend is built from settings (run, sweep, server start/status, probe): the key
 * is read from the environment here and kept nowhere else.
 */
export function backendFor(settings: BackendSettings): Backend {
  return createBackend(settings.backend, {
    baseUrl: settings.baseUrl,
    model: settings.model,
    apiKey: readApiKey(settings.apiKeyEnv),
    insecure: settings.insecure,
    pplProto: settings.pplProto,
    thinkTags: settings.thinkTags,
    extraBody: settings.extraBody ?? null,
    headers: settings.headers ?? {},
  });
}
