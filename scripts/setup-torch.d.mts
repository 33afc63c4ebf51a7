// Types of setup-torch.mjs for the TypeScript tests that import it.
export interface TorchPython {
  python: string;
  torch: string;
}
export declare function findTorchPython(): TorchPython | null;
export declare const TORCH_INSTALL_HINT: string;
export declare function ensureTorch(options?: { log?: (message: string) => void; quiet?: boolean }): TorchPython;
