export interface CpuInput {
  seed: number;
  iterations: number;
}
export declare function tiny(x: number): number;
export declare function cpu(input: CpuInput): number;
