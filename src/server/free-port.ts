/** Moved to common/ (configs import it through config/public.ts); kept so existing imports work. */
export { freePort } from "../common/free-port.ts";
