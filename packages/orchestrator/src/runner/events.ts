import type { ProgressEvent } from '@fidkd/core';

/** Identifies one stage instance of a run: its name, its iteration (or a label such as 'prepare'), its key. */
export interface StageRef {
  /** Stage name: 'train-reader', 'score', 'train-retriever', 'embed', 'index', 'retrieve', 'evaluate', … */
  stage: string;
  /** Iteration t of the method, or a label for stages outside the loop ('prepare', 'baseline'). */
  iteration: number | string;
  /** Directory of the stage's outputs relative to the run directory, e.g. `iter-1/embed-shard-0-of-4`. */
  key: string;
}

/** Numbers a stage reports (losses, R@k, EM, counts). */
export type Metrics = Record<string, number>;

/**
 * Everything the orchestrator reports while it runs. Consumers (the CLI, tests, loggers) switch on `type`.
 * `progress` wraps the libraries' ProgressEvents with the stage that emitted them.
 */
export type OrchestratorEvent =
  | ({ type: 'stage-start'; inputs: Record<string, string>; resumeFromStep?: number } & StageRef)
  | ({ type: 'stage-skip'; reason: string; metrics: Metrics } & StageRef)
  | ({ type: 'stage-end'; seconds: number; metrics: Metrics; outputs: string[] } & StageRef)
  | ({ type: 'stage-clean'; removed: string[] } & StageRef)
  | ({ type: 'step'; step: number; total?: number; metrics: Metrics } & StageRef)
  | ({ type: 'progress'; event: ProgressEvent } & StageRef)
  | ({ type: 'checkpoint'; step: number; dir: string } & StageRef)
  | { type: 'log'; level: 'info' | 'warn'; message: string; stage?: string; iteration?: number | string };

/** A listener of orchestrator events. */
export type EventListener = (event: OrchestratorEvent) => void;
