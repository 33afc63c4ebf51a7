import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadCheckpoint, readHfConfig, readPytorchCheckpoint, readSafetensors, writeSafetensors, type StateDict } from '../index.js';
import { ORACLE, expectCheckpointError, scratchDir } from './__tests__/helpers.js';

const tmp = scratchDir('fidkd-load-').dir;

describe('every weight file under fixtures/oracle', () => {
  const files = readdirSync(ORACLE, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(ORACLE, d.name)).filter((f) => /\.(safetensors|bin)$/.test(f)).map((f) => join(d.name, f)));

  it('there are several of both kinds', () => {
    expect(files.filter((f) => f.endsWith('.bin')).length).toBeGreaterThanOrEqual(3);
    expect(files.filter((f) => f.endsWith('.safetensors')).length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('%s loads: float32 tensors with consistent shapes', (f) => {
    const file = join(ORACLE, f);
    const sd = f.endsWith('.bin') ? readPytorchCheckpoint(file) : readSafetensors(file);
    expect(sd.size).toBeGreaterThan(0);
    for (const [, t] of sd) {
      expect(t.dtype).toBe('F32');
      expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
      expect(t.shape.length).toBeGreaterThan(0);
    }
  });
});

describe('loadCheckpoint', () => {
  it.each([
    ['t5-relu-tied', 'model.safetensors'],
    ['bert-tiny', 'model.safetensors'],
    ['bert-tiny-prefixed', 'model.safetensors'],
    ['t5-fid-official-names', 'pytorch_model.bin'],
  ])('%s: reads config.json and prefers %s', (name, weights) => {
    const dir = join(ORACLE, name);
    const ckpt = loadCheckpoint(dir);
    expect(ckpt.dir).toBe(dir);
    expect(ckpt.weightsFile).toBe(join(dir, weights));
    expect(ckpt.config).toEqual(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
    expect(ckpt.tensors.size).toBeGreaterThan(10);
  });

  it('falls back to pytorch_model.bin, and works without config.json', () => {
    const dir = join(tmp, 'bin-only');
    mkdirSync(dir);
    copyFileSync(join(ORACLE, 'bert-tiny', 'pytorch_model.bin'), join(dir, 'pytorch_model.bin'));
    const ckpt = loadCheckpoint(dir);
    expect(ckpt.weightsFile).toBe(join(dir, 'pytorch_model.bin'));
    expect(ckpt.config).toEqual({});
    expect([...ckpt.tensors.keys()].sort()).toEqual([...readSafetensors(join(ORACLE, 'bert-tiny', 'model.safetensors')).keys()].sort());
  });

  it('reads a sharded safetensors checkpoint through its index', () => {
    const dir = join(tmp, 'sharded');
    mkdirSync(dir);
    const full = readSafetensors(join(ORACLE, 'bert-tiny', 'model.safetensors'));
    const names = [...full.keys()];
    const shards: [string, StateDict][] = [
      ['model-00001-of-00002.safetensors', new Map(names.slice(0, 5).map((n) => [n, full.get(n)!]))],
      ['model-00002-of-00002.safetensors', new Map(names.slice(5).map((n) => [n, full.get(n)!]))],
    ];
    const weightMap: Record<string, string> = {};
    for (const [file, sd] of shards) {
      writeSafetensors(join(dir, file), sd, { format: 'pt' });
      for (const n of sd.keys()) weightMap[n] = file;
    }
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const ckpt = loadCheckpoint(dir);
    expect(ckpt.weightsFile).toBe(join(dir, 'model.safetensors.index.json'));
    expect([...ckpt.tensors.keys()].sort()).toEqual([...names].sort());
    for (const n of names) expect(Array.from(ckpt.tensors.get(n)!.data as Float32Array)).toEqual(Array.from(full.get(n)!.data as Float32Array));
  });

  it('names what it looked for when there is no weight file', () => {
    const dir = join(tmp, 'empty');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), '{}');
    expectCheckpointError(() => loadCheckpoint(dir), dir, /no weight file found; looked for model\.safetensors, .*pytorch_model\.bin/);
    expectCheckpointError(() => loadCheckpoint(join(tmp, 'missing')), join(tmp, 'missing'), /not a checkpoint directory/);
  });
});

describe('readHfConfig', () => {
  it('parses config.json of a directory or a file path', () => {
    const dir = join(ORACLE, 't5-relu-tied');
    const cfg = readHfConfig(dir);
    expect(cfg.d_model).toBe(32);
    expect(readHfConfig(join(dir, 'config.json'))).toEqual(cfg);
  });

  it('names config.json on bad JSON, non-object JSON or a missing file', () => {
    const dir = join(tmp, 'badcfg');
    mkdirSync(dir);
    const file = join(dir, 'config.json');
    writeFileSync(file, '{"d_model": 32,,}');
    expectCheckpointError(() => readHfConfig(dir), file, /config is not valid JSON/);
    expectCheckpointError(() => loadCheckpoint(dir), file, /config is not valid JSON/);
    writeFileSync(file, '[1, 2]');
    expectCheckpointError(() => readHfConfig(dir), file, /must be a JSON object/);
    rmSync(file);
    expectCheckpointError(() => readHfConfig(dir), file, /cannot read config/);
  });
});
