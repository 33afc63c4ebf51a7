// Minimal types for wink-bm25-text-search (used by the tests as the reference BM25; it ships no declarations).
declare module 'wink-bm25-text-search' {
  interface WinkBm25 {
    defineConfig(config: { fldWeights: Record<string, number>; bm25Params?: { k1?: number; b?: number; k?: number } }): boolean;
    definePrepTasks(tasks: ((input: string) => string[])[]): number;
    addDoc(doc: Record<string, string>, id: string): number;
    consolidate(precision?: number): boolean;
    search(text: string, limit?: number): [string, number][];
    getTotalDocs(): number;
  }
  const bm25: () => WinkBm25;
  export default bm25;
}
