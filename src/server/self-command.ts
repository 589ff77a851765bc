/** Moved to common/ (config computes launch commands with it); kept so existing imports work. */
export { isCompiledBinary, llmbenchCommand } from "../common/self-command.ts";
