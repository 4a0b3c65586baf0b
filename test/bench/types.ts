/** One figure of a benchmark, printed next to its reference measured in the same run. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** What the figure is compared with: measured in the same run, on the same machine. */
  reference?: { name: string; value: number; unit: string };
  /** The target the issue sets, in words (e.g. ">= 85 % of the reference"). */
  target?: string;
  /** Whether the target is met, when there is one. */
  ok?: boolean;
}

export type Bench = () => Promise<BenchRow[]>;
