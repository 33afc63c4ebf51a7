// @fidkd/orchestrator: The iterative reader-to-retriever distillation loop as resumable stages with manifests and typed events.
export {};
