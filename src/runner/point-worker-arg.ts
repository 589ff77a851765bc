/** argv[2] of a worker process of `sweep --workers` (hidden: not a command anyone types). */
export const POINT_WORKER_ARG = "__point-worker";
