/** Keeps `kb` KiB of the thread's heap for good, and returns x + 1. */
export declare function leaky(input: { x: number; kb: number }): number;
