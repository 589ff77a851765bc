/** Why a point stopped early (Ctrl-C, SIGTERM, a lost server): the abort reason the workloads and the commands share. */
export class StopReason extends Error {}
