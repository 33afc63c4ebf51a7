// Retriever benchmark harness: filled by the orchestrator/app issue.
export {};
