/** Moved to common/ (both config and the code it configures throw it); kept so existing imports work. */
export { UsageError } from "../common/usage-error.ts";
